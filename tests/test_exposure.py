"""Provider exposure: a hand-computed settlement, no distress, conservation, thread invariance."""

import textwrap

import pytest

import risk

HAND = textwrap.dedent("""
    name = "two providers"
    horizon = 2
    discount_rate = 0
    equity_recovery = 0.2
    [companies.lab]
    revenue0 = 10
    growth_initial = 0
    growth_terminal = 0
    growth_halflife = 1
    growth_vol = 0
    opex_ratio_initial = 0.5
    opex_ratio_terminal = 0.5
    training_share = 0
    utilization = 1
    # supply (2 GW x 5) equals demand (10): management has no capacity to cancel, only distress does
    yield_per_gw = 5
    price_decline = 0
    cash0 = CASH
    [companies.lab.contracts.a]
    kind = "lease"
    provider = "p1"
    capacity_gw = [1, 1]
    lease_per_gw_year = 10
    [companies.lab.contracts.b]
    kind = "lease"
    provider = "p2"
    capacity_gw = [1, 1]
    lease_per_gw_year = 5
    binding_gw = 0
    notice_years = 0.5
    [[companies.lab.investments]]
    investor = "p1"
    timing = "past"
    amount = 5
    [[companies.lab.investments]]
    investor = "p2"
    timing = "per_gw"
    contract = "b"
    amount = 1
""")


def _run(tmp_path, cash, **kwargs):
    path = tmp_path / f"hand-{cash}.toml"
    path.write_text(HAND.replace("CASH", str(cash)))
    return risk.simulate(path, draws=1000, seed=1, by_provider=True, **kwargs).providers


def test_a_hand_computed_settlement(tmp_path):
    # Year 1: cash 5 + earnings 5 + Nvidia-style per-GW money 1 = 11 against 15 owed: b (cancellable,
    # half a year's notice) is cancelled, 12.5 still due, 11 paid (88 %).  Year 2: 5 against 10 (a only).
    found = _run(tmp_path, 5)
    expected = {
        "p1": {"revenue_booked_mean": 20, "revenue_paid_mean": 13.8, "revenue_at_risk_mean": 6.2,
               "revenue_cancelled_mean": 0, "invested_mean": 5, "round_trip_mean": 13.8 * 5 / 16,
               "investment_loss_mean": 4.0},
        "p2": {"revenue_booked_mean": 10, "revenue_paid_mean": 2.2, "revenue_at_risk_mean": 0.3,
               "revenue_cancelled_mean": 7.5, "invested_mean": 1, "round_trip_mean": 2.2 / 16,
               "investment_loss_mean": 0.8},
        "total": {"revenue_booked_mean": 30, "revenue_paid_mean": 16, "revenue_at_risk_mean": 6.5,
                  "revenue_cancelled_mean": 7.5, "invested_mean": 6, "investment_loss_mean": 4.8},
    }
    for provider, numbers in expected.items():
        for key, value in numbers.items():
            assert found[provider][key] == pytest.approx(value, abs=1e-9), (provider, key)
        assert found[provider]["p_revenue_at_risk"]["p"] == 1.0
    assert found["p1"]["round_trip_share_mean"] == pytest.approx(5 / 16)


def test_no_distress_means_nothing_at_risk(tmp_path):
    found = _run(tmp_path, 1000)
    for provider in ("p1", "p2", "total"):
        assert found[provider]["revenue_at_risk_mean"] == 0
        assert found[provider]["p_revenue_at_risk"]["p"] == 0
        assert found[provider]["revenue_cancelled_mean"] == 0
        assert found[provider]["investment_loss_mean"] == 0
    assert found["total"]["revenue_paid_mean"] == pytest.approx(30)


def test_money_is_conserved_and_threads_do_not_matter(small_scenario_file):
    one = risk.simulate(small_scenario_file, draws=20_000, seed=3, threads=1, by_provider=True)
    two = risk.simulate(small_scenario_file, draws=20_000, seed=3, threads=2, by_provider=True)
    assert one.providers == two.providers
    for name, stats in one.providers.items():
        parts = stats["revenue_paid_mean"] + stats["revenue_at_risk_mean"] + stats["revenue_cancelled_mean"]
        assert parts == pytest.approx(stats["revenue_booked_mean"], rel=1e-12, abs=1e-12), name
    # booked revenue is the delivered ramp; the headline's commitments are what management kept of it,
    # of which the settlement pays or leaves at risk at most all
    total = one.providers["total"]
    owed = total["revenue_paid_mean"] + total["revenue_at_risk_mean"]
    assert owed <= one.sector.pv_commitments_mean * (1 + 1e-12) < total["revenue_booked_mean"]


def test_booked_equals_the_commitments_when_nothing_can_be_cancelled(tmp_path):
    path = tmp_path / "binding.toml"
    path.write_text(HAND.replace("CASH", "1000").replace("binding_gw = 0\n", ""))
    found = risk.simulate(path, draws=1000, seed=1, by_provider=True)
    assert found.providers["total"]["revenue_booked_mean"] == pytest.approx(found.sector.pv_commitments_mean,
                                                                           rel=1e-12)


def test_the_default_scenario_names_its_providers_and_investors():
    scenario = risk.load_scenario("default")
    contracts = {k.name: k for c in scenario.companies for k in c.contracts}
    assert contracts["spacex_colossus"].binding_gw == 0 and contracts["spacex_colossus"].notice_years == 0.25
    assert contracts["amd"].binding_gw == 1
    investors = {i.investor for c in scenario.companies for i in c.investments}
    assert {"amazon", "google", "nvidia", "amd"} <= investors


@pytest.mark.parametrize("extra, message", [
    ('[[companies.lab.investments]]\ninvestor = "x"\ntiming = "later"\namount = 1\n', "unknown timing"),
    ('[[companies.lab.investments]]\ninvestor = "x"\ntiming = "per_gw"\ncontract = "c"\namount = 1\n',
     "unknown contract 'c'"),
    ('[[companies.lab.investments]]\ninvestor = "x"\ntiming = "upfront"\namount = -1\n', "cannot be negative"),
])
def test_bad_investments_are_rejected(tmp_path, extra, message):
    path = tmp_path / "bad.toml"
    path.write_text(HAND.replace("CASH", "5") + extra)
    with pytest.raises(risk.InputError, match=message):
        risk.load_scenario(path)


def test_the_exposure_function_settles_the_draws_of_simulate(small_scenario_file):
    alone = risk.exposure(small_scenario_file, draws=3000, seed=7)
    beside = risk.simulate(small_scenario_file, draws=3000, seed=7, by_provider=True).providers
    assert alone == beside and "total" in alone
