"""Calibration checks of the shipped scenarios against what was reported (model.md).

These are sanity bands, not Monte Carlo tolerances: each says which sourced
figure it checks (``../shared/research/ai-compute-economics.md``) and how far
the model's median may stray from it.  A change of priors that breaks one
should be deliberate, with the band revised and the reason noted.
"""

import pytest

import risk


@pytest.fixture(scope="module")
def latest():
    return risk.simulate("default", draws=100_000, seed=2026)


@pytest.fixture(scope="module")
def article():
    return risk.simulate("article-2025", draws=100_000, seed=2025)


def _median(result, company, year, series="revenue"):
    return result[company].years[str(year)][f"{series}_quantiles"]["50"]


def test_latest_year1_revenue_against_run_rate(latest):
    # §1A Anthropic run-rate ~44-47 (May 2026): year-1 revenue between the run-rate and 3.5x it
    assert 44 <= _median(latest, "anthropic", 2027) <= 3.5 * 47
    # §2A OpenAI annualized ~25 (early 2026): year 1 between 1x and 2.6x
    assert 25 <= _median(latest, "openai", 2027) <= 2.6 * 25


def test_latest_compute_cost_against_commitments(latest):
    # §2A OpenAI compute ~121 $B in 2028 (WSJ, Apr 2026): FY2028 median within a factor 2
    assert 121 / 2 <= _median(latest, "openai", 2028, "compute_cost") <= 121 * 2
    # §1D Anthropic "roughly 10 GW" planned by ~2030 at ~8-14 $B per GW-year: 60-180 $B/yr
    assert 60 <= _median(latest, "anthropic", 2030, "compute_cost") <= 180


def test_article_vintage_against_the_late_2025_plans(article):
    # §2A OpenAI plan ~30 $B in 2026 (Feb-Mar 2026 reports, Sep-2025 plan 2.3x): within 25 %
    assert _median(article, "openai", 2026) == pytest.approx(30, rel=0.25)
    # §1B Anthropic plan 70 $B in 2028: the model's median within a factor 2
    assert 35 <= _median(article, "anthropic", 2028) <= 140


def test_binding_constraint_is_reported(latest):
    for company in ("anthropic", "openai"):
        shares = [row["supply_bound_share"] for row in latest[company].years.values()]
        assert all(0.0 <= s <= 1.0 for s in shares)
