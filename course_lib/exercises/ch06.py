"""Checkers for chapter 6, "Training practice and regularization" (chapters/06a-06c)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy


# ---------------------------------------------------------------------------- 06a
def _leaky_relu_gain_reference(a: float) -> float:
    return math.sqrt(2.0 / (1.0 + a * a))


@register("ch06.leaky_relu_gain")
def _leaky_relu_gain(leaky_relu_gain: Any) -> str:
    """``leaky_relu_gain(a)``: the He gain sqrt(2 / (1 + a^2)) for a leaky ReLU of slope ``a``."""
    for a in (0.0, 0.01, 0.2, 1.0):
        got = to_numpy(call(leaky_relu_gain, a), what=f"leaky_relu_gain({a})")
        if got.shape != ():
            raise CheckFailed(f"leaky_relu_gain({a}) should return one number, got shape {got.shape}.")
        want = _leaky_relu_gain_reference(a)
        if math.isclose(float(got), want * want, rel_tol=1e-6) and a != 1.0:
            raise CheckFailed(f"leaky_relu_gain({a}) returned {float(got):.6g}, the *variance* factor "
                              "2 / (1 + a^2); the gain multiplies the standard deviation: take the square root.")
        expect_array(got, want, rtol=1e-6, what=f"leaky_relu_gain({a})")
    return "a = 0 gives ReLU's sqrt(2) and a = 1 (a linear layer) gives 1, as it should."


# ---------------------------------------------------------------------------- 06b
def _dropout_forward_reference(x: np.ndarray, u: np.ndarray, rate: float) -> np.ndarray:
    return np.where(u >= rate, x / (1.0 - rate), 0.0)


@register("ch06.dropout_forward")
def _dropout_forward(dropout_forward: Any) -> str:
    """``dropout_forward(x, u, rate)``: inverted dropout; entry i dropped where ``u[i] < rate``."""
    rng = np.random.default_rng(0)
    for shape, rate in (((4, 5), 0.5), ((3,), 0.2), ((2, 3, 4), 0.0)):
        x = rng.normal(size=shape)
        u = rng.random(shape)
        got = call(dropout_forward, x.copy(), u.copy(), rate)
        want = _dropout_forward_reference(x, u, rate)
        try:
            expect_array(got, want, rtol=1e-9, atol=1e-12, what=f"dropout_forward with rate={rate}")
        except CheckFailed as e:
            plain = np.where(u >= rate, x, 0.0)
            if to_numpy(got).shape == want.shape and np.allclose(to_numpy(got), plain) and rate > 0:
                raise CheckFailed(f"{e} You zero the right entries but do not rescale the survivors: inverted "
                                  "dropout divides them by (1 - rate) so that the expected output equals x.") from None
            raise
    return "drops where u < rate and rescales the survivors by 1 / (1 - rate)."


def _bn_running_update_reference(running_mean: np.ndarray, running_var: np.ndarray, batch: np.ndarray,
                                 momentum: float) -> tuple[np.ndarray, np.ndarray]:
    n = batch.shape[0]
    mean = batch.mean(axis=0)
    var = batch.var(axis=0) * n / (n - 1)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


@register("ch06.bn_running_update")
def _bn_running_update(bn_running_update: Any) -> str:
    """``bn_running_update(running_mean, running_var, batch, momentum)`` in PyTorch's convention."""
    rng = np.random.default_rng(1)
    for n, d, m in ((8, 3, 0.1), (2, 1, 0.5), (32, 5, 0.01)):
        rm, rv = rng.normal(size=d), rng.uniform(0.5, 2.0, size=d)
        batch = rng.normal(2.0, 3.0, size=(n, d))
        got = call(bn_running_update, rm.copy(), rv.copy(), batch.copy(), m)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (new_running_mean, new_running_var), got {type(got).__name__}.")
        want_m, want_v = _bn_running_update_reference(rm, rv, batch, m)
        expect_array(got[0], want_m, rtol=1e-9, what=f"the new running mean (N={n}, momentum={m})")
        got_v = to_numpy(got[1], "the new running variance")
        if got_v.shape == want_v.shape and np.allclose(got_v, want_v, rtol=1e-9):
            continue
        biased = (1 - m) * rv + m * batch.var(axis=0)
        if got_v.shape == biased.shape and np.allclose(got_v, biased, rtol=1e-9):
            raise CheckFailed("your running variance uses the biased batch variance (divide by N), as Keras "
                              "does; PyTorch stores the unbiased one (divide by N - 1).")
        keras_like = m * rv + (1 - m) * batch.var(axis=0) * n / (n - 1)
        if got_v.shape == keras_like.shape and np.allclose(got_v, keras_like, rtol=1e-9):
            raise CheckFailed("your momentum weights the old running value; in PyTorch's convention momentum "
                              "is the weight of the *new* batch statistic.")
        expect_array(got_v, want_v, rtol=1e-9, what=f"the new running variance (N={n}, momentum={m})")
    return "matches torch.nn.BatchNorm1d's running statistics, unbiased variance included."


def _early_stopping_reference(val_losses: Any, patience: int) -> tuple[int, int]:
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1


EARLY_STOPPING_CASES = (
    ([5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 2.0], 2),
    ([5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 2.0], 5),
    ([3.0, 2.0, 1.0], 1),
    ([1.0, 1.0, 1.0, 1.0], 3),
    ([4.0, 3.0, 3.2, 2.9, 3.1, 3.3, 3.4, 2.5], 3),
)


@register("ch06.early_stopping")
def _early_stopping(early_stopping: Any) -> str:
    """``early_stopping(val_losses, patience)`` -> ``(best_epoch, stop_epoch)``, 0-based."""
    for losses, patience in EARLY_STOPPING_CASES:
        got = call(early_stopping, list(losses), patience)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (best_epoch, stop_epoch), got {got!r}.")
        want = _early_stopping_reference(losses, patience)
        try:
            got_pair = (int(got[0]), int(got[1]))
        except (TypeError, ValueError):
            raise CheckFailed(f"best_epoch and stop_epoch should be integers, got {got!r}.") from None
        if got_pair != want:
            off_by_one = tuple(g - w for g, w in zip(got_pair, want)) in ((1, 1), (0, 1), (0, -1), (1, 0))
            hint = " Epochs are counted from 0, and a stop happens *at* the epoch where the wait reaches patience." \
                if off_by_one else ""
            raise CheckFailed(f"for val_losses={losses} and patience={patience} you returned {got_pair}, "
                              f"expected {want} (best_epoch, stop_epoch).{hint}")
    return "stops after `patience` epochs without improvement and keeps the best epoch's weights."


# ---------------------------------------------------------------------------- 06c
@register("ch06.random_search_hit")
def _random_search_hit(random_search_hit: Any) -> str:
    """``random_search_hit(n_trials, fraction)``: P(at least one trial in the best ``fraction``)."""
    for n, f in ((1, 0.05), (10, 0.05), (60, 0.05), (20, 0.5), (5, 0.0), (3, 1.0)):
        got = to_numpy(call(random_search_hit, n, f), what=f"random_search_hit({n}, {f})")
        if got.shape != ():
            raise CheckFailed(f"random_search_hit({n}, {f}) should return one number, got shape {got.shape}.")
        want = 1.0 - (1.0 - f) ** n
        if n > 1 and 0 < f < 1 and math.isclose(float(got), f ** n, rel_tol=1e-6):
            raise CheckFailed(f"random_search_hit({n}, {f}) returned f^n, the chance that *all* trials hit; "
                              "compute 1 - P(no trial hits) instead.")
        expect_array(got, want, rtol=1e-9, what=f"random_search_hit({n}, {f})")
    return "60 random trials land in the top 5 % with probability 95 %, whatever the number of hyperparameters."
