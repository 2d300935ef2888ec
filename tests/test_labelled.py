"""Kept draws, xarray and ArviZ views, and the HTML / text displays."""

import math

import numpy as np
import pytest

import risk
from risk.errors import InputError


@pytest.fixture
def small_kept(small_scenario_file):
    return risk.simulate(small_scenario_file, draws=40_000, seed=8, keep=10_000)


def test_xarray_shapes_coordinates_and_units(small_kept, small_scenario):
    ds = small_kept.to_xarray()
    assert dict(ds.sizes) == {"draw": 10_000, "company": 3, "year": 4}
    assert list(ds.company.values) == ["alpha", "beta", "sector"]
    assert list(ds.year.values) == [2026, 2027, 2028, 2029]
    assert ds.revenue.dims == ("draw", "company", "year") and ds.revenue.attrs["units"] == "$B per year"
    assert ds.funding_gap.attrs["units"] == "$B" and ds.coverage.attrs["units"] == "ratio"
    assert ds["companies.alpha.utilization"].dims == ("draw", "year")
    assert ds["companies.alpha.revenue0"].attrs["family"] == "lognormal"
    # the kept draws are spread over the whole run and are the run's own draws
    assert ds.draw.values[0] == 2 and ds.draw.values[-1] == 39_998
    np.testing.assert_allclose(ds.revenue.sel(company="sector"),
                               ds.revenue.sel(company="alpha") + ds.revenue.sel(company="beta"))
    years = ds.breakeven_year.values
    assert np.all(np.isnan(years) | ((years >= 2026) & (years <= 2029)))


def test_the_subsample_is_reproducible_and_unbiased(small_kept, small_scenario_file):
    again = risk.simulate(small_scenario_file, draws=40_000, seed=8, keep=10_000)
    np.testing.assert_array_equal(small_kept.kept.coverage, again.kept.coverage)
    ds = small_kept.to_xarray()
    for company in ("alpha", "beta", "sector"):
        streaming = small_kept[company].p_shortfall["p"]
        kept = float(ds.shortfall.sel(company=company).mean())
        # the kept draws are a subset: the difference has at most the subsample's error
        se = math.sqrt(max(streaming * (1 - streaming), 1e-12) / 10_000)
        assert abs(kept - streaming) <= 4 * se


def _group(idata, name):
    """A group as an xarray Dataset: ArviZ 0.x InferenceData or 1.x DataTree."""
    node = idata[name]
    return node.to_dataset() if hasattr(node, "to_dataset") else node


def test_inference_data_works_with_arviz(small_kept):
    import arviz as az

    idata = small_kept.to_inference_data(chains=4)
    prior, predictive = _group(idata, "prior"), _group(idata, "prior_predictive")
    assert dict(predictive["coverage"].sizes) == {"chain": 4, "draw": 2500, "company": 3}
    assert "companies.alpha.revenue0" in prior.data_vars
    summary = az.summary(idata, group="prior_predictive", var_names=["coverage", "shortfall"])
    assert len(summary) == 6
    ess = az.ess(prior[["companies.alpha.revenue0"]])  # a group's dataset: the API 0.23 and 1.x share
    assert float(ess["companies.alpha.revenue0"]) > 5_000  # independent draws
    assert az.hdi(idata, group="prior_predictive", var_names=["coverage"]) is not None
    # ArviZ's Monte Carlo error of P(shortfall) agrees with the binomial error of the kept draws:
    # the ratio of the two has a s.d. of 0.019 for 10,000 independent draws in 4 chains (measured
    # over 40 seeds), so 4 s.d.
    mcse = az.mcse(predictive[["shortfall"]])["shortfall"]
    for company in ("alpha", "sector"):
        p = float(predictive["shortfall"].sel(company=company).mean())
        binomial = math.sqrt(p * (1 - p) / 10_000)
        assert abs(float(mcse.sel(company=company)) / binomial - 1) <= 4 * 0.019


# ArviZ 0.23's KDE passes matplotlib 3.11 a deprecated argument: their warning, not ours
@pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping:DeprecationWarning")
def test_arviz_plots_accept_the_data(small_kept):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    idata = small_kept.to_inference_data()
    if int(az.__version__.split(".")[0]) >= 1:  # arviz-plots takes the whole DataTree
        assert az.plot_dist(idata, group="prior_predictive", var_names=["coverage"]) is not None
        assert az.plot_forest(idata, group="prior", var_names=["companies.alpha.revenue0"]) is not None
    else:
        coverage = _group(idata, "prior_predictive")["coverage"].sel(company="alpha").values.ravel()
        assert az.plot_dist(coverage) is not None
        assert az.plot_forest(idata["prior"], var_names=["companies.alpha.revenue0"]) is not None


def test_without_kept_draws_the_error_says_how(small_scenario_file):
    result = risk.simulate(small_scenario_file, draws=2000, seed=1)
    with pytest.raises(InputError, match="keep="):
        result.to_xarray()
    with pytest.raises(InputError, match="rqmc"):
        risk.simulate(small_scenario_file, draws=2000, seed=1, sampler="rqmc", keep=100)


def test_displays(small_kept):
    text = repr(small_kept)
    assert "P(shortfall)" in text and "alpha" in text
    page = small_kept._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and "bubble-risk grade" in page
    assert "10,000 draws kept" in page
    scenario = small_kept.scenario
    assert "alpha" in repr(scenario) and "revenue0 median" in repr(scenario)
    assert "<table>" in scenario._repr_html_()
