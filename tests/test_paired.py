"""Paired comparisons: common random numbers, honest paired errors, variance reduction."""

import math

import numpy as np
import pytest

import risk
from risk.errors import InputError
from risk.paired import GROUPS
from risk.result import batch_se


def test_batch_se_is_s_over_root_g_for_equal_batches():
    values = np.random.default_rng(1).normal(size=GROUPS)
    weights = np.full(GROUPS, 1.0 / GROUPS)
    assert batch_se(values, weights) == pytest.approx(values.std(ddof=1) / math.sqrt(GROUPS))


def test_identical_sides_differ_by_exactly_zero(small_scenario_file):
    comparison = risk.compare(small_scenario_file, small_scenario_file, draws=6400, seed=4)
    for d in comparison.differences:
        assert d.difference == 0.0 and d.se == 0.0 and not d.distinguishable


def test_side_a_is_the_plain_run(small_scenario_file):
    comparison = risk.compare(small_scenario_file, small_scenario_file, draws=6400, seed=4,
                              overrides_b={"companies.alpha.revenue0": risk.Scale(1.2)})
    plain = risk.simulate(small_scenario_file, draws=6400, seed=4)
    for name in ("alpha", "beta", "sector"):
        # counts merge exactly, whatever the chunking: the same draws give the same probabilities
        assert comparison.a[name].p_shortfall["p"] == plain[name].p_shortfall["p"]
        assert comparison.a[name].coverage_quantiles == plain[name].coverage_quantiles


def test_pairing_reduces_the_error_of_a_difference(small_scenario_file):
    comparison = risk.compare(small_scenario_file, small_scenario_file, draws=64_000, seed=7,
                              overrides_b={"companies.alpha.contracts.tpu.lease_per_gw_year": risk.Scale(1.1)})
    gap = comparison["alpha", "funding_gap_mean"]
    shortfall = comparison["alpha", "p_shortfall"]
    assert gap.se < gap.se_unpaired and gap.variance_reduction > 4
    assert shortfall.se < shortfall.se_unpaired
    # dearer leases can only widen the gap, draw by draw
    assert gap.difference > 0 and gap.distinguishable
    # beta's draws do not involve alpha's lease: paired, its difference is exactly zero
    assert comparison["beta", "p_shortfall"].difference == 0.0
    assert comparison["beta", "funding_gap_mean"].se == 0.0


def test_streams_are_paired_by_name_across_structures(small_scenario_text, tmp_path):
    # B drops company beta: alpha's inputs keep their names, hence their random numbers
    head, rest = small_scenario_text.split("[companies.beta]")
    alone = head + "[correlation]" + rest.split("[correlation]")[1]
    path_a, path_b = tmp_path / "a.toml", tmp_path / "b.toml"
    path_a.write_text(small_scenario_text)
    path_b.write_text(alone)
    comparison = risk.compare(path_a, path_b, draws=6400, seed=2)
    assert [d.entity for d in comparison.differences][::4] == ["alpha", "sector"]
    for metric in ("p_shortfall", "p_distress", "funding_gap_mean", "coverage_median"):
        assert comparison["alpha", metric].difference == 0.0


@pytest.mark.slow
def test_paired_error_matches_the_spread_over_seeds(small_scenario_file):
    # The batch-means error should describe how the difference varies from seed to seed.
    overrides = {"companies.alpha.contracts.tpu.lease_per_gw_year": risk.Scale(1.05)}
    differences, errors = [], []
    for seed in range(16):
        d = risk.compare(small_scenario_file, small_scenario_file, draws=6400, seed=100 + seed,
                         overrides_b=overrides)["alpha", "funding_gap_mean"]
        differences.append(d.difference)
        errors.append(d.se)
    ratio = np.std(differences, ddof=1) / np.sqrt(np.mean(np.square(errors)))
    # an s.d. from 16 values has a relative error of about 1 / sqrt(2 * (16 - 1)) = 0.18: 4 sigma each way
    tolerance = 4 * 0.18
    assert abs(ratio - 1) < tolerance, (ratio, tolerance)


def test_too_few_draws_is_an_input_error(small_scenario_file):
    with pytest.raises(InputError, match="too few"):
        risk.compare(small_scenario_file, small_scenario_file, draws=1000, seed=1)


def test_comparison_is_json_ready(small_scenario_file):
    import json

    comparison = risk.compare(small_scenario_file, small_scenario_file, draws=3200, seed=1,
                              stress_b="rate-shock")
    payload = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert payload["schema"] == "risk.comparison/1"
    assert payload["b"].endswith("stress rate-shock")
    assert set(payload["differences"]["sector"]) == {"p_shortfall", "p_distress", "funding_gap_mean",
                                                     "coverage_median"}
    assert "P(shortfall)" in repr(comparison)


def test_many_overlays_against_one_base_equal_separate_comparisons(small_scenario_file):
    from risk.paired import compare_stresses

    together = compare_stresses(small_scenario_file, ["bear", "rate-shock"], draws=6400, seed=5)
    for overlay, comparison in together.items():
        alone = risk.compare(small_scenario_file, small_scenario_file, stress_b=overlay, draws=6400, seed=5)
        assert [d.to_dict() for d in comparison.differences] == [d.to_dict() for d in alone.differences]
        assert comparison.b.to_dict()["sector"] == alone.b.to_dict()["sector"]
