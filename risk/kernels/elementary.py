"""An exponential that LLVM can vectorise.

numba's ``math.exp`` calls the C library one value at a time (pip's
llvmlite has no vector math library), about 3 ns per call here; the
lognormal priors and the demand paths need about 50 per draw.  ``exp`` below
is straight-line arithmetic, so a loop over the lanes of a block of draws
compiles to SIMD code: measured 0.9 ns per value against 3.1 ns for
``math.exp`` (``performance-notes.md`` explains why the engine works on
blocks of draws).  Scalar and vectorised code give the same bits: numba does
not contract ``a * b + c`` into fused multiply-adds.

Method (Cody & Waite reduction, Taylor polynomial): ``x = k ln 2 + r`` with
``k`` the nearest integer to ``x / ln 2`` and ``|r| <= ln 2 / 2``, ``ln 2``
split in two parts so that ``r`` is exact to about 2**-80; ``exp(r)`` by its
Taylor polynomial of degree 13 (truncation below 5e-18 relative), evaluated
by Estrin's scheme; the result scaled by ``2**k`` built from its IEEE-754
bits.  Accuracy, tested against
numpy over ``[-700, 700]``: within 1 ulp.  Arguments are clamped to
``[-708, 709]`` (so no overflow to inf and no subnormals: ``exp(709)`` is
8e307, ``exp(-708)`` 3e-308; the model's revenue paths never get near
either); a NaN argument gives NaN.
"""

import math

import numpy as np
from numba import njit

from .bits import bits_float

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding and subtracting it rounds to the nearest integer
_C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = (1.0 / math.factorial(k) for k in range(3, 14))
_EXPONENT_BIAS = np.int64(1023)


@njit(cache=True, error_model="numpy", inline="always")
def exp(x):
    """Return ``e**x`` within 1 ulp; loops over arrays of it vectorise (see the module notes)."""
    if x > 709.0:
        x = 709.0
    if x < -708.0:
        x = -708.0
    k = (x * _LOG2E + _ROUND) - _ROUND
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # Estrin's scheme: the same polynomial as Horner's rule in 8 dependent
    # steps instead of 26, so the few vectors of a block do not wait on latency
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    high = (_C8 + _C9 * r) + (_C10 + _C11 * r) * r2 + (_C12 + _C13 * r) * r4
    tail = (0.5 + _C3 * r) * r2 + ((_C4 + _C5 * r) + (_C6 + _C7 * r) * r2) * r4 + high * r8
    p = 1.0 + (r + tail)  # the large terms last: within 1 ulp, as Horner's rule
    return p * bits_float((np.int64(k) + _EXPONENT_BIAS) << 52)
