"""The chapter-6 checkers: reference solutions pass; wrong, None, raising and stub answers never crash."""

import math

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check
from course_lib.exercises import ch06


def leaky_relu_gain(a):
    return math.sqrt(2.0 / (1.0 + a * a))


def dropout_forward(x, u, rate):
    return np.where(u >= rate, x / (1.0 - rate), 0.0)


def bn_running_update(running_mean, running_var, batch, momentum):
    return ch06._bn_running_update_reference(running_mean, running_var, batch, momentum)


def early_stopping(val_losses, patience):
    return ch06._early_stopping_reference(val_losses, patience)


def random_search_hit(n_trials, fraction):
    return 1.0 - (1.0 - fraction) ** n_trials


REFERENCE = {
    "ch06.leaky_relu_gain": leaky_relu_gain,
    "ch06.dropout_forward": dropout_forward,
    "ch06.bn_running_update": bn_running_update,
    "ch06.early_stopping": early_stopping,
    "ch06.random_search_hit": random_search_hit,
}

WRONG = {
    "ch06.leaky_relu_gain": (lambda a: 2.0 / (1.0 + a * a), "square root"),
    "ch06.dropout_forward": (lambda x, u, rate: np.where(u >= rate, x, 0.0), "rescale"),
    "ch06.bn_running_update": (
        lambda rm, rv, b, m: ((1 - m) * rm + m * b.mean(0), (1 - m) * rv + m * b.var(0)), "biased"),
    "ch06.early_stopping": (lambda losses, patience: (int(np.argmin(losses)), len(losses) - 1), "expected"),
    "ch06.random_search_hit": (lambda n, f: f ** n, "all"),
}


def _raise(*args):
    raise ZeroDivisionError("oops")


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    result = check(name, REFERENCE[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_wrong_answer_fails_with_a_hint(name):
    fn, hint = WRONG[name]
    result = check(name, fn)
    assert result.status == FAILED
    assert hint in result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("answer", [None, _raise, lambda *a: None, lambda *a: float("nan"), 42])
def test_broken_answers_never_crash(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    if answer is not None:
        assert result.status == FAILED


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_stub_is_not_attempted(name):
    assert check(name, _stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED
