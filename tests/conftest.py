"""Shared fixtures: the one small, fast scenario every test builds on."""

from __future__ import annotations

import textwrap

import pytest

SMALL_SCENARIO = textwrap.dedent("""
    name = "small"
    start_year = 2026
    horizon = 4
    discount_rate = 0.1
    demand_correlation = 0.5

    [companies.alpha]
    revenue0 = { dist = "lognormal", p5 = 8, p95 = 12 }
    growth_initial = { dist = "lognormal", loc = -1, p5 = 1.5, p95 = 3 }
    growth_terminal = { dist = "normal", mean = 0.07, sd = 0.03 }
    growth_halflife = { dist = "gamma", p5 = 1, p95 = 4 }
    growth_vol = 0.1
    opex_ratio_initial = { dist = "beta", p5 = 0.3, p95 = 0.6 }
    opex_ratio_terminal = { dist = "pert", low = 0.1, mode = 0.3, high = 0.5 }
    training_share = { dist = "triangular", low = 0.2, mode = 0.3, high = 0.5 }
    utilization = { dist = "beta", a = 8.1, b = 1.75 }
    yield_per_gw = { dist = "truncated_normal", mean = 20, sd = 5, low = 5, high = 40 }
    price_decline = { dist = "uniform", low = 0.05, high = 0.25 }
    cash0 = 10

    [companies.alpha.contracts.tpu]
    kind = "lease"
    capacity_gw = [0.5, 1, 1.5, 2]
    ramp_delay = { dist = "discrete", values = [0, 0.5, 1], weights = [0.6, 0.3, 0.1] }
    delivered_fraction = { dist = "beta", p5 = 0.35, p95 = 0.9 }
    lease_per_gw_year = { dist = "lognormal", p5 = 8, p95 = 18 }

    [companies.beta]
    revenue0 = 20
    growth_initial = 1.0
    growth_terminal = 0.05
    growth_halflife = 2
    growth_vol = 0.2
    opex_ratio_initial = 0.5
    opex_ratio_terminal = 0.3
    training_share = 0.4
    utilization = 0.8
    yield_per_gw = 25
    price_decline = 0.15
    cash0 = 20

    [companies.beta.contracts.gpu]
    kind = "owned"
    capacity_gw = [1, 2, 3, 4]
    capex_per_gw = { dist = "lognormal", p5 = 38, p95 = 70 }
    life_years = { dist = "lognormal", p5 = 2.5, p95 = 6.5 }
    power_price = { dist = "lognormal", p5 = 45, p95 = 120 }
    pue = { dist = "lognormal", loc = 1, p5 = 1.1, p95 = 1.4 }

    [correlation]
    priors = ["companies.alpha.revenue0", "companies.alpha.contracts.tpu.lease_per_gw_year"]
    matrix = [[1, 0.3], [0.3, 1]]
""")


@pytest.fixture
def small_scenario_text() -> str:
    """TOML text of the small scenario (two companies, every family, a copula)."""
    return SMALL_SCENARIO


@pytest.fixture(scope="session")
def small_scenario_session_file(tmp_path_factory):
    """The small scenario written once per test session (for module-scoped fixtures)."""
    path = tmp_path_factory.mktemp("small") / "small.toml"
    path.write_text(SMALL_SCENARIO)
    return path


@pytest.fixture
def small_scenario_file(tmp_path):
    """The small scenario written to a file."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SCENARIO)
    return path


@pytest.fixture
def small_scenario(small_scenario_file):
    """The small scenario, loaded and validated."""
    import risk

    return risk.load_scenario(small_scenario_file)


def degenerate_scenario(*, revenue0: str, cost: float, opex: float, horizon: int = 3,
                        discount: float = 0.1) -> str:
    """A one-company scenario with zero growth, fixed costs and ample capacity.

    Coverage is then ``revenue0 * (1 - opex) / cost`` in every draw, whatever
    the discounting: the closed form of model.md.
    """
    ramp = ", ".join(["1.0"] * horizon)
    return textwrap.dedent(f"""
        name = "degenerate"
        horizon = {horizon}
        discount_rate = {discount}
        [companies.solo]
        revenue0 = {revenue0}
        growth_initial = 0
        growth_terminal = 0
        growth_halflife = 1
        growth_vol = 0
        opex_ratio_initial = {opex}
        opex_ratio_terminal = {opex}
        training_share = 0
        utilization = 1
        yield_per_gw = 1e6
        price_decline = 0
        cash0 = 1000
        [companies.solo.contracts.lease]
        kind = "lease"
        capacity_gw = [{ramp}]
        lease_per_gw_year = {cost}
    """)


@pytest.fixture
def degenerate(tmp_path):
    """Factory: write a :func:`degenerate_scenario` and return its path."""
    def make(**kwargs):
        path = tmp_path / "degenerate.toml"
        path.write_text(degenerate_scenario(**kwargs))
        return path
    return make
