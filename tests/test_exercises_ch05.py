"""The chapter 5 checkers: the reference passes; wrong, None, raising and stub answers never crash."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import optim, schedules
from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check


def max_stable_lr(A):
    return 2.0 / np.linalg.eigvalsh(A).max()


def momentum_step(w, v, grad, lr, mu):
    v = mu * v + grad
    return w - lr * v, v


def adam_step(w, m, v, grad, t, lr, beta1, beta2, eps):
    """A correct answer built on course_lib.optim.Adam (the library's Adam step, resumed at step t)."""
    w = np.array(w, dtype=float)
    opt = optim.Adam([w], lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state[0]["exp_avg"][...], opt.state[0]["exp_avg_sq"][...] = m, v
    opt.t = t - 1
    opt.step([grad])
    return w, opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"]


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


def minibatch_noise(G, B):
    N = len(G)
    return ((G - G.mean(axis=0)) ** 2).sum(axis=1).mean() / B * (N - B) / (N - 1)


def warmup_cosine_lr(t, lr0, warmup_steps, total_steps):
    if t < warmup_steps:
        return lr0 * t / warmup_steps
    s, S = min(t, total_steps) - warmup_steps, total_steps - warmup_steps
    return lr0 * (1 + np.cos(np.pi * s / S)) / 2


def pick_lr(lrs, losses):
    return lrs[np.nanargmin(losses)] / 10


REFERENCES = {
    "ch05.max_stable_lr": max_stable_lr,
    "ch05.momentum_step": momentum_step,
    "ch05.adam_step": adam_step,
    "ch05.which_fails": lambda: "gd",
    "ch05.minibatch_noise": minibatch_noise,
    "ch05.warmup_cosine": warmup_cosine_lr,
    "ch05.range_test_pick": pick_lr,
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


def test_adam_reference_answer_is_the_library_step():
    """The checker's reference is course_lib.optim.Adam: resuming it at step t equals running it."""
    rng = np.random.default_rng(0)
    w, grads = rng.normal(size=3), rng.normal(size=(5, 3))
    opt = optim.Adam([w.copy()], lr=0.1)
    m, v, x = np.zeros(3), np.zeros(3), w.copy()
    for t, g in enumerate(grads, start=1):
        opt.step([g])
        x, m, v = adam_step(x, m, v, g, t, 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(x, opt.params[0], rtol=1e-12)


@pytest.mark.parametrize("answer, hint", [
    (lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() / B, "finite-population"),
    (lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() * (len(G) - B) / (len(G) - 1), "divides the variance"),
    (lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() / B * (len(G) - B) / len(G), "not (N - B) / N"),
    (lambda G, B: (G ** 2).sum(1).mean() / B * (len(G) - B) / (len(G) - 1), "centre"),
    (lambda G, B: np.sqrt(minibatch_noise(G, B)), "standard deviation"),
])
def test_minibatch_noise_hints(answer, hint):
    result = check("ch05.minibatch_noise", answer)
    assert result.status == FAILED and hint in result.message, result.message


def test_warmup_cosine_hints():
    off_by_one = lambda t, lr0, w, T: (lr0 * (t + 1) / w if t < w else warmup_cosine_lr(t, lr0, w, T))  # noqa: E731
    unshifted = lambda t, lr0, w, T: (lr0 * t / w if t < w else schedules.cosine(t, lr0, T))  # noqa: E731
    long_cos = lambda t, lr0, w, T: (lr0 * t / w if t < w else schedules.cosine(t - w, lr0, T))  # noqa: E731
    for answer, hint in ((off_by_one, "not at t = warmup_steps - 1"), (unshifted, "starts afresh"),
                         (long_cos, "total_steps - warmup_steps steps")):
        result = check("ch05.warmup_cosine", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_range_test_pick_hints():
    for answer, hint in ((lambda lrs, loss: lrs[np.nanargmin(loss)], "a tenth"),
                         (lambda lrs, loss: lrs[np.argmin(loss)] / 10, "nanargmin"),
                         (lambda lrs, loss: lrs[np.nanargmax(loss)] / 10, "largest loss")):
        result = check("ch05.range_test_pick", answer)
        assert result.status == FAILED and hint in result.message, result.message
