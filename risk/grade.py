"""The bubble-risk grade: documented thresholds on two numbers.

An entity's grade is the worse of two grades:

=========  =====================  ==========================================
grade      ``p_shortfall`` below  expected funding gap / PV of commitments below
=========  =====================  ==========================================
low        0.10                   0.05
moderate   0.25                   0.15
elevated   0.50                   0.30
high       0.75                   0.50
severe     (otherwise)            (otherwise)
=========  =====================  ==========================================

``p_shortfall`` is P(coverage < 1): the chance that discounted earnings do
not cover the discounted compute commitments.  The gap share says how much
outside money the shortfalls need, relative to what was committed.
``grade_range`` re-grades at both ends of the 95 % interval of
``p_shortfall``: when they differ, the grade is not settled by the draws.
"""

from __future__ import annotations

GRADES = ("low", "moderate", "elevated", "high", "severe")
P_SHORTFALL_BOUNDS = (0.10, 0.25, 0.50, 0.75)
GAP_SHARE_BOUNDS = (0.05, 0.15, 0.30, 0.50)


def _level(value: float, bounds) -> int:
    for level, bound in enumerate(bounds):
        if value < bound:
            return level
    return len(bounds)


def grade(p_shortfall: float, gap_share: float) -> str:
    """Return the bubble-risk grade of a ``p_shortfall`` and a funding-gap share."""
    return GRADES[max(_level(p_shortfall, P_SHORTFALL_BOUNDS), _level(gap_share, GAP_SHARE_BOUNDS))]


def grade_with_range(shortfall: dict, gap_share: float) -> tuple[str, list[str]]:
    """Grade at the estimate and at both ends of ``p_shortfall``'s 95 % interval."""
    low, high = shortfall["ci95"]
    return grade(shortfall["p"], gap_share), [grade(low, gap_share), grade(high, gap_share)]
