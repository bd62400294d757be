"""Learning-rate schedules as pure functions of the step number (chapter 5).

Each function returns the learning rate to use at step ``t`` (``t = 0`` is the first step), so a
training loop does ``opt.lr = cosine(t, lr0=0.1, total_steps=T)`` before ``opt.step(grads)``.
They reproduce PyTorch's ``torch.optim.lr_scheduler`` and Keras' ``keras.optimizers.schedules``
(``tests/test_schedules.py``):

=======================  ==========================================  ==============================================
function                 PyTorch                                     Keras
=======================  ==========================================  ==============================================
:func:`step_decay`       ``StepLR(step_size, gamma)``                ``ExponentialDecay(..., staircase=True)``
:func:`cosine`           ``CosineAnnealingLR(T_max, eta_min)``       ``CosineDecay(decay_steps, alpha)``
:func:`linear_warmup`    ``LinearLR(start_factor, total_iters)``     (warm-up part of ``CosineDecay``)
:func:`warmup_cosine`    ``SequentialLR([LinearLR, Cosine...])``     ``CosineDecay(warmup_target, warmup_steps)``
:func:`exponential_ramp` (LR range test)                              (LR range test)
=======================  ==========================================  ==============================================
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["step_decay", "cosine", "linear_warmup", "warmup_cosine", "exponential_ramp"]


def _step(t: Any) -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise ValueError(f"t must be a non-negative integer step number, got {t!r}")
    t = int(t)
    if t < 0:
        raise ValueError(f"t must be a non-negative integer step number, got {t}")
    return t


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer number of steps, got {value!r}")
    return value


def step_decay(t: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Multiply ``lr0`` by ``gamma`` every ``step_size`` steps: ``lr0 * gamma ** (t // step_size)``."""
    t, lr0, step_size = _step(t), _positive("lr0", lr0), _count("step_size", step_size)
    gamma = _positive("gamma", gamma)
    return lr0 * gamma ** (t // step_size)


def cosine(t: int, lr0: float, total_steps: int, lr_min: float = 0.0) -> float:
    """Half a cosine from ``lr0`` at ``t = 0`` down to ``lr_min`` at ``t = total_steps`` (then flat).

    ``lr_min + (lr0 - lr_min) * (1 + cos(pi * t / total_steps)) / 2`` (Loshchilov & Hutter, SGDR).
    """
    t, lr0, total = _step(t), _positive("lr0", lr0), _count("total_steps", total_steps)
    lr_min = _positive("lr_min", lr_min, allow_zero=True)
    if lr_min > lr0:
        raise ValueError(f"lr_min ({lr_min}) must not exceed lr0 ({lr0})")
    t = min(t, total)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2


def linear_warmup(t: int, lr0: float, warmup_steps: int, start_factor: float = 0.0) -> float:
    """Grow linearly from ``start_factor * lr0`` at ``t = 0`` to ``lr0`` at ``t = warmup_steps``, then stay."""
    t, lr0, w = _step(t), _positive("lr0", lr0), _count("warmup_steps", warmup_steps)
    start_factor = _positive("start_factor", start_factor, allow_zero=True)
    if start_factor > 1:
        raise ValueError(f"start_factor must be in [0, 1] (a fraction of lr0), got {start_factor}")
    return lr0 * (start_factor + (1 - start_factor) * min(t, w) / w)


def warmup_cosine(t: int, lr0: float, warmup_steps: int, total_steps: int, lr_min: float = 0.0) -> float:
    """Linear warm-up from 0 to ``lr0`` over ``warmup_steps``, then a cosine down to ``lr_min`` at ``total_steps``."""
    t, w, total = _step(t), _count("warmup_steps", warmup_steps), _count("total_steps", total_steps)
    if total <= w:
        raise ValueError(f"total_steps ({total}) must be larger than warmup_steps ({w})")
    if t < w:
        return linear_warmup(t, lr0, w)
    return cosine(t - w, lr0, total - w, lr_min)


def exponential_ramp(t: int, lr_start: float, lr_end: float, num_steps: int) -> float:
    """The learning-rate range test's ramp: ``lr_start`` at ``t = 0`` to ``lr_end`` at ``t = num_steps - 1``,
    evenly spaced on a log scale (Smith, 2017)."""
    t, n = _step(t), _count("num_steps", num_steps)
    lr_start, lr_end = _positive("lr_start", lr_start), _positive("lr_end", lr_end)
    if n < 2:
        raise ValueError("num_steps must be at least 2 for a ramp")
    return lr_start * (lr_end / lr_start) ** (min(t, n - 1) / (n - 1))
