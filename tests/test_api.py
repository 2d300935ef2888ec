"""End-to-end statistics of ``risk.simulate`` against closed forms (4-sigma tolerances)."""

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

import risk
from risk.grade import GRADES

N = 200_000


def test_closed_form_lognormal_revenue(degenerate):
    # model.md: lognormal revenue0, zero growth, fixed costs ->
    # p_shortfall = Phi((ln(I / (1 - o)) - mu) / sigma)
    mu, sigma, cost, opex = math.log(10.0), 0.25, 6.0, 0.4
    path = degenerate(revenue0=f'{{ dist = "lognormal", mu = {mu}, sigma = {sigma} }}', cost=cost, opex=opex)
    result = risk.simulate(path, draws=N, seed=11)
    expected = NormalDist().cdf((math.log(cost / (1 - opex)) - mu) / sigma)
    sigma_mc = math.sqrt(expected * (1 - expected) / N)
    got = result["solo"].p_shortfall
    assert abs(got["p"] - expected) < 4 * sigma_mc
    assert got["mcse"] == pytest.approx(sigma_mc, rel=0.02)
    assert got["ci95"][0] < got["p"] < got["ci95"][1]
    # median coverage = exp(mu) (1 - o) / I, read off the histogram within its 0.78 % bin bound
    assert result["solo"].coverage_quantiles["50"] == pytest.approx(math.exp(mu) * (1 - opex) / cost, rel=0.01)


def test_back_of_envelope_spend_times_two(degenerate):
    # Public rule of thumb: revenue needed = compute spend x 2 for a 50 % margin.
    covered = risk.simulate(degenerate(revenue0="20.0", cost=10.0, opex=0.5), draws=1000, seed=1)
    assert covered["solo"].p_shortfall["p"] == 0.0
    assert covered["solo"].coverage_quantiles["50"] == pytest.approx(1.0, rel=0.0079)
    short = risk.simulate(degenerate(revenue0="19.9", cost=10.0, opex=0.5), draws=1000, seed=1)
    assert short["solo"].p_shortfall["p"] == 1.0
    # funding gap = sum_t (I - E) v^t with E = 9.95, I = 10, v = 1/1.1, three years
    gap = sum(0.05 / 1.1 ** t for t in (1, 2, 3))
    assert short["solo"].funding_gap_mean == pytest.approx(gap, rel=1e-9)


def test_same_seed_bit_identical_for_1_and_2_threads(small_scenario):
    one = risk.simulate(small_scenario, draws=150_000, seed=5, threads=1).to_dict()
    two = risk.simulate(small_scenario, draws=150_000, seed=5, threads=2).to_dict()
    for payload in (one, two):
        payload.pop("provenance")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_different_seed_differs(small_scenario):
    a = risk.simulate(small_scenario, draws=20_000, seed=1)
    b = risk.simulate(small_scenario, draws=20_000, seed=2)
    assert a["alpha"].funding_gap_mean != b["alpha"].funding_gap_mean


@pytest.mark.slow
def test_reported_errors_agree_with_the_spread_across_seeds(small_scenario):
    # model.md: the Monte Carlo error is honest when it agrees with the spread of independent runs,
    # not with itself at another draw count.  R runs of n draws; (R - 1) s^2 / se^2 ~ chi2(R - 1).
    from scipy.stats import chi2

    runs, n = 40, 8_000
    results = [risk.simulate(small_scenario, draws=n, seed=100 + r) for r in range(runs)]
    low, high = chi2.ppf([1e-4, 1 - 1e-4], runs - 1)
    for name in small_scenario.entities:
        for metric, value, error in (
                ("p_shortfall", lambda s: s.p_shortfall["p"], lambda s: s.p_shortfall["mcse"]),
                ("p_default", lambda s: s.p_default["p"], lambda s: s.p_default["mcse"]),
                ("funding_gap_mean", lambda s: s.funding_gap_mean, lambda s: s.funding_gap_mean_mcse),
                ("new_money_mean", lambda s: s.new_money_mean, lambda s: s.new_money_mean_mcse)):
            estimates = np.array([value(r[name]) for r in results])
            reported = np.mean([error(r[name]) ** 2 for r in results])
            assert 0 < reported
            statistic = (runs - 1) * estimates.var(ddof=1) / reported
            assert low < statistic < high, (name, metric, estimates.std(ddof=1), math.sqrt(reported))


def test_no_cancellable_capacity_and_an_open_market_without_limit_give_no_default(small_scenario_text, tmp_path):
    # model.md check: every contract binding, a market that never closes, any growth qualifies and
    # raises are unlimited -> cash is restored every year, so no draw defaults (but many need money)
    text = (small_scenario_text.replace("binding_gw = 0.5\n", "").replace("binding_gw = 1\n", "")
            .replace('p_close = { dist = "uniform", low = 0.1, high = 0.4 }', "p_close = 0")
            .replace("p_reopen = 0.5", "p_reopen = 1")
            .replace('growth_hurdle = { dist = "uniform", low = 0.0, high = 0.5 }', "growth_hurdle = -1")
            .replace('raise_multiple = { dist = "uniform", low = 0.5, high = 2.0 }', "raise_multiple = 1e12"))
    path = tmp_path / "open.toml"
    path.write_text(text)
    result = risk.simulate(path, draws=20_000, seed=6)
    for name in result.scenario.entities:
        assert result[name].p_default["p"] == 0.0
    assert result["alpha"].p_distress["p"] > 0.05 and result["alpha"].new_money_mean > 0


def test_the_sector_is_not_one_balance_sheet(small_scenario):
    # P(any company short) >= each company's; gaps add up, they are not netted; any default counts
    result = risk.simulate(small_scenario, draws=50_000, seed=8)
    companies = [result[c.name] for c in small_scenario.companies]
    sector = result.sector
    for company in companies:
        assert sector.p_shortfall["p"] >= company.p_shortfall["p"]
        assert sector.p_default["p"] >= company.p_default["p"]
        assert sector.p_shortfall_economic["p"] >= company.p_shortfall_economic["p"]
    assert sector.funding_gap_mean == pytest.approx(sum(c.funding_gap_mean for c in companies), rel=1e-12)
    assert sector.new_money_mean == pytest.approx(sum(c.new_money_mean for c in companies), rel=1e-12)
    pooled = sector.coverage_pooled_quantiles
    assert pooled is not None and pooled["5"] <= pooled["50"] <= pooled["95"]
    # the pooled ratio nets, the sector's coverage (the weakest lab's) does not
    assert pooled["50"] >= sector.coverage_quantiles["50"]
    # stock pay counted: never better than on cash
    for entity in [*companies, sector]:
        assert entity.p_shortfall_economic["p"] >= entity.p_shortfall["p"]


def test_result_outputs_and_schema(small_scenario):
    result = risk.simulate(small_scenario, draws=30_000, seed=9)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    for key in ("draws", "seed", "scenario", "version"):
        assert key in payload
    assert set(payload["companies"]) == {"alpha", "beta"}
    for entity in [*payload["companies"].values(), payload["sector"]]:
        for key in ("p_shortfall", "p_shortfall_mcse", "p_distress", "funding_gap_mean",
                    "funding_gap_var95", "funding_gap_cvar95", "breakeven_year_median", "grade",
                    "p_default", "p_default_mcse", "p_shortfall_economic", "new_money_mean"):
            assert key in entity
        assert len(entity["p_default_ci95"]) == 2
        assert set(entity["new_money_quantiles"]) == {"5", "25", "50", "75", "95"}
        for row in entity["years"].values():
            assert row["new_money_mean"] >= 0 and row["capacity_cancelled_mean"] >= 0
        assert len(entity["p_shortfall_ci95"]) == 2
        assert set(entity["coverage_quantiles"]) == {"5", "25", "50", "75", "95"}
        q = [entity["coverage_quantiles"][k] for k in ("5", "25", "50", "75", "95")]
        assert q == sorted(q)
        assert entity["funding_gap_cvar95"] >= entity["funding_gap_var95"]
        assert sum(entity["breakeven_year_distribution"].values()) == pytest.approx(1.0)
        assert entity["grade"] in GRADES and all(g in GRADES for g in entity["grade_range"])
    assert payload["schema"] == "risk.result/2"
    assert "coverage_pooled_quantiles" in payload["sector"]
    assert all("coverage_pooled_quantiles" not in c for c in payload["companies"].values())
    provenance = payload["provenance"]
    assert provenance["scenario_sha256"] and provenance["threads"] >= 1
    frame = result.summary()
    assert list(frame.index) == ["alpha", "beta", "sector"]
    assert "sector" in repr(result)


def test_funding_gap_mean_and_cvar_against_direct_computation(degenerate):
    # With lognormal revenue and zero growth the per-draw gap is
    # max(0, I - R (1 - o)) * annuity, so its mean is a lognormal partial expectation.
    mu, sigma, cost, opex = math.log(8.0), 0.3, 6.0, 0.4
    path = degenerate(revenue0=f'{{ dist = "lognormal", mu = {mu}, sigma = {sigma} }}', cost=cost, opex=opex)
    result = risk.simulate(path, draws=N, seed=21)["solo"]
    annuity = sum(1.1 ** -t for t in (1, 2, 3))
    k = cost / (1 - opex)
    d = (math.log(k) - mu) / sigma
    phi = NormalDist().cdf
    # E[max(0, k - R)] for lognormal R
    partial = k * phi(d) - math.exp(mu + sigma ** 2 / 2) * phi(d - sigma)
    expected = (1 - opex) * partial * annuity
    assert abs(result.funding_gap_mean - expected) < 4 * result.funding_gap_mean_mcse
    assert result.funding_gap_cvar95 >= result.funding_gap_var95 > 0


@pytest.mark.parametrize("bad", [0, -5, 1.5, "10", True])
def test_bad_draws_rejected(bad):
    with pytest.raises(risk.InputError, match="draws"):
        risk.simulate(draws=bad, seed=1)


def test_bad_seed_and_threads_rejected():
    with pytest.raises(risk.InputError, match="seed"):
        risk.simulate(draws=10, seed=-1)
    with pytest.raises(risk.InputError, match="threads"):
        risk.simulate(draws=10, seed=1, threads=0)


def test_memory_does_not_grow_with_draws(small_scenario):
    # The accumulators are sized by the scenario, not the draws: the same
    # arrays serve 1e3 and 1e6 draws.
    from risk import engine
    from risk.scenario.compile import compile_scenario

    compiled = compile_scenario(small_scenario)
    few = engine.run(compiled, draws=1_000, seed=1, threads=2)
    many = engine.run(compiled, draws=1_000_000, seed=1, threads=2)
    assert few.hists.nbytes == many.hists.nbytes and few.sums.nbytes == many.sums.nbytes
    assert int(many.hists[0, 0].sum()) == 1_000_000
