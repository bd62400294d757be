"""Checkers for chapter 0, "How to use this course" (chapters/00_how_to_use.ipynb)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register


@register("ch00.double")
def _double(double: Any) -> str:
    """``double(x)`` returns ``2 * x`` for numbers and NumPy arrays."""
    for x in (0.0, 3.0, -1.5):
        expect_array(call(double, x), 2 * x, what=f"double({x})")
    xs = np.arange(6.0).reshape(2, 3)
    expect_array(call(double, xs), 2 * xs, what="double(np.arange(6.0).reshape(2, 3))")
    return "double works on numbers and arrays."


def _mse_grad_reference(X: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 2.0 / X.shape[0] * X.T @ (X @ w - y)


@register("ch00.mse_grad")
def _mse_grad(mse_grad: Any) -> str:
    """``mse_grad(X, w, y)``: gradient of mean((X w - y)^2); X (N, D), w (D,), y (N,) -> (D,)."""
    rng = np.random.default_rng(0)
    for n, d in ((5, 1), (50, 3), (1, 4)):
        X, w, y = rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)
        got = call(mse_grad, X.copy(), w.copy(), y.copy())
        want = _mse_grad_reference(X, w, y)
        try:
            expect_array(got, want, rtol=1e-6, atol=1e-9, what=f"mse_grad for N={n}, D={d}")
        except CheckFailed as e:
            ratio = np.asarray(got, dtype=float).ravel() / np.where(want == 0, np.nan, want)
            if np.asarray(got).shape == want.shape and np.allclose(ratio, ratio[0]) and np.isfinite(ratio[0]):
                factor = ratio[0]
                if np.isclose(factor, -1.0):
                    raise CheckFailed(
                        f"{e} Your gradient has the wrong sign (it is the right one times -1): "
                        "the residual is Xw - y, not y - Xw; the gradient points uphill, "
                        "and gradient descent subtracts it."
                    ) from None
                if factor < 0:
                    raise CheckFailed(
                        f"{e} Your gradient is the right one times {factor:.3g}: the sign is "
                        "wrong (the residual is Xw - y, not y - Xw), and so is the factor: "
                        "check the 2 and the division by N."
                    ) from None
                raise CheckFailed(
                    f"{e} Your gradient is the right one times {factor:.3g}: check the factor 2 and the division by N."
                ) from None
            raise
    return "matches 2/N Xᵀ(Xw − y) on three problems, including N = 1."


@register("ch00.broadcast_shape")
def _broadcast_shape(broadcast_shape: Any) -> str:
    """``broadcast_shape()`` returns the shape of ``a - b`` for a (4, 1) and b (4,)."""
    got = call(broadcast_shape)
    if not isinstance(got, tuple):
        raise CheckFailed(f"return a tuple such as (2, 3), got {type(got).__name__} {got!r}.")
    bad = [v for v in got if isinstance(v, bool) or not isinstance(v, (int, np.integer))]
    if bad:
        raise CheckFailed(
            f"a shape is a tuple of whole numbers (axis lengths) such as (2, 3); {bad[0]!r} in {got!r} is not one."
        )
    expect_equal(tuple(int(v) for v in got), (4, 4), what="the shape you returned")
    return "(4, 1) - (4,) broadcasts to (4, 4): sixteen differences instead of four."
