"""Overrides and stress overlays: exact prior transforms, quantile moves, validation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import risk
from risk.errors import InputError
from risk.scenario import load_scenario
from risk.scenario.distributions import Prior
from risk.scenario.overrides import (Scale, Shift, embedded_overlays, load_overlay, move_quantile,
                                     parse_assignment, parse_overlay, transform)

LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
PRIORS = {
    "normal": Prior("normal", {"mean": 1.0, "sd": 0.3}),
    "truncated_normal": Prior("truncated_normal", {"mean": 20.0, "sd": 5.0, "low": 5.0, "high": 40.0}),
    "lognormal": Prior("lognormal", {"mu": 2.0, "sigma": 0.4, "loc": -1.0}),
    "beta": Prior("beta", {"a": 8.1, "b": 1.75, "low": 0.0, "high": 1.0}),
    "gamma": Prior("gamma", {"shape": 2.0, "scale": 1.5, "loc": 0.5}),
    "uniform": Prior("uniform", {"low": 0.05, "high": 0.25}),
    "triangular": Prior("triangular", {"low": 0.2, "mode": 0.3, "high": 0.5}),
    "pert": Prior("pert", {"low": 0.0, "mode": 0.25, "high": 1.5, "lambda": 4.0}),
}


@pytest.mark.parametrize("family", sorted(PRIORS))
@given(factor=st.floats(0.1, 10.0), delta=st.floats(-5.0, 5.0))
@settings(max_examples=25, deadline=None)
def test_transform_is_the_exact_affine_map(family, factor, delta):
    prior = PRIORS[family]
    moved = transform(prior, factor, delta)
    np.testing.assert_allclose(moved.ppf(LEVELS), factor * prior.ppf(LEVELS) + delta, rtol=1e-9, atol=1e-9)


def test_transform_of_fixed_and_discrete():
    assert transform(Prior("fixed", {"value": 2.0}), 3.0, 1.0).params["value"] == 7.0
    discrete = Prior("discrete", {"values": [0.0, 0.5, 1.0], "weights": [0.6, 0.3, 0.1]})
    assert transform(discrete, 1.0, 2.0).params["values"] == [2.0, 2.5, 3.0]


@pytest.mark.parametrize("family", sorted(PRIORS))
@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_moving_one_quantile_hits_it(family, level):
    prior = PRIORS[family]
    current = float(prior.ppf([level])[0])
    low, high = prior.ppf([0.02, 0.98])
    # a tenth of the prior's range, towards its middle: reachable for bounded families too
    target = current + (0.05 if level <= 0.5 else -0.05) * (high - low)
    moved = move_quantile(prior, level, target, key="k", source="test")
    assert moved.family == family
    assert float(moved.ppf([level])[0]) == pytest.approx(target, rel=1e-9, abs=1e-9)


def test_moving_a_quantile_keeps_the_spread():
    lognormal = move_quantile(PRIORS["lognormal"], 0.5, 30.0, key="k", source="t")
    assert lognormal.params["sigma"] == PRIORS["lognormal"].params["sigma"]
    assert lognormal.params["loc"] == PRIORS["lognormal"].params["loc"]
    beta = move_quantile(PRIORS["beta"], 0.5, 0.6, key="k", source="t")
    assert beta.params["a"] + beta.params["b"] == pytest.approx(8.1 + 1.75)
    normal = move_quantile(PRIORS["normal"], 0.5, 2.0, key="k", source="t")
    assert normal.params == {"mean": 2.0, "sd": 0.3}


def test_unreachable_quantile_is_a_clear_error():
    with pytest.raises(InputError, match="support is"):
        move_quantile(PRIORS["beta"], 0.5, 1.5, key="companies.x.utilization", source="--set")
    with pytest.raises(InputError, match="discrete"):
        move_quantile(Prior("discrete", {"values": [0, 1], "weights": [0.5, 0.5]}), 0.5, 0.3, key="k",
                      source="--set")


def test_parse_assignment_reads_toml_values():
    assert parse_assignment("companies.openai.revenue0.p50=30").value == 30
    assert parse_assignment("a.capacity_gw=[1, 2]").value == [1, 2]
    table = parse_assignment('a.revenue0={dist = "normal", mean = 1, sd = 0.1}').value
    assert table == {"dist": "normal", "mean": 1, "sd": 0.1}
    assert parse_assignment("a.kind=owned").value == "owned"
    assert parse_assignment("a.revenue0=1.5", "scale").value == 1.5


@pytest.mark.parametrize("text, op, message", [
    ("no-equals-sign", "set", "KEY=VALUE"),
    ("a.b=", "set", "KEY=VALUE"),
    ("a.b=-2", "scale", "not positive"),
    ("a.b=x", "shift", "a number"),
    ("a.b=[1,", "set", "cannot read"),
])
def test_parse_assignment_rejects(text, op, message):
    with pytest.raises(InputError, match=message):
        parse_assignment(text, op)


def test_overrides_through_load_scenario(small_scenario_file):
    scenario = load_scenario(small_scenario_file, overrides={
        "companies.alpha.revenue0.p50": 12.0,
        "companies.beta.contracts.gpu.capex_per_gw": Scale(1.5),
        "companies.*.contracts.*.ramp_delay": Shift(1.0),
        "horizon": 3,
    })
    alpha, beta = scenario.companies
    assert float(alpha.priors["revenue0"].ppf([0.5])[0]) == pytest.approx(12.0)
    original = load_scenario(small_scenario_file)
    assert float(beta.contracts[0].priors["capex_per_gw"].ppf([0.5])[0]) == pytest.approx(
        1.5 * float(original.companies[1].contracts[0].priors["capex_per_gw"].ppf([0.5])[0]))
    assert alpha.contracts[0].priors["ramp_delay"].params["values"] == [1.0, 1.5, 2.0]
    assert beta.contracts[0].priors["ramp_delay"].params["value"] == 1.0  # the default 0, shifted
    assert scenario.horizon == 3
    assert len(scenario.changes) == 4


def test_two_quantiles_refit_the_prior(small_scenario_file):
    scenario = load_scenario(small_scenario_file, overrides={"companies.alpha.revenue0.p10": 9.0,
                                                             "companies.alpha.revenue0.p90": 15.0})
    prior = scenario.companies[0].priors["revenue0"]
    assert prior.family == "lognormal"
    np.testing.assert_allclose(prior.ppf([0.1, 0.9]), [9.0, 15.0], rtol=1e-9)


@pytest.mark.parametrize("overrides, message", [
    ({"companies.alpha.revnue0": 3}, "did you mean 'revenue0'"),
    ({"companies.gamma.revenue0": 3}, "one of alpha, beta"),
    ({"companies.alpha.revenue0.p50": "abc"}, "expected a number"),
    ({"companies.alpha.utilization": Scale(1.5)}, "outside its domain"),
    ({"companies.*.contracts.*.capexx": Scale(2)}, "matches nothing"),
    ({"horizon": "ten"}, "expected int"),
    ({"companies.alpha.revenue0.sigmaa": 0.1}, "did you mean 'sigma'"),
    ({"companies.alpha.revenue0.dist": "normal"}, "set the whole prior"),
    ({"companies.alpha.revenue0.p5": 9, "companies.alpha.revenue0.p50": 10,
      "companies.alpha.revenue0.p95": 12}, "3 different quantiles"),
])
def test_bad_overrides_name_the_override(small_scenario_file, overrides, message):
    with pytest.raises(InputError, match=message) as info:
        load_scenario(small_scenario_file, overrides=overrides)
    assert "overrides[" in str(info.value)


@pytest.mark.parametrize("name", embedded_overlays())
@pytest.mark.parametrize("scenario", ["default", "article-2025"])
def test_shipped_overlays_apply_and_change_something(name, scenario):
    overlay = load_overlay(name)
    assert len(overlay.description.split()) >= 25  # a narrative, not a label
    stressed = load_scenario(scenario, stress=name)
    assert stressed.changes[0] == f"stress {name}"
    # an overlay that sets a key a judgement entry sets drops that entry (the overlay's value stands)
    assert all("judgement on" in change and "dropped" in change for change in stressed.changes[1:])
    plain = load_scenario(scenario)
    assert [p for _, p in stressed.priors()] != [p for _, p in plain.priors()]


def test_the_required_overlays_are_shipped():
    required = {"demand-plateau", "capex-overrun", "utilization-slump", "power-price-spike", "ramp-slip",
                "price-war", "rate-shock", "bear", "upside-newer-chips", "upside-discounts", "upside-openai-plan"}
    assert required <= set(risk.stress_overlays())


@pytest.mark.parametrize("name", ["upside-newer-chips", "upside-discounts", "upside-openai-plan"])
def test_upside_overlays_lower_the_shortfall_they_address(name):
    # paired runs (same seed, inputs matched by name)
    base = risk.simulate("default", draws=20_000, seed=4)
    up = risk.simulate("default", draws=20_000, seed=4, stress=name)
    if name == "upside-openai-plan":
        # more demand: more revenue every year and more money raised, so fewer defaults (coverage
        # itself may not rise: management then cancels less of the non-binding capacity)
        for year, row in up["openai"].years.items():
            assert row["revenue_mean"] >= base["openai"].years[year]["revenue_mean"]
        assert up["openai"].p_default["p"] < base["openai"].p_default["p"]
        return
    for company in ("anthropic", "openai"):
        assert up[company].p_shortfall["p"] < base[company].p_shortfall["p"]
        assert up[company].coverage_quantiles["50"] > base[company].coverage_quantiles["50"]


def test_ramp_slip_shifts_every_delay():
    plain, slipped = load_scenario("default"), load_scenario("default", stress="ramp-slip")
    for before, after in zip(plain.companies, slipped.companies):
        for k0, k1 in zip(before.contracts, after.contracts):
            assert k1.priors["ramp_delay"].mean() == pytest.approx(k0.priors["ramp_delay"].mean() + 2.0)


@pytest.mark.parametrize("text, message", [
    (b'name = "x"\ndescription = "d"\n', "changes nothing"),
    (b'description = "a"\nfoo = 1\n[scale]\n"a" = 2\n', "unknown key 'foo'"),
    (b'description = ""\n[scale]\n"a" = 2\n', "non-empty"),
    (b'description = "d"\n[scale]\n"a" = 0\n', "not positive"),
    (b'description = "d"\nscale = 3\n', "expected a table"),
])
def test_overlay_files_are_validated(text, message):
    with pytest.raises(InputError, match=message):
        parse_overlay(text, source="bad.toml")


def test_unknown_overlay_suggests_a_name():
    with pytest.raises(InputError, match="did you mean 'price-war'"):
        load_scenario("default", stress="price-wars")


def test_simulate_records_changes_in_provenance(small_scenario_file):
    result = risk.simulate(small_scenario_file, draws=2000, seed=1,
                           overrides={"companies.alpha.revenue0.p50": 11.0})
    assert result.to_dict()["changes"] == ["set companies.alpha.revenue0.p50 = 11.0"]
    assert math.isfinite(result["alpha"].p_shortfall["p"])


def test_a_misspelt_key_in_an_overlay_is_an_error_not_a_no_op(tmp_path, small_scenario_file):
    overlay = tmp_path / "mine.toml"
    overlay.write_text('description = "a misspelt key"\n[scale]\n"companies.*.revenue" = 1.2\n')
    with pytest.raises(InputError, match="did you mean 'revenue0'") as info:
        load_scenario(small_scenario_file, stress=str(overlay))
    assert "mine.toml" in str(info.value)
    # a pattern whose keys exist but that this scenario lacks stays a no-op (a lease-only lab has no capex)
    fine = tmp_path / "fine.toml"
    fine.write_text('description = "keys that exist"\n[scale]\n"companies.*.contracts.*.capex_per_gw" = 1.2\n'
                    '"companies.alpha.contracts.*.capex_per_gw" = 1.1\n')
    assert load_scenario(small_scenario_file, stress=str(fine)).changes == ("stress fine",)


def test_a_loaded_scenario_is_changed_without_parsing_its_priors_again(small_scenario_file, monkeypatch):
    from risk.scenario import distributions
    from risk.scenario.schema import with_changes

    loaded = load_scenario(small_scenario_file)
    changes = {"companies.alpha.revenue0.p50": 12.0, "companies.*.contracts.*.capex_per_gw": Scale(1.3),
               "companies.beta.growth_initial": Shift(0.1), "horizon": 3}
    parsed = []
    real = distributions._from_quantiles

    def counting(family, given, quantiles, key, source, text):
        parsed.append(key)
        return real(family, given, quantiles, key, source, text)

    monkeypatch.setattr(distributions, "_from_quantiles", counting)
    changed = with_changes(loaded, overrides=changes)
    # the file's priors given by quantiles (revenue0, ...) were parsed at load; a change transforms the Prior
    assert parsed == []
    # and the object takes the same changes as its file, to the last bit
    monkeypatch.undo()
    through_file = load_scenario(small_scenario_file, overrides=changes)
    assert list(changed.priors()) == list(through_file.priors())
    assert changed.horizon == through_file.horizon == 3
    assert changed.changes == through_file.changes
    # a change on a change composes: a second scale multiplies the first
    twice = with_changes(changed, overrides={"companies.*.contracts.*.capex_per_gw": Scale(2.0)})
    before = dict(changed.priors())
    for path, prior in twice.priors():
        if path.endswith("capex_per_gw"):
            np.testing.assert_allclose(prior.ppf(LEVELS), 2.0 * before[path].ppf(LEVELS), rtol=1e-12)
