"""Brent's bracketed root finder, step for step the one of ``scipy.optimize.brentq``.

A judged run moves a beta prior's percentile 128 times (``overrides.move_quantile``)
and needs only this from ``scipy.optimize``, whose import costs ~0.1 s of every
such run.  This is the same algorithm (scipy's ``Zeros/brentq.c``, by Charles
Harris) in the same floating-point operations, so it returns the same root to the
last bit (``tests/scenario/test_brent.py`` checks it against scipy).
"""

from __future__ import annotations

import math

EPS = 2.220446049250313e-16


def brentq(f, a: float, b: float, *, xtol: float = 2e-12, rtol: float = 4 * EPS, maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` differ in sign.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, continuous on ``[a, b]``.
    a, b : float
        The bracket.
    xtol, rtol : float
        The root is found to ``xtol + rtol * |root|`` (``rtol >= 4 eps``).
    maxiter : int
        Iterations before giving up.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``f(a)`` and ``f(b)`` have the same sign, a tolerance is out of
        range, or the iterations do not converge.
    """
    if xtol <= 0:
        raise ValueError(f"xtol too small ({xtol:g} <= 0)")
    if rtol < 4 * EPS:
        raise ValueError(f"rtol too small ({rtol:g} < {4 * EPS:g})")
    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = _value(f, xpre), _value(f, xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate (inverse quadratic)
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry  # a good short step
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = _value(f, xcur)
    raise ValueError(f"no convergence in {maxiter} iterations")


def _value(f, x: float) -> float:
    value = float(f(x))
    if math.isnan(value):
        raise ValueError(f"the function is nan at {x!r}")
    return value
