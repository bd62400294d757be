"""Checkers for chapter 1, "Deep learning as learning from data" (chapters/01_learning_from_data.ipynb)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register


def _least_squares_reference(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    theta, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    return theta[:-1], float(theta[-1])


@register("ch01.least_squares")
def _least_squares(least_squares: Any) -> str:
    """``least_squares(X, y) -> (w, b)``: X (N, D), y (N,) -> w (D,), b float."""
    rng = np.random.default_rng(1)
    for n, d in ((50, 1), (200, 4), (30, 10)):
        X = rng.normal(loc=2.0, size=(n, d))  # non-centred features: a missing bias shows
        y = X @ rng.normal(size=d) + 3.0 + 0.1 * rng.normal(size=n)
        got = call(least_squares, X.copy(), y.copy())
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(
                f"return a pair (w, b), got {type(got).__name__}"
                f"{' of length ' + str(len(got)) if hasattr(got, '__len__') else ''}."
            )
        w_want, b_want = _least_squares_reference(X, y)
        w_got, b_got = got
        if np.asarray(w_got).shape == (d + 1,):
            raise CheckFailed(f"w has shape {(d + 1,)}: it still contains the bias; return it separately as b.")
        expect_array(w_got, w_want, rtol=1e-6, atol=1e-8, what=f"w for N={n}, D={d}")
        expect_array(b_got, b_want, rtol=1e-6, atol=1e-8, what=f"b for N={n}, D={d}")
    return "w and b match np.linalg.lstsq on three problems."


@register("ch01.polynomial_features")
def _polynomial_features(polynomial_features: Any) -> str:
    """``polynomial_features(x, degree)``: x (N,) -> (N, degree + 1), columns 1, x, ..., x^degree."""
    x = np.linspace(-1.5, 2.0, 7)
    for degree in (0, 1, 4):
        got = call(polynomial_features, x.copy(), degree)
        want = x[:, None] ** np.arange(degree + 1)
        if np.shape(got) == (len(x), degree) if got is not None and not isinstance(got, str) else False:
            raise CheckFailed(
                f"for degree={degree} you returned {degree} columns; include the constant "
                f"column x**0 = 1 first, for degree + 1 = {degree + 1} columns."
            )
        expect_array(got, want, rtol=1e-10, atol=1e-12, what=f"polynomial_features(x, {degree})")
    return "columns 1, x, ..., x^p in the right order, degree 0 included."


@register("ch01.param_count")
def _param_count(param_count: Any) -> str:
    """``param_count(n_in, width, depth, n_out)`` -> int, every layer with a bias."""
    cases = ((1, 8, 1, 1), (1, 8, 4, 1), (10, 32, 2, 3), (784, 100, 3, 10), (3, 5, 0, 2))
    for n_in, width, depth, n_out in cases:
        sizes = [n_in] + [width] * depth + [n_out]
        want = sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:]))
        got = call(param_count, n_in, width, depth, n_out)
        no_bias = sum(m * n for m, n in zip(sizes[:-1], sizes[1:]))
        if isinstance(got, (int, np.integer)) and got == no_bias and want != no_bias:
            raise CheckFailed(
                f"param_count{(n_in, width, depth, n_out)} = {got} counts only the weights; "
                "every layer also has one bias per output unit."
            )
        expect_equal(got, want, what=f"param_count{(n_in, width, depth, n_out)}")
    return "right on five networks, including depth 0 (a linear model)."
