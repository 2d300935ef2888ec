"""An exponential and a ``log1p`` that LLVM can vectorise.

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

``log1p`` (the yearly growth rates' logarithms): ``u = 1 + x`` split into
``2**k * m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` from its IEEE-754 bits,
``log m = 2 atanh(s)``, ``s = (m - 1) / (m + 1)``, by its odd series to
``s**21`` (``|s| <= 0.172``: truncation below 1e-18 relative) in fdlibm's
arrangement, ``log u = k ln 2 + log m``, plus ``(x - (u - 1)) / u`` for the
rounding of ``1 + x``.  Within 1 ulp of numpy's ``log1p`` on
``(-1, 1e6]`` (tested); ``x = -1`` gives ``-inf``, ``x < -1`` NaN.
"""

import math

import numpy as np
from ._jit import njit

from .bits import bits_float, float_bits

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


_SQRT_HALF_BITS = np.int64(0x3FE6A09E667F3BCD)  # the bits of sqrt(1/2)
_MANTISSA = np.int64((1 << 52) - 1)
_A3, _A5, _A7, _A9, _A11, _A13, _A15, _A17, _A19, _A21 = (1.0 / k for k in range(3, 22, 2))


@njit(cache=True, error_model="numpy", inline="always")
def log1p(x):
    """Return ``log(1 + x)`` within 1 ulp; loops over arrays of it vectorise (see the module notes)."""
    u = 1.0 + x
    # u = 2**k * m with m in [sqrt(1/2), sqrt(2)), read off the bits (musl's log does the same)
    shifted = float_bits(u) - _SQRT_HALF_BITS
    k = float(shifted >> 52)
    m = bits_float((shifted & _MANTISSA) + _SQRT_HALF_BITS)
    f = m - 1.0  # exact (Sterbenz)
    s = f / (2.0 + f)  # log m = 2 atanh(s)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    # (atanh(s) / s - 1) / s2 = 1/3 + s2/5 + ... + s18/21, by Estrin's scheme
    series = ((_A3 + _A5 * s2) + (_A7 + _A9 * s2) * s4
              + s8 * ((_A11 + _A13 * s2) + (_A15 + _A17 * s2) * s4 + (_A19 + _A21 * s2) * s8))
    # log m = f - (f**2 / 2 - s (f**2 / 2 + R)) with R = 2 s2 series (fdlibm's arrangement:
    # the exact f last, so the rounding stays below an ulp)
    half_square = 0.5 * f * f
    log_m = f - (half_square - s * (half_square + 2.0 * s2 * series))
    # u = 1 + x rounded: add its relative error back, (x - (u - 1)) / u
    result = (k * _LN2_HI + (log_m + (k * _LN2_LO + (x - (u - 1.0)) / u)))
    result = result if u < np.inf else u  # inf stays inf, NaN stays NaN
    return result if u > 0.0 else (-np.inf if u == 0.0 else np.nan)


# Acklam's rational approximation of the normal quantile (relative error
# below 1.2e-9), polished by one Halley step on erfc to full double precision.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
_SQRT2PI = 2.5066282746310002
CENTRAL_LOW, CENTRAL_HIGH = 0.02425, 1.0 - 0.02425  # the central rational function's range


@njit(cache=True, error_model="numpy", inline="always")
def normal_quantile_central(p):
    """Acklam's central rational function: ``Phi^-1(p)`` within 1.2e-9 (relative) on
    [CENTRAL_LOW, CENTRAL_HIGH]; straight-line arithmetic, so a loop over lanes vectorises."""
    q = p - 0.5
    r = q * q
    return ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))


@njit(cache=True, error_model="numpy")
def normal_quantile(p):
    """``Phi^-1(p)``: -inf at 0, +inf at 1, NaN outside [0, 1] (a threshold per draw, not per year)."""
    if not 0.0 <= p <= 1.0:
        return np.nan
    if p == 0.0:
        return -np.inf
    if p == 1.0:
        return np.inf
    if p < CENTRAL_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    elif p > CENTRAL_HIGH:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
              / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    else:
        x = normal_quantile_central(p)
    error = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = error * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)
