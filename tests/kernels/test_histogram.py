"""The log-linear histogram: monotone bins, values inside their bin, bounded width."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from risk.kernels import histogram as h

LOWER, UPPER = h.bin_edges()
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(finite, finite)
def test_bins_are_monotone(a, b):
    low, high = min(a, b), max(a, b)
    assert h.bin_index(low) <= h.bin_index(high)


@given(finite)
def test_value_lies_in_its_bin(value):
    b = h.bin_index(value)
    assert LOWER[b] <= value <= UPPER[b] or (b == h.ZERO_BIN and abs(value) < 2.0 ** h.LOW_EXP)


@given(st.floats(min_value=2.0 ** h.LOW_EXP, max_value=2.0 ** h.HIGH_EXP * 0.999))
def test_relative_bin_width_is_at_most_one_128th(value):
    b = h.bin_index(value)
    assert (UPPER[b] - LOWER[b]) / LOWER[b] <= 1.0 / 128 + 1e-15


def test_special_values():
    assert h.bin_index(-0.0) == h.ZERO_BIN
    assert h.bin_index(2.0 ** h.LOW_EXP) == h.ZERO_BIN + 1
    assert h.bin_index(-(2.0 ** h.LOW_EXP)) == h.ZERO_BIN - 1
    assert h.bin_index(2.0 ** h.HIGH_EXP) == h.N_BINS - 1
    assert h.bin_index(0.0) == h.ZERO_BIN
    assert h.bin_index(math.inf) == h.N_BINS - 1
    assert h.bin_index(-math.inf) == 0
    assert np.all(LOWER[1:] >= LOWER[:-1])
