"""Checkers for chapter 2, "Your first neural network" (chapters/02_first_network.ipynb)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy


def _problem(n: int, d: int, h: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, n).astype(float)
    W1, b1 = rng.normal(size=(d, h)), rng.normal(size=h)
    W2, b2 = rng.normal(size=(h, 1)), rng.normal(size=1)
    return X, y, W1, b1, W2, b2


def _forward_reference(
    X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    A1 = np.tanh(X @ W1 + b1)
    return 1 / (1 + np.exp(-(A1 @ W2 + b2)[:, 0])), A1


def _grad_W1_reference(
    X: np.ndarray, y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
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


def _framework_nets(d: int, h: int, seed: int) -> tuple[Any, Any]:
    """A PyTorch and a Keras d-h-1 tanh/sigmoid network, each with its own random weights."""
    import keras
    import torch

    torch.manual_seed(seed)
    torch_net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, 1), torch.nn.Sigmoid())
    keras.utils.set_random_seed(seed)
    keras_net = keras.Sequential(
        [keras.Input(shape=(d,)), keras.layers.Dense(h, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")]
    )
    return torch_net, keras_net


_KEYS = ("W1", "b1", "W2", "b2")


def _check_params(got: Any, want: dict[str, np.ndarray], framework: str, stored: dict[str, str]) -> None:
    if not isinstance(got, dict) or set(got) != set(_KEYS):
        raise CheckFailed(
            f"the {framework} parameters should be a dict with keys 'W1', 'b1', 'W2', 'b2', "
            f"got {type(got).__name__} {sorted(got) if isinstance(got, dict) else ''}."
        )
    for k in _KEYS:
        arr = to_numpy(got[k], f"{framework} {k}")
        if arr.ndim == 2 and arr.shape == want[k].shape[::-1] and arr.shape != want[k].shape:
            raise CheckFailed(
                f"your {framework} {k} has shape {arr.shape}, the transpose of the expected "
                f"{want[k].shape}. {stored[k]}"
            )
        if (
            arr.shape == want[k].shape
            and arr.ndim == 2
            and arr.shape[0] == arr.shape[1]
            and np.allclose(arr, want[k].T, atol=1e-6)
            and not np.allclose(want[k], want[k].T, atol=1e-6)
        ):
            raise CheckFailed(
                f"your {framework} {k} is the transpose of the right one (a square matrix, so the "
                f"shapes could not warn you). {stored[k]}"
            )
        if (
            arr.shape == want[k].shape
            and arr.ndim == 2
            and min(arr.shape) > 1
            and np.allclose(arr, want[k].T.reshape(want[k].shape), atol=1e-6)
        ):
            raise CheckFailed(
                f"your {framework} {k} has the right shape but its entries are shuffled: you "
                "reshaped where a transpose is needed (reshape keeps the order of the entries "
                f"in memory; .T swaps the axes). {stored[k]}"
            )
        if arr.size == want[k].size and arr.shape != want[k].shape:
            raise CheckFailed(
                f"your {framework} {k} has shape {arr.shape}; our convention is {want[k].shape}: reshape it."
            )
        expect_array(arr, want[k], rtol=1e-6, atol=1e-7, what=f"your {framework} {k}")


@register("ch02.params_from_frameworks")
def _params_from_frameworks(params_from_frameworks: Any) -> str:
    """``params_from_frameworks(torch_net, keras_net)`` -> ``(params_torch, params_keras)``.

    Each is a dict of NumPy arrays in this chapter's layout: W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,),
    read from a ``torch.nn.Sequential(Linear(D, H), Tanh(), Linear(H, 1), Sigmoid())`` and from a
    Keras ``Sequential`` of ``Dense(H, "tanh")`` and ``Dense(1, "sigmoid")``.
    """
    torch_stored = {
        "W1": "nn.Linear stores its weight as (out, in) = (H, D): transpose it to get W1 (D, H).",
        "W2": "nn.Linear stores its weight as (out, in) = (1, H): transpose it to get W2 (H, 1).",
        "b1": "",
        "b2": "",
    }
    keras_stored = {
        "W1": "A Keras Dense kernel is already (in, out) = (D, H), like W1: do not transpose it.",
        "W2": "A Keras Dense kernel is already (in, out) = (H, 1), like W2: do not transpose it.",
        "b1": "",
        "b2": "",
    }
    for d, h, seed in ((2, 5, 0), (4, 4, 1)):  # D != H, and D == H where a transpose cannot crash
        torch_net, keras_net = _framework_nets(d, h, seed)
        got = call(params_from_frameworks, torch_net, keras_net)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a tuple (params_torch, params_keras) of two dicts, got {type(got).__name__}.")
        want_torch = {
            "W1": torch_net[0].weight.detach().numpy().T,
            "b1": torch_net[0].bias.detach().numpy(),
            "W2": torch_net[2].weight.detach().numpy().T,
            "b2": torch_net[2].bias.detach().numpy(),
        }
        want_keras = dict(zip(_KEYS, keras_net.get_weights()))
        if isinstance(got[0], dict) and "W1" in got[0] and set(got[0]) == set(_KEYS):
            w1 = to_numpy(got[0]["W1"], "PyTorch W1")
            if w1.shape == want_keras["W1"].shape and np.allclose(w1, want_keras["W1"], atol=1e-7):
                raise CheckFailed(
                    "your first dict holds the Keras weights: return (params_torch, params_keras), in that order."
                )
        _check_params(got[0], want_torch, "PyTorch", torch_stored)
        _check_params(got[1], want_keras, "Keras", keras_stored)
        X = np.random.default_rng(seed).normal(size=(7, d)).astype(np.float32)
        for framework, params, out in (
            ("PyTorch", got[0], torch_net(__import__("torch").from_numpy(X))),
            ("Keras", got[1], keras_net(X)),
        ):
            p = {k: to_numpy(params[k]) for k in _KEYS}
            ours = _forward_reference(X.astype(np.float64), p["W1"], p["b1"], p["W2"], p["b2"])[0]
            expect_array(
                ours,
                to_numpy(out)[:, 0],
                rtol=1e-5,
                atol=1e-6,
                what=f"the NumPy forward pass with your {framework} parameters",
            )
    return (
        "both networks' weights read into NumPy (W1 = weight.T for nn.Linear, the kernel as it is for "
        "Keras); NumPy's forward pass reproduces both networks, for D != H and D == H."
    )


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
        raise CheckFailed(
            "return the trained parameters: a dict with keys 'W1', 'b1', 'W2', 'b2' "
            "(the first value that mlp.train returns)."
        )
    zeros = {k: np.zeros_like(v) for k, v in mlp.init_params(2, 4).items()}
    want, _ = mlp.train(zeros, X, y, lr=0.5, steps=50)
    if np.abs(to_numpy(got["W1"], "W1")).max() > 0:
        raise CheckFailed(
            "your W1 is not zero after training: did you start from mlp.init_params (random) "
            "instead of all-zero parameters?"
        )
    for k in ("W1", "b1", "W2", "b2"):
        expect_array(got[k], want[k], rtol=1e-8, atol=1e-12, what=f"your trained {k}")
    return (
        f"W1, b1 and W2 are still exactly zero after training; only b2 moved (to {float(want['b2'][0]):.3f}), "
        f"so the network predicts the same probability {1 / (1 + np.exp(-float(want['b2'][0]))):.3f} for "
        "every input: the symmetry is never broken."
    )
