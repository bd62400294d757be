"""Weight initializers from scratch in NumPy, matched to ``torch.nn.init`` and Keras (chapter 6).

Introduced in chapter 6, "Training practice and regularization". Every initializer returns a
weight matrix of shape ``(fan_in, fan_out)``, the layout of ``x @ W`` with ``x`` ``(N, fan_in)``
(Keras's ``Dense`` kernel layout; PyTorch's ``nn.Linear.weight`` is the transpose,
``(fan_out, fan_in)``). Randomness comes from a seeded ``numpy.random.Generator`` (pass
``rng=`` a Generator or an integer seed).

Variance propagation (derived in chapter 6) gives the scales:

- Xavier/Glorot (Glorot and Bengio, 2010): ``Var(W) = gain^2 * 2 / (fan_in + fan_out)``;
  uniform bound ``gain * sqrt(6 / (fan_in + fan_out))``.
- He/Kaiming (He et al., 2015): ``Var(W) = gain^2 / fan`` with ``fan`` = ``fan_in`` (keeps the
  forward activations' scale) or ``fan_out`` (keeps the backward gradients' scale) and
  ``gain = sqrt(2)`` for ReLU; uniform bound ``gain * sqrt(3 / fan)``.

PyTorch's normal initializers draw from a plain normal. Keras's ``GlorotNormal`` and
``HeNormal`` draw from a normal *truncated at two standard deviations*, rescaled (by
1 / 0.8796...) so that the final standard deviation is still the target; ``truncated=True``
does the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.validation import non_negative_float, positive_float, positive_int, real

# Standard deviation of a standard normal truncated to [-2, 2]; Keras divides by it.
TRUNCATED_STD = 0.87962566103423978

_GAINS = {
    "linear": 1.0,
    "identity": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 0.75,
}


def make_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A NumPy Generator from a Generator (returned as is), an integer seed, or None (fresh entropy).

    Introduced in chapter 6.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an integer seed or None, got {type(rng).__name__}")


def _check_fans(fan_in: Any, fan_out: Any) -> tuple[int, int]:
    width = "It is a layer width."
    return positive_int("fan_in", fan_in, hint=width), positive_int("fan_out", fan_out, hint=width)


def _check_gain(gain: Any) -> float:
    return positive_float("gain", gain, hint="See calculate_gain.")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    ``"linear"``/``"sigmoid"`` 1, ``"tanh"`` 5/3, ``"relu"`` sqrt(2), ``"selu"`` 3/4 and
    ``"leaky_relu"`` sqrt(2 / (1 + a^2)) with negative slope ``a = param`` (default 0.01).

    Introduced in chapter 6.
    """
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else param
        a = real("param", a, hint="param is the negative slope of the leaky ReLU.")
        return math.sqrt(2.0 / (1.0 + a * a))
    if nonlinearity not in _GAINS:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose from {sorted([*_GAINS, 'leaky_relu'])}")
    return _GAINS[nonlinearity]


def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Target standard deviation of Xavier/Glorot: ``gain * sqrt(2 / (fan_in + fan_out))``. Introduced in chapter 6."""
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    return _check_gain(gain) * math.sqrt(2.0 / (fan_in + fan_out))


def he_std(fan_in: int, fan_out: int, mode: str = "fan_in", gain: float = math.sqrt(2.0)) -> float:
    """Target standard deviation of He/Kaiming: ``gain / sqrt(fan)``, ``fan`` chosen by ``mode``.

    Introduced in chapter 6.
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' (forward pass) or 'fan_out' (backward pass), got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return _check_gain(gain) / math.sqrt(fan)


def truncated_normal(shape: tuple[int, ...], std: float, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Normal samples with final standard deviation ``std``, truncated at +-2 raw std (as Keras).

    Draws from ``N(0, (std / 0.8796...)^2)`` and redraws every value beyond two of those standard
    deviations; the result has standard deviation ``std`` and lies in ``+-2 std / 0.8796``.

    Introduced in chapter 6.
    """
    std = non_negative_float("std", std)
    rng = make_rng(rng)
    raw = std / TRUNCATED_STD
    out = rng.normal(0.0, raw, size=shape)
    bad = np.abs(out) > 2 * raw
    while bad.any():
        out[bad] = rng.normal(0.0, raw, size=int(bad.sum()))
        bad = np.abs(out) > 2 * raw
    return out


def zeros(fan_in: int, fan_out: int) -> np.ndarray:
    """All-zero weights ``(fan_in, fan_out)``: every hidden unit stays identical (chapter 6 shows why).

    Introduced in chapter 6.
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    return np.zeros((fan_in, fan_out))


def xavier_uniform(
    fan_in: int, fan_out: int, gain: float = 1.0, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``; shape ``(fan_in, fan_out)``.

    Matches ``torch.nn.init.xavier_uniform_`` and ``keras.initializers.GlorotUniform`` (gain 1).

    Introduced in chapter 6.
    """
    a = math.sqrt(3.0) * xavier_std(fan_in, fan_out, gain)
    return make_rng(rng).uniform(-a, a, size=(int(fan_in), int(fan_out)))


def xavier_normal(
    fan_in: int, fan_out: int, gain: float = 1.0, rng: np.random.Generator | int | None = None, truncated: bool = False
) -> np.ndarray:
    """Normal with std ``gain * sqrt(2 / (fan_in + fan_out))``; shape ``(fan_in, fan_out)``.

    ``truncated=False`` matches ``torch.nn.init.xavier_normal_``; ``truncated=True`` matches
    ``keras.initializers.GlorotNormal`` (same std, no value beyond 2 / 0.8796 std).

    Introduced in chapter 6.
    """
    std = xavier_std(fan_in, fan_out, gain)
    shape = (int(fan_in), int(fan_out))
    if truncated:
        return truncated_normal(shape, std, rng)
    return make_rng(rng).normal(0.0, std, size=shape)


def he_uniform(
    fan_in: int,
    fan_out: int,
    mode: str = "fan_in",
    gain: float = math.sqrt(2.0),
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """``U(-a, a)`` with ``a = gain * sqrt(3 / fan)``; shape ``(fan_in, fan_out)``.

    Matches ``torch.nn.init.kaiming_uniform_(w, nonlinearity="relu", mode=mode)`` and, with
    ``mode="fan_in"``, ``keras.initializers.HeUniform``.

    Introduced in chapter 6.
    """
    a = math.sqrt(3.0) * he_std(fan_in, fan_out, mode, gain)
    return make_rng(rng).uniform(-a, a, size=(int(fan_in), int(fan_out)))


def he_normal(
    fan_in: int,
    fan_out: int,
    mode: str = "fan_in",
    gain: float = math.sqrt(2.0),
    rng: np.random.Generator | int | None = None,
    truncated: bool = False,
) -> np.ndarray:
    """Normal with std ``gain / sqrt(fan)``; shape ``(fan_in, fan_out)``.

    ``truncated=False`` matches ``torch.nn.init.kaiming_normal_(w, nonlinearity="relu", mode=mode)``;
    ``truncated=True`` with ``mode="fan_in"`` matches ``keras.initializers.HeNormal``.

    Introduced in chapter 6.
    """
    std = he_std(fan_in, fan_out, mode, gain)
    shape = (int(fan_in), int(fan_out))
    if truncated:
        return truncated_normal(shape, std, rng)
    return make_rng(rng).normal(0.0, std, size=shape)


# The other common names of the same initializers.
glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal
