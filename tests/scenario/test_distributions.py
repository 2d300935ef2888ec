"""Prior families: quantile conversion is exact; sampling matches scipy.stats."""

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from risk.errors import InputError
from risk.kernels.rng import draw_state, next_normal, seed_key
from risk.kernels.sampling import fill_fixed, sample_values
from risk.scenario.compile import build_table, discrete_row
from risk.scenario.distributions import parse_prior
from risk.kernels import sampling as s

QUANTILE_SPECS = [
    {"dist": "normal", "p5": 1.0, "p95": 3.0},
    {"dist": "lognormal", "p10": 8.0, "p90": 18.0},
    {"dist": "lognormal", "loc": -1.0, "p5": 0.2, "p95": 2.5},
    {"dist": "truncated_normal", "low": 0.0, "high": 10.0, "p5": 1.0, "p95": 6.0},
    {"dist": "beta", "p5": 0.35, "p95": 0.9},
    {"dist": "beta", "low": 0.0, "high": 2.0, "p5": 0.6, "p95": 1.1},
    {"dist": "gamma", "p5": 1.0, "p95": 4.0},
    {"dist": "uniform", "p25": 2.0, "p75": 4.0},
    {"dist": "triangular", "mode": 0.3, "p5": 0.2, "p95": 0.5},
    {"dist": "pert", "mode": 0.25, "p10": 0.1, "p90": 0.8},
]


@pytest.mark.parametrize("raw", QUANTILE_SPECS, ids=lambda r: r["dist"])
def test_quantile_specified_priors_hit_their_quantiles(raw):
    prior = parse_prior(raw, key="x", source="test")
    for p, q in prior.quantiles.items():
        assert float(prior.ppf([p])[0]) == pytest.approx(q, rel=1e-8, abs=1e-10)


def _draw_many(n, seed, spec, tables, order, family_start):
    values = np.empty((1, 8))
    fill_fixed(values, spec)
    return _sample_many(n, seed, spec, tables, order, family_start, values)


@njit
def _sample_many(n, seed, spec, tables, order, family_start, values):
    key = seed_key(seed)
    out = np.empty(n)
    lanes = values.shape[1]
    z = np.empty((1, lanes))
    for first in range(0, n, lanes):
        for lane in range(lanes):
            z[0, lane], _ = next_normal(draw_state(key, first + lane))
        sample_values(z, values, spec, tables, order, family_start)
        for lane in range(min(lanes, n - first)):
            out[first + lane] = values[0, lane]
    return out


def _compile_one(prior):
    spec = np.zeros((1, s.SPEC_COLUMNS))
    tables = np.zeros((1, s.TABLE_POINTS))
    p = prior.params
    if prior.family == "normal":
        spec[0, :5] = s.FAMILY_NORMAL, p["mean"], p["sd"], -np.inf, np.inf
        group = 0
    elif prior.family == "lognormal":
        spec[0, :4] = s.FAMILY_LOGNORMAL, p["mu"], p["sigma"], p["loc"]
        group = 1
    elif prior.family == "discrete":
        row = discrete_row(prior)
        tables[0, :len(row)] = row
        spec[0, s.SPEC_FAMILY], spec[0, s.SPEC_P0] = s.FAMILY_DISCRETE, len(p["values"])
        group = 3
    else:
        tables[0] = build_table(prior)
        spec[0, s.SPEC_FAMILY] = s.FAMILY_TABLE
        group = 2
    family_start = np.array([0, 0, 0, 0, 0], dtype=np.int64)
    family_start[group + 1:] = 1
    return spec, tables, np.zeros(1, dtype=np.int64), family_start


FAMILY_CASES = [
    {"dist": "normal", "mean": 2.0, "sd": 0.5},
    {"dist": "lognormal", "mu": 1.0, "sigma": 0.4},
    {"dist": "truncated_normal", "mean": 20, "sd": 5, "low": 5, "high": 40},
    {"dist": "beta", "a": 8.1, "b": 1.75},
    {"dist": "beta", "a": 2.0, "b": 30.0},
    {"dist": "gamma", "shape": 2.0, "scale": 1.5},
    {"dist": "uniform", "low": 0.05, "high": 0.25},
    {"dist": "triangular", "low": 0.2, "mode": 0.3, "high": 0.5},
    {"dist": "pert", "low": 0.0, "mode": 0.25, "high": 1.5},
]


@pytest.mark.parametrize("raw", FAMILY_CASES, ids=lambda r: r["dist"])
def test_sampled_family_matches_scipy(raw):
    n = 200_000
    prior = parse_prior(raw, key="x", source="test")
    sample = _draw_many(n, 7, *_compile_one(prior))
    dist = prior.frozen()
    # mean within 4 standard errors
    assert abs(sample.mean() - dist.mean()) < 4 * dist.std() / math.sqrt(n)
    # variance within 4 standard errors (sd of the sample variance ~ sqrt((m4 - s^4) / n))
    m4 = dist.moment(4) - 4 * dist.mean() * dist.moment(3) + 6 * dist.mean() ** 2 * dist.moment(2) - 3 * dist.mean() ** 4
    assert abs(sample.var() - dist.var()) < 4 * math.sqrt(max(m4 - dist.var() ** 2, 0) / n)
    # quantiles: the empirical CDF at the true quantiles within 4 binomial sigma
    for p in (0.05, 0.25, 0.5, 0.75, 0.95):
        share = np.mean(sample <= dist.ppf(p))
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n)
    # whole distribution: KS test at a fixed seed
    assert stats.kstest(sample, dist.cdf).pvalue > 1e-4


def test_discrete_sampling_matches_weights():
    n = 200_000
    prior = parse_prior({"dist": "discrete", "values": [0, 0.5, 1], "weights": [0.6, 0.3, 0.1]},
                        key="x", source="test")
    sample = _draw_many(n, 3, *_compile_one(prior))
    for value, weight in zip([0, 0.5, 1], [0.6, 0.3, 0.1]):
        assert abs(np.mean(sample == value) - weight) < 4 * math.sqrt(weight * (1 - weight) / n)


@pytest.mark.parametrize("raw, match", [
    ({"dist": "normal", "mean": 1.0, "sd": 0.0}, "sd"),
    ({"dist": "lognormal", "mu": 1.0, "sigma": -1.0}, "sigma"),
    ({"dist": "beta", "a": 0.0, "b": 1.0}, "parameter a"),
    ({"dist": "gamma", "shape": -1.0, "scale": 1.0}, "parameter shape"),
    ({"dist": "normal", "p5": 3.0, "p95": 1.0}, "out of order"),
    ({"dist": "normal", "p5": 1.0}, "exactly two"),
    ({"dist": "normal", "p0": 1.0, "p95": 2.0}, "percentile"),
    ({"dist": "uniform", "low": 2.0, "high": 1.0}, "low"),
    ({"dist": "triangular", "low": 0.0, "mode": 2.0, "high": 1.0}, "mode"),
    ({"dist": "discrete", "values": [0, 1], "weights": [0.5, 0.6]}, "sum"),
    ({"dist": "discrete", "values": [0, 1], "weights": [1.5, -0.5]}, r"\[0, 1\]"),
    ({"dist": "normal", "mean": float("nan"), "sd": 1.0}, "finite"),
    ({"dist": "normall", "mean": 1.0, "sd": 1.0}, "did you mean 'normal'"),
    ({"dist": "normal", "mean": 1.0, "sdd": 1.0}, "did you mean 'sd'"),
    ({"dist": "beta", "p5": 0.5, "p95": 1.5}, "no beta"),
    ({"dist": "normal", "mean": "1", "sd": 1.0}, "expected a finite number"),
])
def test_bad_priors_are_rejected_with_the_key(raw, match):
    with pytest.raises(InputError, match=match) as info:
        parse_prior(raw, key="companies.x.revenue0", source="file.toml")
    assert "file.toml" in str(info.value) and "companies.x.revenue0" in str(info.value)


@pytest.mark.parametrize("raw", [
    {"dist": "normal", "mean": 3.0, "sd": 0.7},
    {"dist": "lognormal", "mu": 1.2, "sigma": 0.4, "loc": 0.5},
    {"dist": "beta", "a": 2.5, "b": 7.0, "low": 0.1, "high": 0.9},
    {"dist": "gamma", "shape": 3.3, "scale": 2.0},
    {"dist": "uniform", "low": -1.0, "high": 4.0},
    {"dist": "pert", "low": 1.0, "mode": 2.0, "high": 5.0},
])
def test_the_fast_quantiles_equal_scipy_stats_bit_for_bit(raw):
    # Prior.ppf and .isf go through scipy.special for these families (no scipy.stats import, 20x less per call):
    # the numbers must be scipy.stats' own, bounds and out-of-range included
    prior = parse_prior(dict(raw), key="x", source="test")
    q = np.concatenate([np.random.default_rng(3).uniform(0, 1, 5000), [0.0, 1.0, 1e-12, 1 - 1e-12, -0.1, 1.1]])
    assert np.array_equal(prior.ppf(q), prior.frozen().ppf(q), equal_nan=True)
    assert np.array_equal(prior.isf(q), prior.frozen().isf(q), equal_nan=True)
    assert prior.ppf(0.3) == prior.frozen().ppf(0.3) and prior.isf(0.3) == prior.frozen().isf(0.3)


def test_ranks_and_rank_correlation_equal_scipy():
    from risk.judgement import _ranks, drivers

    rng = np.random.default_rng(2)
    for _ in range(50):
        x = rng.integers(0, 20, 64) / 7.0  # ties
        y = rng.normal(size=64)
        assert np.array_equal(_ranks(x), stats.rankdata(x))
        found = drivers(y, {"x": x}, None, [])
        assert found[0]["rank_correlation"] == float(stats.spearmanr(x, y).statistic)
