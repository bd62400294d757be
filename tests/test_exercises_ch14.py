"""Chapter 14 checkers: what does not fit the table in tests/exercise_cases/ch14.py (see tests/test_checkers.py)."""

import pytest

from course_lib.exercises import CHECKS, FAILED, check

CH14 = sorted(name for name in CHECKS if name.startswith("ch14."))


@pytest.mark.parametrize("name", CH14)
def test_list_with_a_string_fails_without_crashing(name):
    """A list mixing a number and a string is not among the generic broken answers."""
    result = check(name, lambda *a, **k: [0.5, "a"])
    assert result.status == FAILED, result
    assert result.message
