"""How numbers are printed: as many digits as their Monte Carlo error supports, never fewer, never more.

An estimate is shown with its error rounded as the Particle Data Group does
(two significant digits when they are 10 to 35, else one) and the value to
the same decimal place (``0.59 ± 0.04``, ``0.957 ± 0.007``, ``0.4716 ± 0.0011``),
so a printed error is never ``± 0.0000`` and a printed point never falls
outside its own printed interval (both are rounded to the same places, and
rounding keeps order).  A probability estimated as exactly 0 or 1 has no
binomial error: it is shown by its 95 % bound (``< 0.000004``,
``> 0.999996``).  The terminal, the PDF memo and the summary sentences all
use these functions, so they agree digit for digit.
"""

from __future__ import annotations

import math

MAX_DECIMALS = 6


def decimals(se: float, *, minimum: int = 0, maximum: int = 2 * MAX_DECIMALS) -> int | None:
    """Decimal places that show ``se`` as the Particle Data Group rounds errors (None for 0 or not finite).

    Two significant digits when the error's first digits are 10 to 35
    (``0.0034``: one digit would misstate it by up to 15 %), one otherwise
    (``0.0068`` -> ``0.007``).
    """
    if se is None or not math.isfinite(se) or se <= 0:
        return None
    exponent = math.floor(math.log10(se))
    leading = se / 10.0 ** exponent
    places = (1 if leading < 3.55 else 0) - exponent
    return min(maximum, max(minimum, places))


def _bound_above(value: float) -> str:
    places = min(MAX_DECIMALS + 2, max(0, -math.floor(math.log10(value)))) if value > 0 else MAX_DECIMALS
    return f"{math.ceil(value * 10 ** places) / 10 ** places:.{places}f}"


def _bound_below(value: float, scale: float) -> str:
    gap = scale - value
    places = min(MAX_DECIMALS + 2, max(0, -math.floor(math.log10(gap)))) if gap > 0 else MAX_DECIMALS
    return f"{math.floor(value * 10 ** places) / 10 ** places:.{places}f}"


def probability(p: float, se: float, *, interval=None, percent: bool = False) -> str:
    """``p ± se`` at the error's precision; at 0 or 1, its 95 % bound from ``interval``.

    Examples
    --------
    >>> probability(0.58561, 0.03712)
    '0.59 ± 0.04'
    >>> probability(0.0, 0.0, interval=(0.0, 3.8e-06))
    '< 0.000004'
    >>> probability(0.9994, 0.00012, percent=True)
    '99.940 % ± 0.012 %'
    """
    scale, unit = (100.0, " %") if percent else (1.0, "")
    places = decimals(se * scale)
    if places is not None and places > MAX_DECIMALS:  # a rare event: (1.00 ± 0.05)e-05, not 0.0000100
        exponent = math.floor(math.log10(max(p, se) * scale))
        digits = decimals(se * scale / 10.0 ** exponent)
        return (f"({p * scale / 10.0 ** exponent:.{digits}f} ± {se * scale / 10.0 ** exponent:.{digits}f})"
                f"e{exponent:+03d}{unit}")
    if places is not None:
        return f"{p * scale:.{places}f}{unit} ± {se * scale:.{places}f}{unit}"
    if interval is not None:
        low, high = interval
        if p <= 0:
            return f"< {_bound_above(high * scale)}{unit}"
        if p >= 1:
            return f"> {_bound_below(low * scale, scale)}{unit}"
    return f"{p * scale:g}{unit}"


def point(p: float, se: float, *, percent: bool = False) -> str:
    """The estimate alone, at its error's precision (a table's value column)."""
    scale, unit = (100.0, " %") if percent else (1.0, "")
    places = decimals(se * scale)
    if places is not None and places > MAX_DECIMALS:
        return f"{p * scale:.{max(1, decimals(se * scale / max(p * scale, 1e-300)) or 1)}e}{unit}"
    return f"{p * scale:.{places if places is not None else 2}f}{unit}"


def interval(low: float, high: float, se: float, *, percent: bool = False) -> str:
    """A 95 % interval at the precision of the estimate (``0.51–0.66``).

    The rounding of ``decimals`` leaves the error at least 3.5 units of the
    last place, so the interval's ends (about 2 errors away) never print as
    the estimate itself.
    """
    scale, unit = (100.0, " %") if percent else (1.0, "")
    places = decimals(se * scale)
    if places is not None and places > MAX_DECIMALS:
        return f"{low * scale:.2e}{unit}–{high * scale:.2e}{unit}"
    places = MAX_DECIMALS if places is None else places
    return f"{low * scale:.{places}f}{unit}–{high * scale:.{places}f}{unit}"


def value(x: float, se: float, *, unit: str = "") -> str:
    """A quantity with its error (``263 ± 42``, ``1,204.6 ± 3.1``), thousands separated."""
    if x is None or not math.isfinite(x):
        return "none" if x is None else ("∞" if x > 0 else "-∞")
    places = decimals(se)
    if places is None:
        return f"{x:,.1f}{unit}"
    return f"{x:,.{places}f}{unit} ± {se:,.{places}f}{unit}"


def difference(d: float, se: float) -> str:
    """A signed change with its error (``+0.012 ± 0.005``)."""
    places = decimals(se)
    if places is None:
        return f"{d:+g} ± 0"
    shown = f"{d:+.{places}f}"
    if float(shown) == 0:  # no "-0.000": a change that rounds to nothing has no sign
        shown = f"{0:.{places}f}"
    return f"{shown} ± {se:.{places}f}"
