"""The two-level run (``risk.judgement``): judgement band, two-level error, common random numbers."""

import math

import numpy as np
import pytest
from scipy import stats

import risk
from risk.errors import InputError

JUDGED = '''
[judgement]
"companies.alpha.revenue_per_gw.p50" = { dist = "normal", p5 = 7, p95 = 13, source = "test" }
"companies.*.contracts.*.lease_per_gw_year" = { op = "scale", dist = "lognormal", p5 = 0.8, p95 = 1.25, source = "t" }
"companies.beta.price_decline" = { op = "shift", dist = "normal", p5 = -0.05, p95 = 0.05, source = "test" }

[judgement.views.calm]
weight = 2
source = "test"
set = { "funding_market.p_reopen" = 0.7 }

[judgement.views.storm]
weight = 1
source = "test"
set = { "funding_market.p_reopen" = 0.3 }
'''

NOTHING = '''
[judgement.views.same]
weight = 1
source = "a view that changes nothing"
set = { "companies.alpha.cash0" = 10 }

[judgement.views.also_same]
weight = 1
source = "a view that changes nothing"
set = { "companies.beta.cash0" = 20 }
'''


@pytest.fixture
def judged(tmp_path, small_scenario_text):
    path = tmp_path / "judged.toml"
    path.write_text(small_scenario_text + JUDGED)
    return path


def test_a_judgement_that_changes_nothing_gives_the_one_level_result(tmp_path, small_scenario_text):
    path = tmp_path / "same.toml"
    path.write_text(small_scenario_text + NOTHING)
    two = risk.simulate(path, draws=16 * 3000, seed=5, calibrations=16)
    one = risk.simulate(path, draws=3000, seed=5, judgement=False)
    assert two.judgement["calibrations"] == 16 and two.judgement["draws_per_calibration"] == 3000
    for name in one.entities:
        per_calibration = two.judgement["entities"][name]["p_shortfall"]
        assert (per_calibration == one[name].p_shortfall["p"]).all()  # bit-identical P_j (CRN)
        assert two[name].p_shortfall["p"] == one[name].p_shortfall["p"]
        assert two[name].p_default["p"] == one[name].p_default["p"]
        assert two[name].coverage_quantiles == one[name].coverage_quantiles
        assert two[name].judgement_share == 0.0
        band = two[name].p_shortfall_judgement
        assert band["5"] == band["95"] == one[name].p_shortfall["p"]


def test_without_judgement_the_result_has_no_band(small_scenario_file):
    result = risk.simulate(small_scenario_file, draws=2000, seed=1)
    assert result.judgement is None and result.to_dict()["judgement"] is None
    assert result["alpha"].p_shortfall_judgement is None


def test_no_judgement_runs_the_central_calibration(judged, small_scenario_file):
    central = risk.simulate(judged, draws=5000, seed=3, judgement=False).to_dict()
    plain = risk.simulate(small_scenario_file, draws=5000, seed=3).to_dict()
    for payload in (central, plain):
        payload.pop("provenance"), payload.pop("scenario")
    assert central["companies"] == plain["companies"]


@pytest.mark.slow
def test_two_level_error_agrees_with_the_spread_across_seeds(judged):
    seeds = range(40)
    found = {name: ([], []) for name in ("alpha", "beta")}
    for seed in seeds:
        result = risk.simulate(judged, draws=16 * 1500, seed=seed, calibrations=16, threads=1)
        for name, (values, errors) in found.items():
            values.append(result[name].p_shortfall["p"])
            errors.append(result[name].p_shortfall["mcse"])
    for name, (values, errors) in found.items():
        values, errors = np.array(values), np.array(errors)
        statistic = ((values - values.mean()) ** 2).sum() / np.mean(errors ** 2)
        dof = len(values) - 1
        # two-sided at 0.1 %: too small means an inflated error, too large an optimistic one
        assert stats.chi2.ppf(0.0005, dof) < statistic < stats.chi2.ppf(0.9995, dof), (name, statistic)


@pytest.mark.slow
def test_band_matches_the_closed_form_per_calibration(degenerate):
    # lognormal revenue0 with sigma 0.2, a normal hyper-prior on its median: P_j = Phi((ln(I/(1-o)) - ln m_j) / sigma)
    path = degenerate(revenue0=f'{{ dist = "lognormal", mu = {math.log(20)}, sigma = 0.2 }}', cost=10.0, opex=0.5)
    path.write_text(path.read_text() + '\n[judgement]\n'
                    '"companies.solo.revenue0.p50" = { dist = "normal", p5 = 17, p95 = 23, source = "t" }\n')
    m, n = 64, 4000
    result = risk.simulate(path, draws=m * n, seed=9, calibrations=m)
    medians = np.array(result.judgement["values"]["companies.solo.revenue0.p50"])
    expected = stats.norm.cdf((math.log(10.0 / 0.5) - np.log(medians)) / 0.2)
    found = np.array(result.judgement["entities"]["solo"]["p_shortfall"])
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(found - expected) < 4.5 * se + 1e-12)
    band = result["solo"].p_shortfall_judgement
    for key, q in (("5", 0.05), ("50", 0.5), ("95", 0.95)):
        assert abs(band[key] - np.quantile(expected, q)) < 4 * math.sqrt(0.25 / n)
    mixture = result["solo"].p_shortfall
    assert abs(mixture["p"] - expected.mean()) < 4 * mixture["mcse"]


def test_judged_runs_are_the_same_on_any_thread_count(judged):
    one = risk.simulate(judged, draws=16 * 2000, seed=4, calibrations=16, threads=1).to_dict()
    two = risk.simulate(judged, draws=16 * 2000, seed=4, calibrations=16, threads=2).to_dict()
    one.pop("provenance"), two.pop("provenance")
    assert one == two


def test_drivers_rank_the_entry_that_moves_the_probability(judged):
    result = risk.simulate(judged, draws=64 * 1000, seed=2)
    drivers = result.judgement["entities"]["alpha"]["drivers"]
    names = [row["entry"] for row in drivers]
    # beta's price decline cannot move alpha's shortfall: it ranks below alpha's own revenue per GW
    assert names.index("companies.alpha.revenue_per_gw.p50") < names.index("companies.beta.price_decline")
    assert drivers[0]["share"] == pytest.approx(drivers[0]["rank_correlation"] ** 2)


@pytest.mark.parametrize("entry, message", [
    ('"companies.*.revenu0.p50" = { dist = "normal", p5 = 1, p95 = 2, source = "t" }', "matches nothing"),
    ('"companies.alpha.revenue0.p50" = { dist = "normal", p5 = 1, p95 = 2 }', "missing source"),
    ('"companies.alpha.revenue0.p50" = { dist = "normal", p5 = -5, p95 = 20, source = "t" }', "invalid scenario"),
    ('"companies.alpha.revenue0" = { op = "scale", dist = "normal", p5 = -1, p95 = 2, source = "t" }', "positive"),
    ('"companies.alpha.revenue0" = { op = "grow", dist = "normal", p5 = 1, p95 = 2, source = "t" }', "unknown op"),
    ('"companies.alpha.revenue0.p50" = 3', "inline table"),
])
def test_bad_judgement_entries_name_the_key(tmp_path, small_scenario_text, entry, message):
    path = tmp_path / "bad.toml"
    path.write_text(small_scenario_text + "\n[judgement]\n" + entry + "\n")
    with pytest.raises(InputError, match=message) as caught:
        risk.load_scenario(path)
    assert str(path) in str(caught.value) and "judgement" in str(caught.value)


def test_a_two_level_run_refuses_what_does_not_apply(judged):
    with pytest.raises(InputError, match="plain Monte Carlo"):
        risk.simulate(judged, draws=1000, seed=1, sampler="rqmc")
    with pytest.raises(InputError, match="does not shrink"):
        risk.simulate(judged, draws=1000, seed=1, target_mcse=0.01)
    with pytest.raises(InputError, match="calibrations"):
        risk.simulate(judged, draws=1000, seed=1, calibrations=2)


def test_an_override_of_a_judged_key_drops_that_judgement(judged):
    # a set entry is superseded by an override of its key or of the prior it moves ...
    for key in ("companies.alpha.revenue_per_gw.p50", "companies.alpha.revenue_per_gw", "companies.*.revenue_per_gw"):
        scenario = risk.load_scenario(judged, overrides={key: 9.0})
        assert "companies.alpha.revenue_per_gw.p50" not in scenario.judgement.labels
        assert any("dropped" in change for change in scenario.changes)
    # ... a shift or scale entry composes with it and stays
    scenario = risk.load_scenario(judged, overrides={"companies.beta.price_decline": 0.2})
    assert "companies.beta.price_decline" in scenario.judgement.labels


def test_a_judged_run_keeps_as_many_draws_as_asked(small_scenario_file, tmp_path):
    # kept draws are of the central calibration: not capped at the inner draws per calibration
    judged = tmp_path / "judged.toml"
    judged.write_text(small_scenario_file.read_text() + '\n[judgement]\n"companies.*.revenue0" = '
                      '{ op = "scale", dist = "lognormal", p5 = 0.8, p95 = 1.25, source = "test" }\n')
    result = risk.simulate(judged, draws=16_000, seed=2, calibrations=16, keep=2000)
    assert result.judgement["draws_per_calibration"] == 1000
    assert len(result.kept.draw_index) == 2000 and result.kept.draw_index.max() < 16_000
