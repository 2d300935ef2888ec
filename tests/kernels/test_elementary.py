"""The vectorisable exponential: within 1 ulp of the C library, clamped outside [-708, 709]."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from risk.kernels.elementary import exp


@njit
def _exp_array(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # the loop the kernels run: compiled to SIMD code
        out[i] = exp(x[i])
    return out


@njit
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
