"""The chapter 5 checkers: the reference passes; wrong, None, raising and stub answers never crash."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check


def max_stable_lr(A):
    return 2.0 / np.linalg.eigvalsh(A).max()


def momentum_step(w, v, grad, lr, mu):
    v = mu * v + grad
    return w - lr * v, v


def adam_step(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_no_bias_correction(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def adam_eps_inside(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def stub(*args):
    raise NotImplementedError()


def crash(*args):
    raise ZeroDivisionError("oops")


REFERENCES = {
    "ch05.max_stable_lr": max_stable_lr,
    "ch05.momentum_step": momentum_step,
    "ch05.adam_step": adam_step,
    "ch05.which_fails": lambda: "gd",
}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_reference_passes(name):
    result = check(name, REFERENCES[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("answer", [lambda *a: None, crash, lambda *a: np.nan, lambda *a: "x",
                                    lambda *a: (np.zeros(2),) * 3, None, 42])
def test_bad_answers_fail_without_crashing(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    assert result.message


@pytest.mark.parametrize("name", list(REFERENCES))
def test_stub_is_not_attempted(name):
    assert check(name, stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("answer, hint", [
    (lambda A: 2.0 / np.linalg.eigvalsh(A).min(), "smallest eigenvalue"),
    (lambda A: 1.0 / np.linalg.eigvalsh(A).max(), "1/L"),
    (lambda A: 2.0 / (np.linalg.eigvalsh(A).max() + np.linalg.eigvalsh(A).min()), "best"),
])
def test_max_stable_lr_hints(answer, hint):
    result = check("ch05.max_stable_lr", answer)
    assert result.status == FAILED and hint in result.message


def test_momentum_hints():
    keras_style = lambda w, v, g, lr, mu: (w + (mu * v - lr * g), mu * v - lr * g)  # noqa: E731
    ema = lambda w, v, g, lr, mu: (w - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g)  # noqa: E731
    assert "Keras" in check("ch05.momentum_step", keras_style).message
    assert "(1 - mu)" in check("ch05.momentum_step", ema).message


def test_adam_hints():
    assert "bias correction" in check("ch05.adam_step", adam_no_bias_correction).message
    assert "inside the square root" in check("ch05.adam_step", adam_eps_inside).message


def test_which_fails_wrong_choices():
    for wrong, word in (("momentum", "heavy ball"), ("adam", "Adam"), ("sgd", "one of")):
        result = check("ch05.which_fails", lambda w=wrong: w)
        assert result.status == FAILED and word in result.message
