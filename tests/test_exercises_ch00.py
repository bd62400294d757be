"""Chapter 0 checkers: what does not fit the table in tests/exercise_cases/ch00.py (see tests/test_checkers.py)."""

from exercise_cases.ch00 import mse_grad

from course_lib.exercises import check


def test_mse_grad_sign_error_is_not_called_a_factor_error():
    r = check("ch00.mse_grad", lambda X, w, y: -mse_grad(X, w, y))
    assert "factor 2" not in r.message, r.message
