"""Chapter 6 checkers: what does not fit the table in tests/exercise_cases/ch06.py (see tests/test_checkers.py)."""

import pytest
from exercise_cases.ch06 import random_search_hit

from course_lib.exercises import CHECKS, FAILED, check


def test_random_search_success_message_gives_the_right_count():
    result = check("ch06.random_search_hit", random_search_hit)
    assert "59 random trials" in result.message
    assert random_search_hit(59, 0.05) >= 0.95 > random_search_hit(58, 0.05)


@pytest.mark.parametrize("name", sorted(n for n in CHECKS if n.startswith("ch06.")))
def test_answer_that_returns_nothing_fails(name):
    """``lambda *a: None`` (no keyword arguments) is a wrong answer, not a stub: "failed"."""
    result = check(name, lambda *a: None)
    assert result.status == FAILED, result
    assert result.message
