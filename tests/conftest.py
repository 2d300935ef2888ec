"""Shared fixtures: the one small, fast scenario every test builds on."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import settings

# No Hypothesis deadline: a first call may compile a kernel (seconds on a loaded machine), and what
# these tests check is the values, not their speed (speed lives in benchmarks/).
settings.register_profile("risk", deadline=None)
settings.load_profile("risk")

SMALL_SCENARIO = textwrap.dedent("""
    name = "small"
    start_year = 2026
    horizon = 4
    discount_rate = 0.1
    financing_rate = { dist = "uniform", low = 0.0, high = 0.12 }
    demand_correlation = 0.5

    [funding_market]
    p_close = { dist = "uniform", low = 0.1, high = 0.4 }
    p_reopen = 0.5
    growth_hurdle = { dist = "uniform", low = 0.0, high = 0.5 }
    raise_multiple = { dist = "uniform", low = 0.5, high = 2.0 }

    [companies.alpha]
    revenue0 = { dist = "lognormal", p5 = 8, p95 = 12 }
    growth_initial = { dist = "lognormal", loc = -1, p5 = 0.3, p95 = 1.5 }
    growth_terminal = { dist = "normal", mean = 0.07, sd = 0.03 }
    growth_halflife = { dist = "gamma", p5 = 1, p95 = 4 }
    growth_vol = 0.1
    opex_ratio_initial = { dist = "beta", p5 = 0.3, p95 = 0.6 }
    opex_ratio_terminal = { dist = "pert", low = 0.1, mode = 0.3, high = 0.5 }
    sbc_ratio_initial = { dist = "uniform", low = 0.1, high = 0.3 }
    sbc_ratio_terminal = 0.05
    training_share = { dist = "triangular", low = 0.2, mode = 0.3, high = 0.5 }
    training_share_decay = { dist = "uniform", low = 0.0, high = 0.4 }
    utilization = { dist = "beta", a = 8.1, b = 1.75 }
    revenue_per_gw = { dist = "truncated_normal", mean = 10, sd = 3, low = 2, high = 20 }
    price_decline = { dist = "uniform", low = -0.05, high = 0.25 }
    cash0 = 10

    [[companies.alpha.investments]]
    investor = "cloud"
    timing = "upfront"
    amount = { dist = "uniform", low = 0, high = 4 }

    [companies.alpha.contracts.tpu]
    kind = "lease"
    provider = "cloud"
    binding_gw = 0.5
    notice_years = 0.5
    capacity_gw = [1, 3, 5, 7]
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
    yield_per_gw = 60
    price_decline = 0.15
    cash0 = 20

    [[companies.beta.investments]]
    investor = "chips"
    timing = "per_gw"
    contract = "gpu"
    amount = 5

    [companies.beta.contracts.gpu]
    kind = "owned"
    provider = "chips"
    binding_gw = 1
    notice_years = 1.5
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


@pytest.fixture(scope="session")
def reference():
    """The independent plain-numpy reading of model.md v2 (``tests/model_reference.py``)."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).with_name("model_reference.py")
    spec = importlib.util.spec_from_file_location("model_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
