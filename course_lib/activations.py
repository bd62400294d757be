"""Activation functions and their derivatives, elementwise, in NumPy (chapters 2 and 6).

The one home of every elementwise nonlinearity in the course; other modules import from here:

- :func:`sigmoid`, :func:`tanh`, :func:`relu` (introduced in chapter 2, "Your first neural
  network", where :mod:`course_lib.mlp` uses them) and :func:`softplus` (chapter 2: the binary
  cross-entropy from logits is ``softplus(z) - y z``; chapter 4's :mod:`course_lib.losses` reuses it);
- :func:`leaky_relu` and :func:`gelu` (introduced in chapter 6, "Training practice and
  regularization", which also plots every derivative; :mod:`course_lib.layers` re-exports them all).

Each ``f`` has a derivative ``f_grad`` with the same arguments. Inputs have any shape; integer
arrays are converted to ``float64`` and float arrays keep their dtype. The unit tests
(``tests/test_layers.py``, ``tests/test_activations.py``) check each against PyTorch and TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.validation import non_negative_float, one_of

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "softplus",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "gelu",
    "gelu_grad",
    "ACTIVATIONS",
    "activation",
    "as_float_array",
]


def as_float_array(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a float NumPy array (integers become ``float64``, floats keep their dtype).

    Introduced in chapter 2. Raises a ``ValueError`` for strings, objects and other non-numbers.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}; convert it with np.asarray(x, float)")
    return arr.astype(np.float64) if arr.dtype.kind in "iu" else arr


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))`` without overflow: ``exp`` only ever sees ``-|x|``.

    Introduced in chapter 2. For ``x < 0`` it returns ``e / (1 + e)`` with ``e = exp(x)``, which
    keeps full relative precision in the left tail (``sigmoid(-40)`` is ``4.2e-18``, not 0).
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: Any) -> np.ndarray:
    """Derivative of :func:`sigmoid`: ``s(x) (1 - s(x))``, at most 1/4 (at x = 0). Introduced in chapter 2."""
    s = sigmoid(x)
    return s * (1.0 - s)


def softplus(x: Any) -> np.ndarray:
    """``log(1 + exp(x))`` for any finite ``x``, computed as ``max(x, 0) + log1p(exp(-|x|))``.

    Introduced in chapter 2 (``-log sigmoid(-z) = softplus(z)``: the binary cross-entropy from
    logits); its derivative is :func:`sigmoid`.
    """
    x = as_float_array(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent. Introduced in chapter 2."""
    return np.tanh(as_float_array(x))


def tanh_grad(x: Any) -> np.ndarray:
    """Derivative of :func:`tanh`: ``1 - tanh(x)^2``, at most 1 (at x = 0). Introduced in chapter 2."""
    t = np.tanh(as_float_array(x))
    return 1.0 - t * t


def relu(x: Any) -> np.ndarray:
    """Rectified linear unit ``max(x, 0)``. Introduced in chapter 2."""
    x = as_float_array(x)
    return np.maximum(x, 0.0).astype(x.dtype)


def relu_grad(x: Any) -> np.ndarray:
    """Derivative of :func:`relu`: 1 for x > 0, else 0 (0 at x = 0, as PyTorch and TF use). Introduced in chapter 2."""
    x = as_float_array(x)
    return (x > 0).astype(x.dtype)


def _slope(negative_slope: Any) -> float:
    return non_negative_float(
        "negative_slope", negative_slope, hint="Typical values are 0.01 (PyTorch) or 0.3 (Keras)."
    )


def leaky_relu(x: Any, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` for x > 0, ``negative_slope * x`` otherwise. Introduced in chapter 6.

    PyTorch's default slope is 0.01 (``nn.LeakyReLU``); Keras 3's ``LeakyReLU`` defaults to 0.3.
    """
    slope = _slope(negative_slope)
    x = as_float_array(x)
    return np.where(x > 0, x, slope * x).astype(x.dtype)


def leaky_relu_grad(x: Any, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of :func:`leaky_relu`: 1 for x > 0, ``negative_slope`` otherwise. Introduced in chapter 6."""
    slope = _slope(negative_slope)
    x = as_float_array(x)
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(x: Any, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks and Gimpel, 2016). Introduced in chapter 6.

    ``approximate="none"`` uses the exact normal CDF ``Phi`` (PyTorch's and Keras's default);
    ``"tanh"`` uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    """
    one_of("approximate", approximate, _GELU_APPROXIMATIONS, hint="'none' is exact (erf), 'tanh' the approximation.")
    x = as_float_array(x)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_grad(x: Any, approximate: str = "none") -> np.ndarray:
    """Derivative of :func:`gelu`: ``Phi(x) + x phi(x)`` (exact) or the tanh form's derivative.

    Introduced in chapter 6.
    """
    one_of("approximate", approximate, _GELU_APPROXIMATIONS, hint="'none' is exact (erf), 'tanh' the approximation.")
    x = as_float_array(x)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(u)
        du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    from scipy.special import erf

    cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf


ACTIVATIONS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "gelu": (gelu, gelu_grad),
}
"""``{name: (f, f_prime)}`` for every activation above."""


def activation(name: str) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    """Return ``(f, f_prime)`` for an activation name such as ``"relu"``. Introduced in chapter 2."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
