"""Sensitivity: Sobol estimators on known functions, tornado and drivers against closed forms."""

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

import risk
from risk.errors import InputError
from risk.sensitivity import sobol_indices

PHI = NormalDist()


def _within(estimate, truth, ci, sigmas=4.0):
    # a 95 % percentile interval spans about 2 x 1.96 standard errors
    se = (ci[1] - ci[0]) / (2 * 1.96)
    return abs(estimate - truth) <= sigmas * se


def test_sobol_estimators_on_the_ishigami_function():
    a, b, n = 7.0, 0.1, 2**14
    rng = np.random.default_rng(2024)

    def ishigami(x):
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    sample_a = rng.uniform(-np.pi, np.pi, (n, 3))
    sample_b = rng.uniform(-np.pi, np.pi, (n, 3))
    f_ab = np.empty((3, n))
    for i in range(3):
        mixed = sample_a.copy()
        mixed[:, i] = sample_b[:, i]
        f_ab[i] = ishigami(mixed)
    found = sobol_indices(ishigami(sample_a), ishigami(sample_b), f_ab, bootstrap=300, seed=1)
    variance = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    first = [v1 / variance, v2 / variance, 0.0]
    total = [(v1 + v13) / variance, v2 / variance, v13 / variance]
    for i in range(3):
        assert _within(found["first"][i], first[i], found["first_ci95"][i])
        assert _within(found["total"][i], total[i], found["total_ci95"][i])


@pytest.fixture
def product_scenario(degenerate):
    """coverage = revenue0 * (1 - opex) / lease: a product of two independent lognormals."""
    path = degenerate(revenue0='{ dist = "lognormal", mu = 0.0, sigma = 0.3 }', cost=1.0, opex=0.5)
    text = path.read_text()
    assert "lease_per_gw_year = 1.0" in text
    path.write_text(text.replace("lease_per_gw_year = 1.0",
                                 'lease_per_gw_year = { dist = "lognormal", mu = -0.6, sigma = 0.2 }'))
    return path


def test_engine_sobol_and_tornado_match_the_closed_form(product_scenario):
    found = risk.sensitivity(product_scenario, entity="solo", draws=40_000, sobol_draws=8192, seed=5)
    s1, s2, mu2 = 0.3, 0.2, -0.6

    def moments(mu, sigma):  # E[X], E[X^2] of a lognormal
        return math.exp(mu + sigma**2 / 2), math.exp(2 * mu + 2 * sigma**2)

    ex, ex2 = moments(0.0, s1)
    eb, eb2 = moments(-mu2, s2)  # B = 1 / lease
    variance = 0.25 * (ex2 * eb2 - (ex * eb) ** 2)
    first_revenue = 0.25 * (ex2 - ex**2) * eb**2 / variance
    first_lease = 0.25 * (eb2 - eb**2) * ex**2 / variance
    by_name = {s.input: s for s in found.sobol}
    revenue = by_name["companies.solo.revenue0"]
    lease = by_name["companies.solo.contracts.lease.lease_per_gw_year"]
    assert _within(revenue.first, first_revenue, revenue.first_ci95)
    assert _within(lease.first, first_lease, lease.first_ci95)
    assert _within(revenue.total, 1 - first_lease, revenue.total_ci95)
    assert _within(lease.total, 1 - first_revenue, lease.total_ci95)
    # tornado: revenue0 pinned at q gives P(shortfall) = P(lease > 0.5 q) in closed form
    bar = next(b for b in found.tornado if b.prior == "companies.solo.revenue0")
    for q, p in ((bar.low_value, bar.p_shortfall_low), (bar.high_value, bar.p_shortfall_high)):
        exact = 1 - PHI.cdf((math.log(0.5 * q) - mu2) / s2)
        assert abs(p - exact) <= 4 * math.sqrt(exact * (1 - exact) / found.draws)
    assert bar.p_shortfall_swing < 0 and bar.coverage_median_swing > 0
    # drivers: low revenue and a dear lease go with shortfall
    drivers = {d.prior: d for d in found.drivers}
    assert drivers["companies.solo.revenue0"].auc < 0.5 - 4 * drivers["companies.solo.revenue0"].auc_se
    lease_driver = drivers["companies.solo.contracts.lease.lease_per_gw_year"]
    assert lease_driver.auc > 0.5 + 4 * lease_driver.auc_se


def test_sensitivity_groups_the_copula_and_the_shocks(small_scenario_file):
    found = risk.sensitivity(small_scenario_file, entity="alpha", draws=2000, sobol_draws=500, seed=3,
                             bootstrap=50)
    inputs = {s.input for s in found.sobol}
    assert "copula: companies.alpha.revenue0 + companies.alpha.contracts.tpu.lease_per_gw_year" in inputs
    assert "demand_factor" in inputs and "companies.alpha.growth_shock" in inputs
    assert "companies.alpha.revenue0" not in inputs
    # fixed priors are not inputs; beta's inputs cannot move alpha's coverage at all
    assert all(s.total == 0.0 for s in found.sobol if s.input.startswith("companies.beta."))
    payload = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    assert payload["schema"] == "risk.sensitivity/1" and payload["entity"] == "alpha"


def test_sensitivity_rejects_an_unknown_entity(small_scenario_file):
    with pytest.raises(InputError, match="did you mean 'alpha'"):
        risk.sensitivity(small_scenario_file, entity="alpah", draws=1000, sobol_draws=200)
