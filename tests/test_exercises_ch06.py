"""The chapter-6 checkers: reference solutions pass; wrong, None, raising and stub answers never crash."""

import math

import keras
import numpy as np
import pytest
import torch

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, ch06, check


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


def uniform_bounds(fan_in, fan_out):
    return math.sqrt(6.0 / (fan_in + fan_out)), math.sqrt(6.0 / fan_in)


def gelu_grad(x):
    x = torch.as_tensor(np.asarray(x, dtype=np.float64)).requires_grad_()
    torch.nn.functional.gelu(x).sum().backward()  # an independent reference: PyTorch's autograd
    return x.grad.numpy()


def pick_and_report(val_scores, test_scores):
    i = int(np.argmax(val_scores))
    return i, test_scores[i]


def step_learning_rates(initial_lr, epochs, steps_per_epoch, recompile):
    # an independent reference: Keras's own CosineDecay, evaluated at the optimizer's step counter
    schedule = keras.optimizers.schedules.CosineDecay(initial_lr, decay_steps=epochs * steps_per_epoch)
    steps = np.arange(epochs * steps_per_epoch)
    counter = steps % steps_per_epoch if recompile else steps
    return np.array([float(schedule(int(t))) for t in counter])


REFERENCE = {
    "ch06.leaky_relu_gain": leaky_relu_gain,
    "ch06.dropout_forward": dropout_forward,
    "ch06.bn_running_update": bn_running_update,
    "ch06.early_stopping": early_stopping,
    "ch06.random_search_hit": random_search_hit,
    "ch06.uniform_bounds": uniform_bounds,
    "ch06.gelu_grad": gelu_grad,
    "ch06.pick_and_report": pick_and_report,
    "ch06.step_learning_rates": step_learning_rates,
}

WRONG = {
    "ch06.leaky_relu_gain": (lambda a: 2.0 / (1.0 + a * a), "square root"),
    "ch06.dropout_forward": (lambda x, u, rate: np.where(u >= rate, x, 0.0), "rescale"),
    "ch06.bn_running_update": (
        lambda rm, rv, b, m: ((1 - m) * rm + m * b.mean(0), (1 - m) * rv + m * b.var(0)),
        "biased",
    ),
    "ch06.early_stopping": (lambda losses, patience: (int(np.argmin(losses)), len(losses) - 1), "expected"),
    "ch06.random_search_hit": (lambda n, f: f**n, "all"),
    "ch06.uniform_bounds": (lambda i, o: (math.sqrt(2 / (i + o)), math.sqrt(2 / i)), "standard deviation"),
    "ch06.gelu_grad": (lambda x: 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x) / math.sqrt(2))), "product rule"),
    "ch06.pick_and_report": (lambda v, t: (int(np.argmax(t)), max(t)), "test set"),
    "ch06.step_learning_rates": (lambda lr, e, s, r: step_learning_rates(lr, e, s, False), "restarts"),
}

# More typical wrong answers, each with the words its hint must contain.
MORE_WRONG = [
    (
        "ch06.bn_running_update",
        lambda rm, rv, b, m: (m * rm + (1 - m) * b.mean(0), m * rv + (1 - m) * b.var(0) * len(b) / (len(b) - 1)),
        "Keras's convention",
    ),
    ("ch06.uniform_bounds", lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(6 / o)), "fan_out"),
    ("ch06.uniform_bounds", lambda i, o: (math.sqrt(3 / i), math.sqrt(6 / i)), "averages"),
    (
        "ch06.gelu_grad",
        lambda x: (
            gelu_grad(x)
            - np.asarray(x) * np.exp(-(np.asarray(x) ** 2) / 2) / math.sqrt(2 * math.pi)
            + np.asarray(x) * np.exp(-(np.asarray(x) ** 2) / 2)
        ),
        "normalizing constant",
    ),
    ("ch06.pick_and_report", lambda v, t: (int(np.argmax(v)), max(v)), "validation"),
    ("ch06.pick_and_report", lambda v, t: (int(np.argmax(v)), max(t)), "even if another"),
    (
        "ch06.step_learning_rates",  # restarts, but with a one-epoch cosine: decay_steps wrongly shortened
        lambda lr, e, s, r: (
            step_learning_rates(lr, 1, s, False).tolist() * e if r else step_learning_rates(lr, e, s, False)
        ),
        "decay_steps is still",
    ),
    (
        "ch06.step_learning_rates",
        lambda lr, e, s, r: (
            lr
            * 0.5
            * (1 + np.cos(np.pi * np.minimum((np.arange(e * s) % s if r else np.arange(e * s)) + 1, e * s) / (e * s)))
        ),
        "off by one",
    ),
]


@pytest.mark.parametrize("name, fn, hint", MORE_WRONG, ids=lambda x: x if isinstance(x, str) else "")
def test_more_wrong_answers_get_their_specific_hint(name, fn, hint):
    result = check(name, fn)
    assert result.status == FAILED
    assert hint in result.message, result.message


def test_random_search_success_message_gives_the_right_count():
    result = check("ch06.random_search_hit", random_search_hit)
    assert "59 random trials" in result.message
    assert random_search_hit(59, 0.05) >= 0.95 > random_search_hit(58, 0.05)


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
