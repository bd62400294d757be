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
            raise CheckFailed(
                f"leaky_relu_gain({a}) returned {float(got):.6g}, the *variance* factor "
                "2 / (1 + a^2); the gain multiplies the standard deviation: take the square root."
            )
        expect_array(got, want, rtol=1e-6, what=f"leaky_relu_gain({a})")
    return "a = 0 gives ReLU's sqrt(2) and a = 1 (a linear layer) gives 1, as it should."


def _close(got: np.ndarray, want: float) -> bool:
    return bool(np.isfinite(got)) and math.isclose(float(got), want, rel_tol=1e-6)


def _uniform_bounds_reference(fan_in: int, fan_out: int) -> tuple[float, float]:
    return math.sqrt(6.0 / (fan_in + fan_out)), math.sqrt(6.0 / fan_in)


@register("ch06.uniform_bounds")
def _uniform_bounds(uniform_bounds: Any) -> str:
    """``uniform_bounds(fan_in, fan_out)`` -> ``(a_xavier, a_he)``: the bounds of U(-a, a)."""
    for fan_in, fan_out in ((784, 128), (256, 256), (10, 1000), (3, 2)):
        got = call(uniform_bounds, fan_in, fan_out)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (a_xavier, a_he), got {type(got).__name__}.")
        got_x = to_numpy(got[0], f"a_xavier for ({fan_in}, {fan_out})")
        got_h = to_numpy(got[1], f"a_he for ({fan_in}, {fan_out})")
        if got_x.shape != () or got_h.shape != ():
            raise CheckFailed("each bound should be one number.")
        want_x, want_h = _uniform_bounds_reference(fan_in, fan_out)
        if _close(got_x, want_x / math.sqrt(3.0)) or _close(got_h, want_h / math.sqrt(3.0)):
            raise CheckFailed(
                f"for ({fan_in}, {fan_out}) you returned a standard deviation, not a bound: "
                "U(-a, a) has variance a^2 / 3, so a = sqrt(3) * std."
            )
        if fan_in != fan_out and _close(got_h, math.sqrt(6.0 / fan_out)):
            raise CheckFailed(
                f"for ({fan_in}, {fan_out}) your He bound uses fan_out; He's default mode "
                "(fan_in) keeps the *forward* variance, so it divides by fan_in."
            )
        if fan_in != fan_out and _close(got_x, math.sqrt(3.0 / fan_in)):
            raise CheckFailed(
                f"for ({fan_in}, {fan_out}) your Xavier bound uses fan_in only; Xavier averages "
                "the two fans: variance 2 / (fan_in + fan_out)."
            )
        expect_array(got_x, want_x, rtol=1e-6, what=f"a_xavier for ({fan_in}, {fan_out})")
        expect_array(got_h, want_h, rtol=1e-6, what=f"a_he for ({fan_in}, {fan_out})")
    return "sqrt(6 / (fan_in + fan_out)) and sqrt(6 / fan_in): std * sqrt(3), as torch.nn.init and Keras use."


def _gelu_grad_reference(x: np.ndarray) -> np.ndarray:
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf


@register("ch06.gelu_grad")
def _gelu_grad(gelu_grad: Any) -> str:
    """``gelu_grad(x)``: the derivative Phi(x) + x phi(x) of the exact GELU, elementwise."""
    x = np.linspace(-4.0, 4.0, 33)
    got = to_numpy(call(gelu_grad, x.copy()), "gelu_grad(x)")
    want = _gelu_grad_reference(x)
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    if got.shape == want.shape and np.all(np.isfinite(got)):
        if np.allclose(got, cdf, rtol=1e-6):
            raise CheckFailed(
                "you returned Phi(x), the derivative as if Phi were constant; GELU(x) = x Phi(x) is "
                "a product: the product rule adds x phi(x)."
            )
        if np.allclose(got, cdf + x * np.exp(-0.5 * x * x), rtol=1e-6):
            raise CheckFailed(
                "phi is the standard normal *density*: exp(-x^2 / 2) / sqrt(2 pi); the "
                "normalizing constant 1 / sqrt(2 pi) is missing."
            )
        if np.allclose(got, x * cdf, rtol=1e-6):
            raise CheckFailed("that is GELU(x) itself; the exercise asks for its derivative.")
    expect_array(got, want, rtol=1e-6, atol=1e-9, what="gelu_grad(x) on linspace(-4, 4, 33)")
    return "Phi(x) + x phi(x): the slope dips slightly below 0 near x = -0.75 and tends to 1 for large x."


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
                raise CheckFailed(
                    f"{e} You zero the right entries but do not rescale the survivors: inverted "
                    "dropout divides them by (1 - rate) so that the expected output equals x."
                ) from None
            raise
    return "drops where u < rate and rescales the survivors by 1 / (1 - rate)."


def _bn_running_update_reference(
    running_mean: np.ndarray, running_var: np.ndarray, batch: np.ndarray, momentum: float
) -> tuple[np.ndarray, np.ndarray]:
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
        got_m = to_numpy(got[0], "the new running mean")
        got_v = to_numpy(got[1], "the new running variance")
        # The convention is recognised before the mean is compared, or its hint could never show.
        keras_m = m * rm + (1 - m) * batch.mean(axis=0)
        if (
            got_m.shape == keras_m.shape
            and np.allclose(got_m, keras_m, rtol=1e-9)
            and not np.allclose(keras_m, want_m, rtol=1e-9)
        ):
            raise CheckFailed(
                "your momentum weights the old running value (Keras's convention, "
                "r <- m r + (1 - m) batch); in PyTorch's convention momentum is the weight of "
                "the *new* batch statistic: r <- (1 - m) r + m batch."
            )
        expect_array(got_m, want_m, rtol=1e-9, what=f"the new running mean (N={n}, momentum={m})")
        if got_v.shape == want_v.shape and np.allclose(got_v, want_v, rtol=1e-9):
            continue
        biased = (1 - m) * rv + m * batch.var(axis=0)
        if got_v.shape == biased.shape and np.allclose(got_v, biased, rtol=1e-9):
            raise CheckFailed(
                "your running variance uses the biased batch variance (divide by N), as Keras "
                "does; PyTorch stores the unbiased one (divide by N - 1)."
            )
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
            hint = (
                " Epochs are counted from 0, and a stop happens *at* the epoch where the wait reaches patience."
                if off_by_one
                else ""
            )
            raise CheckFailed(
                f"for val_losses={losses} and patience={patience} you returned {got_pair}, "
                f"expected {want} (best_epoch, stop_epoch).{hint}"
            )
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
        if n > 1 and 0 < f < 1 and math.isclose(float(got), f**n, rel_tol=1e-6):
            raise CheckFailed(
                f"random_search_hit({n}, {f}) returned f^n, the chance that *all* trials hit; "
                "compute 1 - P(no trial hits) instead."
            )
        expect_array(got, want, rtol=1e-9, what=f"random_search_hit({n}, {f})")
    return (
        "59 random trials land in the top 5 % with probability 95 % (1 - 0.95^59 = 0.952; 58 give "
        "0.949), whatever the number of hyperparameters."
    )


def _pick_and_report_reference(val_scores: Any, test_scores: Any) -> tuple[int, float]:
    i = int(np.argmax(val_scores))
    return i, float(test_scores[i])


PICK_CASES = (
    ([0.91, 0.93, 0.92], [0.90, 0.89, 0.94]),
    ([0.80, 0.85, 0.84, 0.70], [0.81, 0.82, 0.86, 0.72]),
    ([0.5], [0.4]),
)


@register("ch06.pick_and_report")
def _pick_and_report(pick_and_report: Any) -> str:
    """``pick_and_report(val_scores, test_scores)`` -> ``(chosen_index, score_to_report)``."""
    for val, test in PICK_CASES:
        got = call(pick_and_report, list(val), list(test))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (chosen_index, score_to_report), got {type(got).__name__}.")
        want_i, want_s = _pick_and_report_reference(val, test)
        try:
            got_i = int(got[0])
        except (TypeError, ValueError, OverflowError):
            raise CheckFailed(f"chosen_index should be an integer, got {got[0]!r}.") from None
        if got_i == int(np.argmax(test)) and got_i != want_i:
            raise CheckFailed(
                f"for val={val}, test={test} you chose candidate {got_i}, the best on the *test* "
                "set: that is selecting on the test set. Choose by the validation scores."
            )
        if got_i != want_i:
            raise CheckFailed(
                f"for val={val} you chose candidate {got_i}; the best validation score is "
                f"candidate {want_i} (indices from 0)."
            )
        score = to_numpy(got[1], "score_to_report")
        if score.shape != ():
            raise CheckFailed("score_to_report should be one number.")
        if len(val) > 1 and math.isclose(float(score), val[want_i]) and not math.isclose(val[want_i], want_s):
            raise CheckFailed(
                f"for val={val} you report the chosen candidate's *validation* score {val[want_i]}; "
                "it is the maximum of noisy estimates, biased upward. Report its test score."
            )
        if len(val) > 1 and math.isclose(float(score), max(test)) and not math.isclose(max(test), want_s):
            raise CheckFailed(
                f"for test={test} you report the best test score; report the test score of the "
                "candidate chosen on validation, even if another candidate did better on test."
            )
        expect_array(score, want_s, rtol=1e-12, what=f"score_to_report for val={val}, test={test}")
    return "chosen on validation, reported on test: the one number that is not biased by the selection."


def _step_learning_rates_reference(initial_lr: float, epochs: int, steps_per_epoch: int, recompile: bool) -> np.ndarray:
    decay_steps = epochs * steps_per_epoch
    t = np.arange(decay_steps)
    if recompile:
        t = t % steps_per_epoch
    return initial_lr * 0.5 * (1.0 + np.cos(np.pi * np.minimum(t, decay_steps) / decay_steps))


LR_CASES = ((0.01, 5, 32), (0.1, 3, 4), (1.0, 1, 10))


@register("ch06.step_learning_rates")
def _step_learning_rates(step_learning_rates: Any) -> str:
    """``step_learning_rates(initial_lr, epochs, steps_per_epoch, recompile)`` -> ``(epochs*steps,)``."""
    for lr, epochs, spe in LR_CASES:
        for recompile in (False, True):
            got = to_numpy(
                call(step_learning_rates, lr, epochs, spe, recompile),
                f"step_learning_rates({lr}, {epochs}, {spe}, recompile={recompile})",
            )
            want = _step_learning_rates_reference(lr, epochs, spe, recompile)
            what = f"step_learning_rates({lr}, {epochs}, {spe}, recompile={recompile})"
            if (
                got.shape == want.shape
                and np.all(np.isfinite(got))
                and not np.allclose(got, want, rtol=1e-5, atol=1e-6 * lr)
            ):
                other = _step_learning_rates_reference(lr, epochs, spe, not recompile)
                if epochs > 1 and np.allclose(got, other, rtol=1e-5, atol=1e-6 * lr):
                    raise CheckFailed(
                        f"{what}: "
                        + (
                            "recompiling builds a new optimizer whose iterations counter starts "
                            "again at 0, so the schedule restarts every epoch."
                            if recompile
                            else "compiled once, the counter runs through all epochs without restarting."
                        )
                    )
                t = np.arange(epochs * spe)
                per_epoch = lr * 0.5 * (1.0 + np.cos(np.pi * (t % spe) / spe))
                if recompile and epochs > 1 and np.allclose(got, per_epoch, rtol=1e-5, atol=1e-6 * lr):
                    raise CheckFailed(
                        f"{what}: the schedule object is unchanged, decay_steps is still "
                        "epochs * steps_per_epoch; only the step counter restarts."
                    )
                shifted_t = (t % spe if recompile else t) + 1
                shifted = lr * 0.5 * (1.0 + np.cos(np.pi * np.minimum(shifted_t, epochs * spe) / (epochs * spe)))
                if np.allclose(got, shifted, rtol=1e-5, atol=1e-6 * lr):
                    raise CheckFailed(
                        f"{what}: off by one step. Keras evaluates the schedule at "
                        "optimizer.iterations *before* the step increments it: the first step uses "
                        "t = 0, i.e. the initial learning rate."
                    )
            expect_array(got, want, rtol=1e-5, atol=1e-6 * lr, what=what)
    return (
        "recompiled every epoch, the learning rate climbs back to its initial value at each epoch and "
        "never decays below its value after one epoch."
    )
