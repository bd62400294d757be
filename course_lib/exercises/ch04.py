"""Checkers for chapter 4, "Loss functions" (chapters/04a_loss_functions.ipynb and
chapters/04b_logits_labels_imbalance.ipynb). References come from :mod:`course_lib.losses`."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import losses as L
from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy

_RNG_SEED = 4


def _finite_or_fail(got: Any, what: str, hint: str) -> np.ndarray:
    arr = to_numpy(got, what)
    if not np.all(np.isfinite(arr)):
        raise CheckFailed(f"{what} contains NaN or inf. {hint}")
    return arr


@register("ch04.log_softmax")
def _log_softmax(log_softmax: Any) -> str:
    """``log_softmax(z)``: z (N, C) logits -> (N, C) log-probabilities, stable for huge logits."""
    rng = np.random.default_rng(_RNG_SEED)
    z = rng.normal(size=(4, 5))
    got = call(log_softmax, z.copy())
    if to_numpy(got).shape == z.shape[::-1]:
        raise CheckFailed("your result has shape (C, N); return an array of the logits' shape (N, C).")
    arr = to_numpy(got)
    if arr.shape == z.shape and np.allclose(np.exp(arr).sum(axis=0), 1) and not np.allclose(np.exp(arr).sum(axis=1), 1):
        raise CheckFailed(
            "your probabilities sum to 1 down each column: normalise along the last axis "
            "(axis=-1, over the classes), not over the batch."
        )
    expect_array(got, L.log_softmax(z), rtol=1e-9, atol=1e-12, what="log_softmax of small random logits")
    z1 = np.array([[2.0, -1.0, 0.5]])
    expect_array(
        call(log_softmax, z1.copy()), L.log_softmax(z1), rtol=1e-9, atol=1e-12, what="log_softmax of a batch of one"
    )
    big = np.array([[1e4, -1e4, 0.0], [1000.0, 1000.0, 999.0], [-800.0, -801.0, -1e4]])
    got = _finite_or_fail(
        call(log_softmax, big.copy()),
        "log_softmax of logits like 1e4 and -800",
        "exp(1e4) overflows and exp(-800) underflows to 0: subtract the row maximum "
        "before exponentiating (log-sum-exp).",
    )
    expect_array(got, L.log_softmax(big), rtol=1e-9, atol=1e-9, what="log_softmax of extreme logits")
    return "stable for logits of ±1e4, rows normalised, batch of one fine."


@register("ch04.bce_logits_grad")
def _bce_logits_grad(bce_logits_grad: Any) -> str:
    """``bce_logits_grad(z, y)``: gradient of mean BCE-with-logits w.r.t. z; z, y (N,) -> (N,)."""
    rng = np.random.default_rng(_RNG_SEED)
    for z, y in (
        (rng.normal(size=6) * 2, rng.integers(0, 2, size=6).astype(float)),
        (np.array([0.7]), np.array([1.0])),
        (np.array([1e4, -1e4, 30.0, -30.0]), np.array([0.0, 1.0, 1.0, 0.0])),
    ):
        want = L.binary_cross_entropy_with_logits_grad(z, y)
        got = _finite_or_fail(
            call(bce_logits_grad, z.copy(), y.copy()),
            f"your gradient for z={np.round(z, 2)}",
            "Compute sigmoid without overflow (exp(-z) overflows for z = -1e4; "
            "use exp(-|z|)), or use the simplified form sigmoid(z) - y.",
        )
        if got.shape == want.shape and np.all(want != 0):
            ratio = got / want
            if np.allclose(ratio, ratio[0]) and not np.isclose(ratio[0], 1):
                if np.isclose(ratio[0], -1):
                    raise CheckFailed(
                        "your gradient has the wrong sign: d/dz of -[y log s + (1-y) log(1-s)] is s - y, not y - s."
                    )
                if np.isclose(ratio[0], len(z)):
                    raise CheckFailed(
                        "your gradient is N times too large: the loss is the *mean* over the "
                        "N examples, so divide by N."
                    )
                raise CheckFailed(f"your gradient is the right one times {ratio[0]:.3g}; check the constants.")
        expect_array(got, want, rtol=1e-8, atol=1e-12, what=f"your gradient for z={np.round(z, 2)}")
    return "(sigmoid(z) - y) / N, exact even for logits of ±1e4."


PAIRINGS = {
    ("logits", "integers"): ("SparseCategoricalCrossentropy", True),
    ("logits", "one-hot"): ("CategoricalCrossentropy", True),
    ("softmax", "integers"): ("SparseCategoricalCrossentropy", False),
    ("softmax", "one-hot"): ("CategoricalCrossentropy", False),
}


@register("ch04.keras_pairing")
def _keras_pairing(keras_loss_for: Any) -> str:
    """``keras_loss_for(output, labels)`` -> ``(loss_class_name, from_logits)``."""
    for (output, labels), (name, logits) in PAIRINGS.items():
        got = call(keras_loss_for, output, labels)
        if got is None:
            raise CheckFailed("your function returned None; return a tuple such as ('CategoricalCrossentropy', False).")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a tuple (loss_class_name, from_logits), got {got!r}.")
        got_name, got_logits = got
        if not isinstance(got_name, str):
            raise CheckFailed(f"the first entry should be the loss class's name as a string, got {got_name!r}.")
        got_name = got_name.strip().removeprefix("keras.losses.").removeprefix("tf.keras.losses.")
        if got_name != name:
            why = (
                "integer labels (shape (N,)) need the *sparse* loss"
                if labels == "integers"
                else "one-hot labels (shape (N, C)) need the non-sparse CategoricalCrossentropy"
            )
            raise CheckFailed(f"for output={output!r}, labels={labels!r} you chose {got_name!r}: {why}.")
        if not isinstance(got_logits, (bool, np.bool_)):
            raise CheckFailed(f"from_logits should be True or False, got {got_logits!r}.")
        if bool(got_logits) != logits:
            why = (
                "the last layer has no softmax, so its outputs are logits: from_logits=True"
                if logits
                else "the outputs already went through a softmax: from_logits=False, or the softmax is applied twice"
            )
            raise CheckFailed(f"for output={output!r}, labels={labels!r}: {why}.")
    return "all four combinations right (the softmax-free one is the numerically safest)."


@register("ch04.focal_loss")
def _focal_loss(focal_loss: Any) -> str:
    """``focal_loss(z, y, alpha=0.25, gamma=2.0)``: mean binary focal loss on logits z (N,), y (N,)."""
    rng = np.random.default_rng(_RNG_SEED)
    z, y = rng.normal(size=8) * 2, rng.integers(0, 2, size=8).astype(float)
    cases: list[tuple[tuple[np.ndarray, np.ndarray], dict[str, float]]] = [
        ((z, y), {}),
        ((z, y), {"gamma": 0.0, "alpha": 0.5}),
        ((z, y), {"gamma": 5.0, "alpha": 0.9}),
        ((np.array([-0.3]), np.array([1.0])), {}),
    ]
    for (zz, yy), kw in cases:
        want = L.sigmoid_focal_loss(zz, yy, alpha=kw.get("alpha", 0.25), gamma=kw.get("gamma", 2.0))
        got = call(focal_loss, zz.copy(), yy.copy(), **kw)
        arr = to_numpy(got, "your loss")
        if arr.shape not in ((), (1,)):
            raise CheckFailed(f"return one number (the mean over the batch), got shape {arr.shape}.")
        expect_array(
            arr.reshape(()), want, rtol=1e-7, atol=1e-12, what=f"focal_loss for N={len(zz)} and {kw or 'the defaults'}"
        )
    zb, yb = np.array([1e4, -1e4, 50.0]), np.array([0.0, 1.0, 1.0])
    got = _finite_or_fail(
        call(focal_loss, zb.copy(), yb.copy()),
        "your loss for logits ±1e4",
        "Compute the cross-entropy from the logits (softplus(z) - y z), not from log(sigmoid(z)).",
    )
    expect_array(got.reshape(()), L.sigmoid_focal_loss(zb, yb), rtol=1e-7, what="your loss for logits ±1e4")
    return "matches Lin et al.'s focal loss, including gamma = 0 (weighted cross-entropy) and logits of ±1e4."
