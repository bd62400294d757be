"""Chapter 5 exercise answers: references, and wrong answers with their hint."""

import numpy as np

from course_lib import optim, schedules


# -- reference solutions -------------------------------------------------------------------------
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


def which_fails():
    return "gd"


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


# -- typical wrong answers -----------------------------------------------------------------------
def momentum_keras_style(w, v, g, lr, mu):
    v = mu * v - lr * g
    return w + v, v


def momentum_ema(w, v, g, lr, mu):
    v = mu * v + (1 - mu) * g
    return w - lr * v, v


def adam_no_bias_correction(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def adam_eps_inside(w, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _choice(word):
    return lambda: word


def warmup_off_by_one(t, lr0, w, T):
    return lr0 * (t + 1) / w if t < w else warmup_cosine_lr(t, lr0, w, T)


def warmup_unshifted_cosine(t, lr0, w, T):
    return lr0 * t / w if t < w else schedules.cosine(t, lr0, T)


def warmup_long_cosine(t, lr0, w, T):
    return lr0 * t / w if t < w else schedules.cosine(t - w, lr0, T)


PASS = [
    ("ch05.max_stable_lr", max_stable_lr),
    ("ch05.momentum_step", momentum_step),
    ("ch05.adam_step", adam_step),
    ("ch05.which_fails", which_fails),
    ("ch05.minibatch_noise", minibatch_noise),
    ("ch05.warmup_cosine", warmup_cosine_lr),
    ("ch05.range_test_pick", pick_lr),
]

FAIL = [
    ("ch05.max_stable_lr", lambda A: 2.0 / np.linalg.eigvalsh(A).min(), "smallest eigenvalue"),
    ("ch05.max_stable_lr", lambda A: 1.0 / np.linalg.eigvalsh(A).max(), "1/L"),
    ("ch05.max_stable_lr", lambda A: 2.0 / (np.linalg.eigvalsh(A).max() + np.linalg.eigvalsh(A).min()), "best"),
    ("ch05.momentum_step", momentum_keras_style, "Keras"),
    ("ch05.momentum_step", momentum_ema, "(1 - mu)"),
    ("ch05.adam_step", adam_no_bias_correction, "bias correction"),
    ("ch05.adam_step", adam_eps_inside, "inside the square root"),
    ("ch05.which_fails", _choice("momentum"), "heavy ball"),
    ("ch05.which_fails", _choice("adam"), "Adam"),
    ("ch05.which_fails", _choice("sgd"), "one of"),
    ("ch05.minibatch_noise", lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() / B, "finite-population"),
    (
        "ch05.minibatch_noise",
        lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() * (len(G) - B) / (len(G) - 1),
        "divides the variance",
    ),
    (
        "ch05.minibatch_noise",
        lambda G, B: ((G - G.mean(0)) ** 2).sum(1).mean() / B * (len(G) - B) / len(G),
        "not (N - B) / N",
    ),
    ("ch05.minibatch_noise", lambda G, B: (G**2).sum(1).mean() / B * (len(G) - B) / (len(G) - 1), "centre"),
    ("ch05.minibatch_noise", lambda G, B: np.sqrt(minibatch_noise(G, B)), "standard deviation"),
    ("ch05.warmup_cosine", warmup_off_by_one, "not at t = warmup_steps - 1"),
    ("ch05.warmup_cosine", warmup_unshifted_cosine, "starts afresh"),
    ("ch05.warmup_cosine", warmup_long_cosine, "total_steps - warmup_steps steps"),
    ("ch05.range_test_pick", lambda lrs, loss: lrs[np.nanargmin(loss)], "a tenth"),
    ("ch05.range_test_pick", lambda lrs, loss: lrs[np.argmin(loss)] / 10, "nanargmin"),
    ("ch05.range_test_pick", lambda lrs, loss: lrs[np.nanargmax(loss)] / 10, "largest loss"),
]
