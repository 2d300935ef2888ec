"""The vectorisable exp and log1p: within 1 ulp of the C library; edges (clamps, -1, inf, NaN)."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from risk.kernels.elementary import exp, log1p


@njit(error_model="numpy")  # as the kernels compile
def _exp_array(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # the loop the kernels run: compiled to SIMD code
        out[i] = exp(x[i])
    return out


@njit(error_model="numpy")  # as the kernels compile
def _exp_scalar(x):
    return exp(x)


def test_within_one_ulp_over_the_whole_range():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-700.0, 700.0, 200_000), rng.normal(0.0, 3.0, 200_000),
                        np.arange(-700, 701, dtype=float), [0.0, -0.0, 1e-300, -1e-300, 709.0, -708.0]])
    reference = np.exp(x)
    ulps = np.abs(_exp_array(x) - reference) / np.spacing(reference)
    assert ulps.max() <= 1.0


@given(st.floats(min_value=-708.0, max_value=709.0))
def test_scalar_and_vector_code_give_the_same_bits(x):
    # the engine relies on it: a draw's numbers do not depend on its place in a block
    assert _exp_scalar(x) == _exp_array(np.array([x]))[0]
    assert abs(_exp_scalar(x) - math.exp(x)) <= np.spacing(math.exp(x))


def test_clamped_outside_the_range_and_nan_propagates():
    out = _exp_array(np.array([800.0, np.inf, -800.0, -np.inf, np.nan]))
    assert out[0] == out[1] == _exp_scalar(709.0) and np.isfinite(out[0])
    assert out[2] == out[3] == _exp_scalar(-708.0) and out[2] > 0.0
    assert np.isnan(out[4])


@njit(error_model="numpy")  # as the kernels compile
def _log1p_array(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # compiled to SIMD code, as in the model
        out[i] = log1p(x[i])
    return out


@njit(error_model="numpy")  # as the kernels compile
def _log1p_scalar(x):
    return log1p(x)


def test_log1p_within_one_ulp():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-0.999999, 1.0, 200_000), rng.uniform(-1e-6, 1e-6, 50_000),
                        np.exp(rng.uniform(-40.0, 14.0, 100_000)), -np.exp(rng.uniform(-40.0, -1e-9, 100_000)),
                        [0.0, -0.0, 1e-300, -1e-300, 1e-17, 0.5, 1.0, 3.0, 1e6]])
    reference = np.log1p(x)
    got = _log1p_array(x)
    ulps = np.abs(got - reference) / np.spacing(np.abs(reference))
    zero = reference == 0.0
    ulps[zero] = np.abs(got[zero]) / np.spacing(1e-300)
    assert ulps.max() <= 1.0


@given(st.floats(min_value=-0.9999, max_value=1e6))
def test_log1p_scalar_and_vector_code_give_the_same_bits(x):
    assert _log1p_scalar(x) == _log1p_array(np.array([x]))[0]


def test_log1p_edges():
    out = _log1p_array(np.array([-1.0, -2.0, np.inf, np.nan]))
    assert out[0] == -np.inf and np.isnan(out[1]) and out[2] == np.inf and np.isnan(out[3])
