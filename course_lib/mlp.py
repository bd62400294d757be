"""A two-layer neural network for binary classification, from scratch in NumPy (chapter 2).

Introduced in chapter 2, "Your first neural network", which derives every line; later chapters
reuse it as a small, fully transparent baseline. The network, for ``N`` examples with ``D``
features and ``H`` hidden units::

    z1 = X @ W1 + b1        (N, H)     W1 (D, H), b1 (H,)
    h1 = f(z1)              (N, H)     f: "tanh", "relu", "sigmoid", ... or "linear" (none)
    z2 = h1 @ W2 + b2       (N, 1)     W2 (H, 1), b2 (1,)
    p  = sigmoid(z2)[:, 0]  (N,)       probability of class 1

Parameters are a dict ``{"W1", "b1", "W2", "b2"}`` laid out like Keras's ``Dense`` (kernel
``(in, out)``); PyTorch's ``nn.Linear`` stores the transpose. The loss is the mean binary
cross-entropy, computed from the logits ``z2`` so that it never takes ``log(0)``. Its gradient
(chapter 2, equations (ch02-delta2) to (ch02-dW1))::

    delta2 = (p - y)[:, None] / N        (N, 1)
    dW2 = h1.T @ delta2, db2 = delta2.sum(0)
    delta1 = (delta2 @ W2.T) * f'(z1)    (N, H)
    dW1 = X.T @ delta1,  db1 = delta1.sum(0)

The unit tests (``tests/test_mlp.py``) check loss and gradients against PyTorch autograd and
TensorFlow's ``GradientTape``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.activations import ACTIVATIONS, sigmoid, softplus
from course_lib.validation import positive_float, positive_int

Params = dict[str, np.ndarray]
_KEYS = ("W1", "b1", "W2", "b2")


def _activation(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    if name == "linear":
        return (lambda z: z), (lambda z: np.ones_like(z))
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS) + ['linear']}")
    return ACTIVATIONS[name]


def _check_params(params: Any) -> tuple[int, int]:
    if not isinstance(params, dict) or set(params) != set(_KEYS):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(_KEYS)} (see init_params), got {got}")
    W1, b1, W2, b2 = (np.asarray(params[k]) for k in _KEYS)
    if W1.ndim != 2:
        raise ValueError(f"W1 must have shape (D, H), got {W1.shape}")
    d, h = W1.shape
    for name, arr, shape in (("b1", b1, (h,)), ("W2", W2, (h, 1)), ("b2", b2, (1,))):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} to match W1 {W1.shape}, got {arr.shape}")
    return d, h


def _check_X(X: Any, d: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"X must have shape (N, {d}) to match W1, got {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    return X.astype(np.float64, copy=False)


def _check_y(y: Any, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(
            f"y must have shape ({n},) (one 0/1 label per row of X), got {y.shape}; "
            "flatten an (N, 1) column with y.reshape(-1)"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must contain only the labels 0 and 1")
    return y.astype(np.float64)


def init_params(n_in: int, n_hidden: int, seed: int | np.random.Generator = 0) -> Params:
    """Random initial parameters: ``W1`` ``(n_in, n_hidden)`` ~ N(0, 1/n_in), ``W2`` ``(n_hidden, 1)``
    ~ N(0, 1/n_hidden) (variance 1/fan-in keeps activations of order 1), zero biases. float64.

    Introduced in chapter 2.
    """
    n_in, n_hidden = positive_int("n_in", n_in), positive_int("n_hidden", n_hidden)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, 1)),
        "b2": np.zeros(1),
    }


def forward(params: Params, X: np.ndarray, activation: str = "tanh") -> dict[str, np.ndarray]:
    """The forward pass. Returns ``{"z1": (N, H), "h1": (N, H), "z2": (N, 1), "p": (N,)}``. Introduced in chapter 2."""
    d, _ = _check_params(params)
    X = _check_X(X, d)
    f, _ = _activation(activation)
    z1 = X @ params["W1"] + params["b1"]
    h1 = f(z1)
    z2 = h1 @ params["W2"] + params["b2"]
    p = sigmoid(z2[:, 0])  # course_lib.activations: no overflow for large |z2|
    return {"z1": z1, "h1": h1, "z2": z2, "p": p}


def predict_proba(params: Params, X: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """Probability of class 1 for each row of ``X`` ``(N, D)``: shape ``(N,)``. Introduced in chapter 2."""
    return forward(params, X, activation)["p"]


def accuracy(params: Params, X: np.ndarray, y: np.ndarray, activation: str = "tanh") -> float:
    """Fraction of rows of ``X`` whose predicted class (p > 0.5) equals ``y`` ``(N,)``. Introduced in chapter 2."""
    p = predict_proba(params, X, activation)
    y = _check_y(y, len(p))
    return float(np.mean((p > 0.5) == (y == 1)))


def _bce_from_logits(z: np.ndarray, y: np.ndarray) -> float:
    # -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z, computed without overflow
    return float(np.mean(softplus(z) - y * z))


def loss(params: Params, X: np.ndarray, y: np.ndarray, activation: str = "tanh") -> float:
    """Mean binary cross-entropy of the network on ``X`` ``(N, D)``, ``y`` ``(N,)``. Introduced in chapter 2."""
    z2 = forward(params, X, activation)["z2"][:, 0]
    return _bce_from_logits(z2, _check_y(y, len(z2)))


def loss_and_gradients(params: Params, X: np.ndarray, y: np.ndarray, activation: str = "tanh") -> tuple[float, Params]:
    """The loss and its gradient with respect to every parameter (same keys and shapes). Introduced in chapter 2."""
    cache = forward(params, X, activation)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    y = _check_y(y, n)
    _, f_prime = _activation(activation)
    delta2 = (cache["p"] - y)[:, None] / n  # (N, 1)
    delta1 = (delta2 @ params["W2"].T) * f_prime(cache["z1"])  # (N, H)
    grads = {
        "W1": X.T @ delta1,  # (D, H)
        "b1": delta1.sum(axis=0),  # (H,)
        "W2": cache["h1"].T @ delta2,  # (H, 1)
        "b2": delta2.sum(axis=0),  # (1,)
    }
    return _bce_from_logits(cache["z2"][:, 0], y), grads


def train(
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    lr: float = 0.5,
    steps: int = 1000,
    activation: str = "tanh",
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    progress: bool = False,
) -> tuple[Params, dict[str, list[float]]]:
    """Full-batch gradient descent from ``params`` (not modified); returns the trained parameters
    and a history ``{"train": [...], "validation": [...]}`` of the loss after every step
    (``"validation"`` only when ``X_val`` and ``y_val`` are given).

    Introduced in chapter 2.
    """
    lr = positive_float("lr", lr, hint="A learning rate is a step size such as 0.5.")
    steps = positive_int("steps", steps)
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()} if isinstance(params, dict) else params
    history: dict[str, list[float]] = {"train": []}
    if X_val is not None:
        history["validation"] = []
    iterator: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="training")
    for _ in iterator:
        _, grads = loss_and_gradients(params, X, y, activation)
        for k in _KEYS:
            params[k] -= lr * grads[k]
        history["train"].append(loss(params, X, y, activation))
        if X_val is not None and y_val is not None:
            history["validation"].append(loss(params, X_val, y_val, activation))
    return params, history
