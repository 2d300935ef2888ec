"""The bubble-risk grade thresholds."""

import pytest

from risk import grade


@pytest.mark.parametrize("p, share, expected", [
    (0.05, 0.01, "low"), (0.2, 0.01, "moderate"), (0.05, 0.2, "elevated"),
    (0.6, 0.1, "high"), (0.9, 0.0, "severe"), (0.0, 0.6, "severe"), (0.10, 0.0, "moderate"),
])
def test_grade_is_the_worse_of_the_two_criteria(p, share, expected):
    assert grade.grade(p, share) == expected


def test_grade_range_uses_the_interval():
    graded, span = grade.grade_with_range({"p": 0.24, "ci95": [0.23, 0.26]}, 0.0)
    assert graded == "moderate" and span == ["moderate", "elevated"]
