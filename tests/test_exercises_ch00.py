"""Chapter 0 checkers: typical wrong answers get a hint that names the mistake."""

import numpy as np
import pytest

from course_lib import exercises as ex
from course_lib.exercises import check


def mse_grad(X, w, y):
    return 2.0 / X.shape[0] * X.T @ (X @ w - y)


@pytest.mark.parametrize("answer, fragment", [
    (lambda X, w, y: -mse_grad(X, w, y), "wrong sign"),                   # y - Xw instead of Xw - y
    (lambda X, w, y: 2.0 / X.shape[0] * X.T @ (y - X @ w), "not y - Xw"),
    (lambda X, w, y: -0.5 * mse_grad(X, w, y), "the sign is wrong"),       # sign and the factor 2
    (lambda X, w, y: 0.5 * mse_grad(X, w, y), "factor 2"),
    (lambda X, w, y: X.shape[0] * mse_grad(X, w, y), "division by N"),
])
def test_mse_grad_hints(answer, fragment):
    r = check("ch00.mse_grad", answer)
    assert r.status == ex.FAILED, r
    assert fragment in r.message, r.message


def test_mse_grad_sign_error_is_not_called_a_factor_error():
    r = check("ch00.mse_grad", lambda X, w, y: -mse_grad(X, w, y))
    assert "factor 2" not in r.message, r.message


@pytest.mark.parametrize("answer", [(4, 4), (np.int64(4), 4)])
def test_broadcast_shape_accepts_integers(answer):
    assert check("ch00.broadcast_shape", lambda: answer).passed


@pytest.mark.parametrize("answer", [(4.7, 4), (4.0, 4.0), (4, "4"), (True, 4)])
def test_broadcast_shape_rejects_non_integers(answer):
    r = check("ch00.broadcast_shape", lambda: answer)
    assert r.status == ex.FAILED, r
    assert "whole numbers" in r.message, r.message


@pytest.mark.parametrize("answer, fragment", [((4, 1), "not right"), ([4, 4], "tuple"), ((4,), "not right")])
def test_broadcast_shape_wrong_answers(answer, fragment):
    r = check("ch00.broadcast_shape", lambda: answer)
    assert r.status == ex.FAILED and fragment in r.message, r.message
