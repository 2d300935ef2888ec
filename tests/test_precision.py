"""Precision on demand: adaptive rounds, antithetic pairs and randomised QMC, with honest errors."""

import math
from statistics import NormalDist

import pytest

import risk
from risk.errors import InputError

LOGNORMAL = '{ dist = "lognormal", mu = 2.302585092994046, sigma = 0.3 }'
# coverage = revenue0 * 0.5 / 4 < 1  <=>  revenue0 < 8
EXACT = NormalDist().cdf((math.log(8.0) - math.log(10.0)) / 0.3)


def _comparable(result):
    payload = result.to_dict()
    for key in ("provenance", "stopping"):
        payload.pop(key)
    return payload


def test_rounds_meet_the_target_and_equal_a_single_run(small_scenario_file):
    result = risk.simulate(small_scenario_file, draws=2000, seed=9, target_mcse=0.004, chunk_size=128)
    assert result.stopping["met"] and result.stopping["rounds"] > 1
    for stats in result.entities.values():
        assert stats.p_shortfall["mcse"] <= 0.004 and stats.p_distress["mcse"] <= 0.004
    once = risk.simulate(small_scenario_file, draws=result.draws, seed=9, chunk_size=128)
    assert _comparable(result) == _comparable(once)  # bit-identical, float sums included


def test_max_draws_is_reported_when_the_target_is_out_of_reach(small_scenario_file):
    result = risk.simulate(small_scenario_file, draws=1000, seed=1, target_rel_err=0.001, max_draws=5000,
                           chunk_size=512)
    assert result.draws == 5000
    assert not result.stopping["met"] and result.stopping["max_draws_hit"]
    assert "target_rel_err" in result.stopping["limiting"]


def test_antithetic_rounds_resume_exactly(small_scenario_file):
    kwargs = dict(seed=3, sampler="antithetic", chunk_size=128)
    result = risk.simulate(small_scenario_file, draws=2048, target_mcse=0.005, **kwargs)
    assert result.stopping["met"]
    assert _comparable(result) == _comparable(risk.simulate(small_scenario_file, draws=result.draws, **kwargs))


@pytest.mark.parametrize("sampler, draws", [("antithetic", 4096), ("rqmc", 4096)])
def test_intervals_cover_the_truth_at_about_the_nominal_rate(degenerate, sampler, draws):
    path = degenerate(revenue0=LOGNORMAL, cost=4.0, opex=0.5)
    trials = 40
    covered = 0
    for seed in range(trials):
        low, high = risk.simulate(path, draws=draws, seed=1000 + seed, sampler=sampler)["solo"].p_shortfall["ci95"]
        covered += low <= EXACT <= high
    # 95 % nominal; 4 binomial standard errors below it over 40 trials
    assert covered / trials >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / trials)


def test_samplers_reduce_the_variance_on_a_monotone_model(degenerate):
    path = degenerate(revenue0=LOGNORMAL, cost=4.0, opex=0.5)
    mc = risk.simulate(path, draws=65536, seed=5)["solo"]
    for sampler in ("antithetic", "rqmc"):
        other = risk.simulate(path, draws=65536, seed=5, sampler=sampler)["solo"]
        assert abs(other.p_shortfall["p"] - EXACT) <= 4 * other.p_shortfall["mcse"]
        assert other.funding_gap_mean_mcse < mc.funding_gap_mean_mcse


def test_rqmc_is_reproducible_and_thread_independent(small_scenario_file):
    one = risk.simulate(small_scenario_file, draws=1000, seed=2, sampler="rqmc", threads=1)
    two = risk.simulate(small_scenario_file, draws=1000, seed=2, sampler="rqmc", threads=2)
    assert one.draws == 1024  # 16 replicates of 2**6 points
    assert _comparable(one) == _comparable(two)


@pytest.mark.parametrize("kwargs, message", [
    ({"sampler": "sobol"}, "unknown sampler"),
    ({"replicates": 2, "sampler": "rqmc"}, "replicates"),
    ({"target_mcse": 0}, "target mcse"),
    ({"target_rel_err": 1.5}, "target rel err"),
    ({"max_draws": 0, "target_mcse": 0.01}, "max_draws"),
    ({"max_draws": 500, "target_mcse": 0.01}, "below draws"),
    ({"keep": 10, "sampler": "rqmc"}, "not available with rqmc"),
    ({"by_provider": True, "sampler": "antithetic"}, "plain Monte Carlo"),
    ({"calibrations": 4}, "calibrations"),
])
def test_bad_precision_options(small_scenario_file, kwargs, message):
    with pytest.raises(InputError, match=message):
        risk.simulate(small_scenario_file, draws=1000, seed=1, **kwargs)
