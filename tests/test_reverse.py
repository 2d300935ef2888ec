"""Reverse stress: the root search finds a known root and says when there is none."""

import json
import math
from statistics import NormalDist

import pytest

import risk
from risk import engine
from risk.errors import InputError
from risk.scenario.compile import compile_scenario


def test_breakeven_finds_the_closed_form_root(degenerate):
    # coverage = revenue0 * (1 - 0.5) / 4: shortfall when revenue0 < 8, revenue0 ~ lognormal(ln 10, 0.3)
    path = degenerate(revenue0='{ dist = "lognormal", mu = 2.302585092994046, sigma = 0.3 }', cost=4.0, opex=0.5)
    found = risk.breakeven(path, prior="companies.solo.revenue0", target=0.1, draws=100_000, seed=11)
    exact = 8.0 * math.exp(-0.3 * NormalDist().inv_cdf(0.1))  # median at which P(revenue0 < 8) = 0.1
    assert found.reachable and found.entity == "solo"
    assert found.current_value == pytest.approx(10.0)
    assert abs(found.value - exact) <= 4 * found.value_se
    assert found.value_ci95[0] < found.value < found.value_ci95[1]
    assert found.shift == pytest.approx(found.value - 10.0)
    assert abs(found.p_shortfall_at_value - 0.1) <= 4 * math.sqrt(0.09 / 100_000)
    payload = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    assert payload["schema"] == "risk.breakeven/1"


def test_breakeven_reports_an_unreachable_target(degenerate):
    # coverage does not depend on the discount rate when every year is the same
    path = degenerate(revenue0='{ dist = "lognormal", mu = 2.302585092994046, sigma = 0.3 }', cost=4.0, opex=0.5,
                      discount='{ dist = "normal", mean = 0.1, sd = 0.01 }')
    found = risk.breakeven(path, prior="discount_rate", target=0.5, draws=5_000, seed=1)
    assert not found.reachable and "only ranges over" in found.message
    assert math.isnan(found.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"prior": "companies.solo.revenu0", "target": 0.1}, "did you mean"),
    ({"prior": "companies.solo.revenue0", "target": 1.2}, "strictly between"),
    ({"prior": "companies.solo.opex_ratio_initial", "target": 0.1}, "fixed prior"),
    ({"prior": "companies.solo.revenue0", "target": 0.1, "percentile": 0}, "percentile"),
])
def test_breakeven_rejects_bad_requests(degenerate, kwargs, message):
    path = degenerate(revenue0='{ dist = "lognormal", mu = 2.3, sigma = 0.3 }', cost=4.0, opex=0.5)
    with pytest.raises(InputError, match=message):
        risk.breakeven(path, draws=1000, seed=1, **kwargs)


def test_a_loaded_scenario_takes_overrides_and_breakeven_like_its_file(small_scenario_file):
    from risk.reverse import moved_model

    scenario = risk.load_scenario(small_scenario_file)
    change = {"companies.alpha.revenue0.p50": 11.0}
    by_object = risk.simulate(scenario, draws=3000, seed=2, overrides=change).to_dict()
    by_file = risk.simulate(small_scenario_file, draws=3000, seed=2, overrides=change).to_dict()
    for payload in (by_object, by_file):
        payload.pop("provenance")
    assert by_object == by_file
    # breakeven recompiles only the moved prior: the same draws as a full compile of the moved scenario
    moved = risk.load_scenario(small_scenario_file, overrides={"companies.alpha.growth_initial.p50": 0.9})
    compiled = compile_scenario(scenario)
    fast = engine.run(moved_model(scenario, compiled, moved), draws=4000, seed=3, threads=1)
    full = engine.run(compile_scenario(moved, use_cache=False), draws=4000, seed=3, threads=1)
    assert (fast.counts == full.counts).all() and (fast.hists == full.hists).all()
    options = dict(prior="companies.alpha.growth_initial", target=0.9, draws=4000, seed=1)
    assert risk.breakeven(scenario, **options).evaluations == risk.breakeven(small_scenario_file, **options).evaluations
