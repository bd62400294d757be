"""Checkers for chapter 2, "Your first neural network" (chapters/02_first_network.ipynb)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register, to_numpy


def _problem(n: int, d: int, h: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, n).astype(float)
    W1, b1 = rng.normal(size=(d, h)), rng.normal(size=h)
    W2, b2 = rng.normal(size=(h, 1)), rng.normal(size=1)
    return X, y, W1, b1, W2, b2


def _forward_reference(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray,
                       b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A1 = np.tanh(X @ W1 + b1)
    return 1 / (1 + np.exp(-(A1 @ W2 + b2)[:, 0])), A1


def _grad_W1_reference(X: np.ndarray, y: np.ndarray, W1: np.ndarray, b1: np.ndarray,
                       W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    y_hat, A1 = _forward_reference(X, W1, b1, W2, b2)
    delta1 = ((y_hat - y)[:, None] @ W2.T) * (1 - A1**2)
    return X.T @ delta1 / X.shape[0]


@register("ch02.forward")
def _forward(mlp_forward: Any) -> str:
    """``mlp_forward(X, W1, b1, W2, b2)`` -> probabilities ``(N,)`` of the tanh network."""
    for n, d, h in ((6, 2, 3), (50, 4, 8), (1, 2, 5)):
        X, _, W1, b1, W2, b2 = _problem(n, d, h, seed=n)
        got = call(mlp_forward, X.copy(), W1.copy(), b1.copy(), W2.copy(), b2.copy())
        want, _ = _forward_reference(X, W1, b1, W2, b2)
        arr = to_numpy(got, "your output")
        if arr.shape == (n, 1):
            raise CheckFailed(f"your output has shape {(n, 1)}; return a 1-D array of shape ({n},), e.g. with [:, 0].")
        z2 = (np.tanh(X @ W1 + b1) @ W2 + b2)[:, 0]
        if arr.shape == (n,) and np.allclose(arr, z2):
            raise CheckFailed("you returned the logits z2; apply the sigmoid 1 / (1 + exp(-z2)) to get probabilities.")
        if arr.shape == (n,) and np.allclose(arr, 1 / (1 + np.exp(-((X @ W1 + b1) @ W2 + b2)[:, 0]))):
            raise CheckFailed("your hidden layer has no tanh: apply np.tanh to X @ W1 + b1.")
        expect_array(arr, want, rtol=1e-7, atol=1e-10, what=f"mlp_forward for N={n}, D={d}, H={h}")
    return "probabilities of shape (N,) on three networks, including N = 1."


@register("ch02.grad_W1")
def _grad_W1(grad_W1: Any) -> str:
    """``grad_W1(X, y, W1, b1, W2, b2)`` -> dL/dW1 ``(D, H)`` for the mean BCE of the tanh network."""
    for n, d, h in ((8, 2, 3), (40, 3, 6), (1, 2, 4)):
        X, y, W1, b1, W2, b2 = _problem(n, d, h, seed=10 + n)
        got = call(grad_W1, X.copy(), y.copy(), W1.copy(), b1.copy(), W2.copy(), b2.copy())
        want = _grad_W1_reference(X, y, W1, b1, W2, b2)
        arr = to_numpy(got, "your dW1")
        if arr.shape == (h, d) and d != h:
            raise CheckFailed(f"your dW1 has shape {(h, d)}, the transpose of W1's {(d, h)}: compute X.T @ delta1.")
        if arr.shape == want.shape and np.all(np.isfinite(arr)):
            if np.allclose(arr, want * n) and n > 1:
                raise CheckFailed("your dW1 is N times too large: the loss is a mean, divide by N.")
            y_hat, A1 = _forward_reference(X, W1, b1, W2, b2)
            no_deriv = X.T @ ((y_hat - y)[:, None] @ W2.T) / n
            if np.allclose(arr, no_deriv) and not np.allclose(no_deriv, want):
                raise CheckFailed("your dW1 misses the tanh derivative: multiply delta2 @ W2.T by (1 - A1**2).")
            if np.allclose(arr, -want):
                raise CheckFailed("your dW1 has the wrong sign: delta2 is y_hat - y, not y - y_hat.")
        expect_array(arr, want, rtol=1e-7, atol=1e-10, what=f"dW1 for N={n}, D={d}, H={h}")
    return "dW1 matches autograd-verified values on three networks."


@register("ch02.count_params")
def _count_params(count_params: Any) -> str:
    """``count_params(layer_sizes)`` -> int, weights and biases of a fully connected network."""
    for sizes in ([2, 16, 1], [2, 1], [784, 128, 64, 10], [3, 5, 5, 5, 2]):
        want = sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:]))
        got = call(count_params, list(sizes))
        no_bias = sum(m * n for m, n in zip(sizes[:-1], sizes[1:]))
        if isinstance(got, (int, np.integer)) and got == no_bias:
            raise CheckFailed(f"count_params({sizes}) = {got} counts only the weights; add one bias per unit "
                              "of every layer after the input.")
        expect_equal(got, want, what=f"count_params({sizes})")
    return "right for four networks, the same as sum(p.numel() for p in model.parameters())."


@register("ch02.train_from_zeros")
def _train_from_zeros(train_from_zeros: Any) -> str:
    """``train_from_zeros(X, y, n_hidden, steps, lr)`` -> trained params dict, from all-zero parameters."""
    from course_lib import mlp
    from course_lib.data import load_moons

    ds = load_moons(n_samples=100)
    keep = np.r_[np.flatnonzero(ds.y_train == 1), np.flatnonzero(ds.y_train == 0)[:15]]  # unbalanced
    X, y = ds.X_train[keep].astype(np.float64), ds.y_train[keep]
    got = call(train_from_zeros, X.copy(), y.copy(), 4, 50, 0.5)
    if not isinstance(got, dict) or set(got) != {"W1", "b1", "W2", "b2"}:
        raise CheckFailed("return the trained parameters: a dict with keys 'W1', 'b1', 'W2', 'b2' "
                          "(the first value that mlp.train returns).")
    zeros = {k: np.zeros_like(v) for k, v in mlp.init_params(2, 4).items()}
    want, _ = mlp.train(zeros, X, y, lr=0.5, steps=50)
    if np.abs(to_numpy(got["W1"], "W1")).max() > 0:
        raise CheckFailed("your W1 is not zero after training: did you start from mlp.init_params (random) "
                          "instead of all-zero parameters?")
    for k in ("W1", "b1", "W2", "b2"):
        expect_array(got[k], want[k], rtol=1e-8, atol=1e-12, what=f"your trained {k}")
    return (f"W1, b1 and W2 are still exactly zero after training; only b2 moved (to {float(want['b2'][0]):.3f}), "
            f"so the network predicts the same probability {1 / (1 + np.exp(-float(want['b2'][0]))):.3f} for "
            "every input: the symmetry is never broken.")
