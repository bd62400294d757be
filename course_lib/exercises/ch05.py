"""Checkers for chapter 5, "Gradient descent and its variants" (chapters/05a_*, 05b_*, 05c_*)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register


def _max_stable_lr_reference(A: np.ndarray) -> float:
    return 2.0 / float(np.linalg.eigvalsh((A + A.T) / 2).max())


def _as_float(x: Any, what: str) -> float:
    if x is None:
        raise CheckFailed(f"{what} is None; did your function forget to `return` its result?")
    try:
        value = float(np.asarray(x, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a single number, got {type(x).__name__} {x!r}.") from None
    if not math.isfinite(value):
        raise CheckFailed(f"{what} is {value}; look for a division by zero.")
    return value


@register("ch05.max_stable_lr")
def _max_stable_lr(max_stable_lr: Any) -> str:
    """``max_stable_lr(A)``: the supremum of stable gradient-descent steps on f(x) = x^T A x / 2."""
    problems = [np.diag([1.0, 10.0]), np.diag([0.5, 0.5, 4.0]), np.array([[3.0, 1.0], [1.0, 3.0]])]
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    problems.append(Q @ np.diag([0.1, 1.0, 2.0, 25.0]) @ Q.T)
    for A in problems:
        want = _max_stable_lr_reference(A)
        got = _as_float(call(max_stable_lr, A.copy()), f"max_stable_lr for eigenvalues "
                                                      f"{np.round(np.linalg.eigvalsh(A), 3).tolist()}")
        if not math.isclose(got, want, rel_tol=1e-6):
            lam = np.linalg.eigvalsh(A)
            hints = {2.0 / lam.min(): "you used the smallest eigenvalue; the stiffest direction (largest "
                                      "eigenvalue L) is the one that blows up first",
                     1.0 / lam.max(): "1/L is the step that zeroes the stiffest direction in one step, but "
                                      "steps up to 2/L still contract it",
                     2.0 / (lam.max() + lam.min()): "2/(L + mu) is the *best* fixed step, not the largest stable one",
                     2.0 / float(np.abs(A).max()): "use the largest eigenvalue of A, not its largest entry"}
            hint = next((h for v, h in hints.items() if math.isclose(got, v, rel_tol=1e-6)),
                        "the error along eigenvector i is multiplied by (1 - lr * lambda_i) at every step")
            raise CheckFailed(f"for eigenvalues {np.round(lam, 3).tolist()} you returned {got:.6g}, expected "
                              f"{want:.6g}: {hint}.")
    return "2 / lambda_max(A) on four problems, including a rotated (non-diagonal) one."


def _momentum_reference(w, v, grad, lr, mu):
    v_new = mu * v + grad
    return w - lr * v_new, v_new


def _unpack(result: Any, n: int, what: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != n:
        kind = type(result).__name__
        raise CheckFailed(f"{what} should return a tuple of {n} arrays, got {kind}"
                          f"{' of length ' + str(len(result)) if isinstance(result, (tuple, list)) else ''}.")
    return tuple(result)


@register("ch05.momentum_step")
def _momentum_step(momentum_step: Any) -> str:
    """``momentum_step(w, v, grad, lr, mu) -> (w_new, v_new)``: heavy ball in PyTorch's form."""
    rng = np.random.default_rng(1)
    for shape, lr, mu in (((3,), 0.1, 0.9), ((2, 4), 0.05, 0.0), ((5,), 0.3, 0.5)):
        w, v, g = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
        w0, v0 = w.copy(), v.copy()
        got_w, got_v = _unpack(call(momentum_step, w.copy(), v.copy(), g.copy(), lr, mu), 2,
                               "momentum_step")
        want_w, want_v = _momentum_reference(w0, v0, g, lr, mu)
        try:
            expect_array(got_v, want_v, what=f"v_new (lr={lr}, mu={mu})")
        except CheckFailed as e:
            if np.shape(got_v) == want_v.shape and np.allclose(got_v, mu * v0 - lr * g):
                raise CheckFailed(f"{e} You returned mu*v - lr*grad (Keras' velocity); this exercise uses "
                                  "PyTorch's buffer v <- mu*v + grad, with lr applied in the weight update.") from None
            if np.shape(got_v) == want_v.shape and np.allclose(got_v, mu * v0 + (1 - mu) * g):
                raise CheckFailed(f"{e} You damped the gradient by (1 - mu) (an exponential average); the "
                                  "heavy-ball buffer adds the full gradient.") from None
            raise
        expect_array(got_w, want_w, what=f"w_new (lr={lr}, mu={mu})")
    return "v <- mu v + g; w <- w - lr v, as torch.optim.SGD(momentum=mu)."


def _adam_reference(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@register("ch05.adam_step")
def _adam_step(adam_step: Any) -> str:
    """``adam_step(w, m, v, grad, t, lr, beta1, beta2, eps) -> (w_new, m_new, v_new)``."""
    rng = np.random.default_rng(2)
    cases = [((4,), 1, 1e-3), ((4,), 2, 1e-3), ((2, 3), 10, 1e-2), ((3,), 1000, 1e-1)]
    for shape, t, lr in cases:
        w, g = rng.normal(size=shape), rng.normal(size=shape) * 1e-3
        m = np.zeros(shape) if t == 1 else rng.normal(size=shape) * 1e-3
        v = np.zeros(shape) if t == 1 else rng.uniform(size=shape) * 1e-6
        args = (w, m, v, g, t, lr, 0.9, 0.999, 1e-8)
        want = _adam_reference(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        got = _unpack(call(adam_step, *[a.copy() if isinstance(a, np.ndarray) else a for a in args]), 3,
                      "adam_step")
        expect_array(got[1], want[1], what=f"m_new at t={t}")
        expect_array(got[2], want[2], what=f"v_new at t={t}")
        try:
            expect_array(got[0], want[0], rtol=1e-6, atol=1e-10, what=f"w_new at t={t}")
        except CheckFailed as e:
            got_w = np.asarray(got[0], dtype=float)
            m1, v1 = want[1], want[2]
            wrong = {
                "you forgot the bias correction (divide m by 1 - beta1**t and v by 1 - beta2**t)":
                    w - lr * m1 / (np.sqrt(v1) + 1e-8),
                "you put eps inside the square root; Adam adds it to sqrt(v_hat)":
                    w - lr * (m1 / (1 - 0.9**t)) / np.sqrt(v1 / (1 - 0.999**t) + 1e-8),
                "use t as given (the first step has t = 1), not t - 1 or t + 1":
                    w - lr * (m1 / (1 - 0.9**(t + 1))) / (np.sqrt(v1 / (1 - 0.999**(t + 1))) + 1e-8),
            }
            for hint, value in wrong.items():
                if got_w.shape == value.shape and np.allclose(got_w, value, rtol=1e-6, atol=1e-10):
                    raise CheckFailed(f"{e} It looks like {hint}.") from None
            raise
    return "m, v and the bias-corrected update match torch.optim.Adam, from t = 1 to t = 1000."


WHICH_FAILS_CHOICES = ("gd", "momentum", "adam")


@register("ch05.which_fails")
def _which_fails(which_fails: Any) -> str:
    """``which_fails()``: the optimizer that diverges on f(x) = 25 x^2 with lr = 0.05 (see 05b)."""
    got = call(which_fails)
    if not isinstance(got, str) or got.strip().lower() not in WHICH_FAILS_CHOICES:
        raise CheckFailed(f"return one of {WHICH_FAILS_CHOICES} as a string, got {got!r}.")
    got = got.strip().lower()
    hints = {"momentum": "heavy ball is stable for lr * L < 2 (1 + mu) = 3.8 here, a larger range than plain GD's",
             "adam": "Adam's step is about lr in size whatever the curvature, so it cannot blow up here; it "
                     "hovers near the minimum"}
    if got != "gd":
        raise CheckFailed(f"{got!r} does not diverge: {hints[got]}. Compute lr * L for each method.")
    expect_equal(got, "gd")
    return "plain GD: lr * L = 0.05 * 50 = 2.5 > 2, so |1 - lr L| = 1.5 and the error grows 1.5x per step."
