"""Printed numbers: digits from the error, never '± 0.0000', never a point outside its own interval."""

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from risk import numbers
from risk.result import wilson_interval

NUMBER = r"-?[0-9][0-9,]*\.?[0-9]*"


def _parse(text):
    return [float(x.replace(",", "")) for x in re.findall(NUMBER, text)]


@given(st.floats(0.0, 1.0), st.integers(10, 10**10), st.booleans())
def test_a_probability_prints_inside_its_interval_with_a_nonzero_error(p, n, percent):
    successes = round(p * n)
    p = successes / n
    se = math.sqrt(p * (1 - p) / n)
    low, high = wilson_interval(successes, n)
    shown = numbers.probability(p, se, interval=(low, high), percent=percent)
    scale = 100 if percent else 1
    if se == 0:
        bound = _parse(shown)[0]
        assert (shown.startswith("< ") and bound >= high * scale) or (shown.startswith("> ") and bound <= low * scale)
        return
    places = numbers.decimals(se * scale)
    if places > numbers.MAX_DECIMALS:  # (m ± e)e-07: the mantissa and error scaled back
        mantissa, error, exponent = (float(x) for x in re.match(r"\((\S+) ± (\S+)\)e([-+]\d+)", shown).groups())
        assert error > 0 and abs(mantissa * 10 ** exponent - p * scale) <= 0.15 * se * scale + 1e-300  # half a unit: at most se / 7
        return
    value, error = _parse(shown)
    assert error > 0  # never "± 0.0000"
    assert abs(value - p * scale) <= 0.5 * 10.0 ** -places + 1e-12
    assert abs(error - se * scale) <= 0.5 * 10.0 ** -places + 1e-12
    lo, hi = _parse(numbers.interval(low, high, se, percent=percent))
    assert lo <= value <= hi
    assert lo < value < hi or low == p or high == p  # the interval's ends print apart from the point


@given(st.floats(1e-10, 9.0))
def test_the_error_keeps_one_or_two_significant_digits(se):
    # over errors whose decimals are neither clamped at 0 nor at the maximum: the PDG rule exactly
    places = numbers.decimals(se)
    assert 0 <= places < 2 * numbers.MAX_DECIMALS
    shown = f"{se:.{places}f}".replace(".", "").lstrip("0")
    assert 1 <= len(shown) <= 2
    leading = se / 10.0 ** math.floor(math.log10(se))
    assert places == (1 if leading < 3.55 else 0) - math.floor(math.log10(se))


def test_the_shapes_an_analyst_sees():
    assert numbers.probability(0.58561, 0.03712) == "0.59 ± 0.04"
    assert numbers.probability(0.4716, 0.00112) == "0.4716 ± 0.0011"
    assert numbers.probability(0.9994, 0.00012, percent=True) == "99.940 % ± 0.012 %"
    assert numbers.probability(1.0, 0.0, interval=(0.9999962, 1.0)) == "> 0.999996"
    assert numbers.value(263.4, 42.0) == "263 ± 42"
    assert numbers.value(1204.61, 3.1) == "1,204.6 ± 3.1"
    assert numbers.difference(-0.0001, 0.0043) == "0.000 ± 0.004"
    assert numbers.difference(-0.0123, 0.0021) == "-0.0123 ± 0.0021"
