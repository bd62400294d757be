"""Checkers for chapter 5, "Gradient descent and its variants" (chapters/05a_*, 05b_*, 05c_*)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import optim, schedules
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
        got = _as_float(
            call(max_stable_lr, A.copy()),
            f"max_stable_lr for eigenvalues {np.round(np.linalg.eigvalsh(A), 3).tolist()}",
        )
        if not math.isclose(got, want, rel_tol=1e-6):
            lam = np.linalg.eigvalsh(A)
            hints = {
                2.0 / lam.min(): "you used the smallest eigenvalue; the stiffest direction (largest "
                "eigenvalue L) is the one that blows up first",
                1.0 / lam.max(): "1/L is the step that zeroes the stiffest direction in one step, but "
                "steps up to 2/L still contract it",
                2.0 / (lam.max() + lam.min()): "2/(L + mu) is the *best* fixed step, not the largest stable one",
                2.0 / float(np.abs(A).max()): "use the largest eigenvalue of A, not its largest entry",
            }
            hint = next(
                (h for v, h in hints.items() if math.isclose(got, v, rel_tol=1e-6)),
                "the error along eigenvector i is multiplied by (1 - lr * lambda_i) at every step",
            )
            raise CheckFailed(
                f"for eigenvalues {np.round(lam, 3).tolist()} you returned {got:.6g}, expected {want:.6g}: {hint}."
            )
    return "2 / lambda_max(A) on four problems, including a rotated (non-diagonal) one."


def _momentum_reference(w, v, grad, lr, mu):
    v_new = mu * v + grad
    return w - lr * v_new, v_new


def _unpack(result: Any, n: int, what: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != n:
        kind = type(result).__name__
        raise CheckFailed(
            f"{what} should return a tuple of {n} arrays, got {kind}"
            f"{' of length ' + str(len(result)) if isinstance(result, (tuple, list)) else ''}."
        )
    return tuple(result)


@register("ch05.momentum_step")
def _momentum_step(momentum_step: Any) -> str:
    """``momentum_step(w, v, grad, lr, mu) -> (w_new, v_new)``: heavy ball in PyTorch's form."""
    rng = np.random.default_rng(1)
    for shape, lr, mu in (((3,), 0.1, 0.9), ((2, 4), 0.05, 0.0), ((5,), 0.3, 0.5)):
        w, v, g = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
        w0, v0 = w.copy(), v.copy()
        got_w, got_v = _unpack(call(momentum_step, w.copy(), v.copy(), g.copy(), lr, mu), 2, "momentum_step")
        want_w, want_v = _momentum_reference(w0, v0, g, lr, mu)
        try:
            expect_array(got_v, want_v, what=f"v_new (lr={lr}, mu={mu})")
        except CheckFailed as e:
            if np.shape(got_v) == want_v.shape and np.allclose(got_v, mu * v0 - lr * g):
                raise CheckFailed(
                    f"{e} You returned mu*v - lr*grad (Keras' velocity); this exercise uses "
                    "PyTorch's buffer v <- mu*v + grad, with lr applied in the weight update."
                ) from None
            if np.shape(got_v) == want_v.shape and np.allclose(got_v, mu * v0 + (1 - mu) * g):
                raise CheckFailed(
                    f"{e} You damped the gradient by (1 - mu) (an exponential average); the "
                    "heavy-ball buffer adds the full gradient."
                ) from None
            raise
        expect_array(got_w, want_w, what=f"w_new (lr={lr}, mu={mu})")
    return "v <- mu v + g; w <- w - lr v, as torch.optim.SGD(momentum=mu)."


def _adam_reference(w, m, v, grad, t, lr, beta1, beta2, eps):
    """Step ``t`` of :class:`course_lib.optim.Adam` from the moments ``m``, ``v`` of step ``t - 1``."""
    w = np.array(w, dtype=float)
    opt = optim.Adam([w], lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state[0]["exp_avg"][...] = m
    opt.state[0]["exp_avg_sq"][...] = v
    opt.t = t - 1  # step() counts this step as t
    opt.step([grad])
    return w, opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"]


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
        got = _unpack(call(adam_step, *[a.copy() if isinstance(a, np.ndarray) else a for a in args]), 3, "adam_step")
        expect_array(got[1], want[1], what=f"m_new at t={t}")
        expect_array(got[2], want[2], what=f"v_new at t={t}")
        try:
            expect_array(got[0], want[0], rtol=1e-6, atol=1e-10, what=f"w_new at t={t}")
        except CheckFailed as e:
            got_w = np.asarray(got[0], dtype=float)
            m1, v1 = want[1], want[2]
            wrong = {
                "you forgot the bias correction (divide m by 1 - beta1**t and v by 1 - beta2**t)": w
                - lr * m1 / (np.sqrt(v1) + 1e-8),
                "you put eps inside the square root; Adam adds it to sqrt(v_hat)": w
                - lr * (m1 / (1 - 0.9**t)) / np.sqrt(v1 / (1 - 0.999**t) + 1e-8),
                "use t as given (the first step has t = 1), not t - 1 or t + 1": w
                - lr * (m1 / (1 - 0.9 ** (t + 1))) / (np.sqrt(v1 / (1 - 0.999 ** (t + 1))) + 1e-8),
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
    hints = {
        "momentum": "heavy ball is stable for lr * L < 2 (1 + mu) = 3.8 here, a larger range than plain GD's",
        "adam": "Adam's step is about lr in size whatever the curvature, so it cannot blow up here; it "
        "hovers near the minimum",
    }
    if got != "gd":
        raise CheckFailed(f"{got!r} does not diverge: {hints[got]}. Compute lr * L for each method.")
    expect_equal(got, "gd")
    return "plain GD: lr * L = 0.05 * 50 = 2.5 > 2, so |1 - lr L| = 1.5 and the error grows 1.5x per step."


def _minibatch_noise_reference(G: np.ndarray, B: int) -> float:
    N = G.shape[0]
    tr_sigma = float(((G - G.mean(axis=0)) ** 2).sum(axis=1).mean())
    return tr_sigma / B * (N - B) / (N - 1)


@register("ch05.minibatch_noise")
def _minibatch_noise(minibatch_noise: Any) -> str:
    """``minibatch_noise(G, B)``: E|g_B - g|^2 for a batch of B rows of G (N, P) drawn without replacement."""
    rng = np.random.default_rng(3)
    cases = [
        (rng.normal(size=(40, 5)) + 2.0, 1),
        (rng.normal(size=(40, 5)), 8),
        (rng.normal(size=(25, 3)) * 4, 10),
        (rng.normal(size=(30, 2)), 30),
    ]
    for G, B in cases:
        want = _minibatch_noise_reference(G, B)
        N = G.shape[0]
        got = _as_float(call(minibatch_noise, G.copy(), B), f"minibatch_noise(G of shape {G.shape}, B={B})")
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
            continue
        tr = want * B * (N - 1) / (N - B) if B < N else float(((G - G.mean(0)) ** 2).sum(1).mean())
        hints = [
            (
                tr / B,
                (
                    "you left out the finite-population factor (N - B) / (N - 1): a batch drawn without "
                    "replacement from N examples is less noisy than B independent draws (at B = N it is exact)"
                ),
            ),
            (
                tr,
                (
                    "you returned tr(Sigma), the noise of a single example; a batch of B averages B gradients, "
                    "which divides the variance by about B"
                ),
            ),
            (
                tr * (N - B) / (N - 1),
                ("you forgot to divide by B: a batch of B averages B gradients, which divides the variance by about B"),
            ),
            (tr / B * (N - B) / N, "the finite-population factor is (N - B) / (N - 1), not (N - B) / N"),
            (
                float(((G - G.mean(0)) ** 2).sum(1).sum() / (N - 1)) / B * (N - B) / (N - 1),
                "tr(Sigma) is the mean over the N examples of |g_i - g|^2 (divide by N, not N - 1)",
            ),
            (
                float(((G**2).sum(1)).mean()) / B * (N - B) / (N - 1),
                "centre the per-example gradients first: Sigma uses g_i - g, where g = G.mean(axis=0)",
            ),
            (
                math.sqrt(max(want, 0.0)),
                ("you returned a standard deviation; the question asks for the expected *squared* norm"),
            ),
        ]
        hint = next(
            (h for v, h in hints if math.isclose(got, v, rel_tol=1e-6, abs_tol=1e-12)),
            "tr(Sigma) / B * (N - B) / (N - 1), with tr(Sigma) the mean of |g_i - g|^2",
        )
        raise CheckFailed(f"for N={N}, B={B} you returned {got:.6g}, expected {want:.6g}: {hint}.")
    return "tr(Sigma) / B * (N - B) / (N - 1), zero at B = N, as measured in this section."


@register("ch05.warmup_cosine")
def _warmup_cosine(warmup_cosine_lr: Any) -> str:
    """``warmup_cosine_lr(t, lr0, warmup_steps, total_steps)``, as :func:`course_lib.schedules.warmup_cosine`."""
    for lr0, w, total in ((0.1, 10, 100), (1.0, 3, 20), (0.05, 1, 7)):
        for t in range(total + 3):
            want = schedules.warmup_cosine(t, lr0, w, total)
            got = _as_float(
                call(warmup_cosine_lr, t, lr0, w, total),
                f"warmup_cosine_lr(t={t}, lr0={lr0}, warmup_steps={w}, total_steps={total})",
            )
            if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                continue
            where = (
                f"at t={t} (lr0={lr0}, warmup_steps={w}, total_steps={total}) "
                f"you returned {got:.6g}, expected {want:.6g}"
            )
            hints = []
            if t < w:
                hints += [
                    (
                        lr0 * (t + 1) / w,
                        (
                            "the warm-up starts at 0 at t = 0 and reaches lr0 at t = warmup_steps "
                            "(lr0 * t / warmup_steps), not at t = warmup_steps - 1"
                        ),
                    ),
                    (lr0, "the rate must grow linearly during the first warmup_steps steps"),
                ]
            else:
                hints += [
                    (
                        schedules.cosine(t, lr0, total),
                        (
                            "after the warm-up the cosine starts afresh: use "
                            "t - warmup_steps, over total_steps - warmup_steps"
                        ),
                    ),
                    (
                        schedules.cosine(t - w, lr0, total),
                        ("the cosine lasts total_steps - warmup_steps steps, so that it reaches 0 at t = total_steps"),
                    ),
                    (
                        lr0 * math.cos(math.pi * (t - w) / (total - w)) if t <= total else float("nan"),
                        "the cosine schedule is lr0 * (1 + cos(pi * s / S)) / 2, not lr0 * cos(pi * s / S)",
                    ),
                ]
            hint = next(
                (h for v, h in hints if math.isclose(got, v, rel_tol=1e-9, abs_tol=1e-12)),
                "linear from 0 to lr0 over warmup_steps, then half a cosine from lr0 to 0 at total_steps "
                "(and 0 after it)",
            )
            raise CheckFailed(f"{where}: {hint}.")
    return "equals course_lib.schedules.warmup_cosine (and so Keras' CosineDecay with warm-up) at every step."


def _range_test_reference(lrs: np.ndarray, losses: np.ndarray) -> float:
    return float(lrs[int(np.nanargmin(losses))] / 10)


@register("ch05.range_test_pick")
def _range_test_pick(pick_lr: Any) -> str:
    """``pick_lr(lrs, losses)``: a tenth of the learning rate at the lowest (smoothed) loss of a range test."""
    lrs = np.geomspace(1e-4, 10, 60)
    u = np.log10(lrs)
    base = 2.3 - 2.0 / (1 + np.exp(-3 * (u + 2.0))) + 0.02 * np.exp(2.5 * (u + 0.3))  # falls, then explodes
    curves = [
        ("a typical curve", lrs, base),
        ("a curve whose loss is NaN after it diverged", lrs, np.where(u > 0.3, np.nan, base)),
        ("a short ramp of 8 steps", lrs[::8], base[::8]),
    ]
    for what, x, loss in curves:
        want = _range_test_reference(x, loss)
        got = _as_float(call(pick_lr, x.copy(), loss.copy()), f"pick_lr on {what}")
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        finite = np.where(np.isfinite(loss), loss, np.inf)
        hints = [
            (
                want * 10,
                (
                    "that is the rate at the minimum of the loss, already at the edge of divergence; "
                    "use about a tenth of it"
                ),
            ),
            (
                float(x[int(np.argmin(loss))] / 10) if np.isnan(loss).any() else float("nan"),
                "np.argmin returns the index of the first NaN: ignore NaN with np.nanargmin",
            ),
            (
                float(x[int(np.argmax(np.where(np.isfinite(loss), loss, -np.inf)))] / 10),
                "you took the largest loss; the pick is based on the lowest",
            ),
            (float(x[int(np.argmin(finite))] / 10**0.5), "back off by a factor of 10, not sqrt(10)"),
        ]
        hint = next(
            (h for v, h in hints if math.isfinite(v) and math.isclose(got, v, rel_tol=1e-9)),
            "find the learning rate where the loss is lowest and divide it by 10",
        )
        raise CheckFailed(f"on {what} you returned {got:.4g}, expected {want:.4g}: {hint}.")
    return "a tenth of the rate at the lowest loss, NaN after divergence ignored."
