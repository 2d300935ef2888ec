"""The fast beta quantile tables against boost's pointwise inverse and against high-precision references."""

import warnings

import numpy as np
import pytest
from scipy import special

from risk.scenario import beta_grid
from risk.scenario.beta_grid import beta_quantiles
from risk.scenario.compile import build_table, z_grid
from risk.scenario.distributions import Prior

Z = z_grid()
UPPER = Z > 0
Q = np.where(UPPER, special.ndtr(-Z), special.ndtr(Z))  # what each point inverts: Phi(z) below, Phi(-z) above


def boost(a, b):
    """Boost's inverse at every point, as scipy.stats' beta ppf (below the median) and isf (above)."""
    x = np.empty_like(Z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boost warns where its root finder gives up (a NaN)
        x[~UPPER] = special.betaincinv(a, b, Q[~UPPER])
        x[UPPER] = special.betainccinv(a, b, Q[UPPER])
    return x


def solves(a, b, x):
    """Where ``x`` solves its equation to 1e-10 relative: boost's own answer is wrong at a few tail points."""
    with np.errstate(all="ignore"):
        density = np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b))
        residual = np.where(UPPER, special.betainc(b, a, 1 - x), special.betainc(a, b, x)) - Q
        return np.abs(residual) <= 1e-10 * density * x  # the error in x it implies, relative to x


SHAPES = [(0.3, 0.3), (0.5, 2.0), (1.0, 1.0), (2.3, 5.1), (8.1, 1.75), (50.0, 3.0), (200.0, 200.0),
          (0.31, 150.0), (1.2, 0.4)] + [tuple(v) for v in np.exp(np.random.default_rng(7).uniform(
              np.log(0.3), np.log(200.0), (60, 2)))]


@pytest.mark.parametrize("a, b", SHAPES)
def test_within_1e_13_of_boosts_inverse_wherever_boost_solves_its_equation(a, b):
    fast, exact = beta_quantiles(a, b, Z), boost(a, b)
    assert np.array_equal(np.isfinite(fast), np.isfinite(exact))  # boost's failures (NaN) stay failures
    ends = (exact == 0) | (exact == 1)  # beyond a double's reach of 0 or 1
    np.testing.assert_array_equal(fast[ends], exact[ends])
    checked = np.isfinite(exact) & ~ends & solves(a, b, exact)
    assert checked.sum() + ends.sum() > 0.9 * Z.size
    # boost itself is off by up to 5e-14 at some points (below); the complement 1 - w of the upper half
    # loses up to 1e-16 / x relative where x is small
    np.testing.assert_allclose(fast[checked], exact[checked], rtol=1e-13, atol=0)


# Quantiles to 25 digits from mpmath 1.4.1 (mp.dps = 50, bisection on mpmath.betainc(a, b, 0, x,
# regularized=True) = Phi(z), or on betainc(a, b, x, 1) = Phi(-z) above the median, with Phi(z) the
# double scipy.special.ndtr gives): (a, b, grid index, quantile)
REFERENCES = [(70.6106197500098, 8.239315402031647, 179, 0.488919285725092376864883),  # boost: 5.5e-14 off
              (0.31, 150.0, 3800, 0.1596021290982587335371576),
              (8.1, 1.75, 4000, 0.9999999998026978957425254),
              (200.0, 200.0, 2100, 0.505398723660262323121157)]


@pytest.mark.parametrize("a, b, index, reference", REFERENCES)
def test_within_two_ulp_of_a_high_precision_reference(a, b, index, reference):
    value = beta_quantiles(a, b, Z)[index]
    assert abs(value - reference) <= 2 * np.spacing(reference)


def test_points_the_interpolation_misses_are_computed_exactly(monkeypatch):
    # a Newton limit of 0 sends every point between knots to boost: the very same numbers
    monkeypatch.setattr(beta_grid, "NEWTON_LIMIT", 0.0)
    np.testing.assert_array_equal(beta_quantiles(2.3, 5.1, Z), boost(2.3, 5.1))


def test_a_pert_table_is_its_beta_table_scaled():
    prior = Prior("pert", {"low": 2.0, "mode": 3.0, "high": 7.0, "lambda": 4.0})
    a, b = 1 + 4 * 1 / 5, 1 + 4 * 4 / 5
    np.testing.assert_allclose(build_table(prior), 2.0 + 5.0 * beta_quantiles(a, b, Z), rtol=1e-15)


def test_a_beta_with_a_below_one_is_tabulated_right_in_its_lower_tail():
    # scipy.stats' beta ppf (boost under its policy) gives 0.5 for Beta(0.5, 2) at q ~ 1e-16, which made
    # the monotone table 0.5 over 88 % of the mass.  Near 0, F(x) = x**a / (a B(a, b)) (1 + O(x)).
    prior = Prior("beta", {"a": 0.5, "b": 2.0, "low": 0.0, "high": 1.0})
    table = build_table(prior)
    tail = np.flatnonzero(Z < -7.5)
    closed = (special.ndtr(Z[tail]) * 0.5 * special.beta(0.5, 2.0)) ** (1 / 0.5)
    np.testing.assert_allclose(table[tail], closed, rtol=1e-12)
    # and everywhere the tabulated distribution is the exact one (Kolmogorov distance, as test_compile)
    z = np.linspace(-5.0, 5.0, 200_001)
    x = np.interp(z, Z, table)
    assert np.max(np.abs(special.betainc(0.5, 2.0, x) - special.ndtr(z))) < 2e-6
