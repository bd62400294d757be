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
from typing import Any

from course_lib.validation import non_negative_float, non_negative_int, positive_float, positive_int

_STEPS = "It is a number of optimizer steps."


def _step_number(t: Any) -> int:
    return non_negative_int("t", t, hint="t is the step number, 0 at the first step.")


__all__ = ["step_decay", "cosine", "linear_warmup", "warmup_cosine", "exponential_ramp"]


def step_decay(t: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Multiply ``lr0`` by ``gamma`` every ``step_size`` steps: ``lr0 * gamma ** (t // step_size)``.

    Introduced in chapter 5.
    """
    t, lr0, step_size = _step_number(t), positive_float("lr0", lr0), positive_int("step_size", step_size, hint=_STEPS)
    gamma = positive_float("gamma", gamma)
    return lr0 * gamma ** (t // step_size)


def cosine(t: int, lr0: float, total_steps: int, lr_min: float = 0.0) -> float:
    """Half a cosine from ``lr0`` at ``t = 0`` down to ``lr_min`` at ``t = total_steps`` (then flat).

    ``lr_min + (lr0 - lr_min) * (1 + cos(pi * t / total_steps)) / 2`` (Loshchilov & Hutter, SGDR).

    Introduced in chapter 5.
    """
    t, lr0, total = _step_number(t), positive_float("lr0", lr0), positive_int("total_steps", total_steps, hint=_STEPS)
    lr_min = non_negative_float("lr_min", lr_min)
    if lr_min > lr0:
        raise ValueError(f"lr_min ({lr_min}) must not exceed lr0 ({lr0})")
    t = min(t, total)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2


def linear_warmup(t: int, lr0: float, warmup_steps: int, start_factor: float = 0.0) -> float:
    """Grow linearly from ``start_factor * lr0`` at ``t = 0`` to ``lr0`` at ``t = warmup_steps``, then stay.

    Introduced in chapter 5.
    """
    t, lr0, w = _step_number(t), positive_float("lr0", lr0), positive_int("warmup_steps", warmup_steps, hint=_STEPS)
    start_factor = non_negative_float("start_factor", start_factor)
    if start_factor > 1:
        raise ValueError(f"start_factor must be in [0, 1] (a fraction of lr0), got {start_factor}")
    return lr0 * (start_factor + (1 - start_factor) * min(t, w) / w)


def warmup_cosine(t: int, lr0: float, warmup_steps: int, total_steps: int, lr_min: float = 0.0) -> float:
    """Linear warm-up from 0 to ``lr0`` over ``warmup_steps``, then a cosine down to ``lr_min`` at ``total_steps``.

    Introduced in chapter 5.
    """
    t, w, total = (
        _step_number(t),
        positive_int("warmup_steps", warmup_steps, hint=_STEPS),
        positive_int("total_steps", total_steps, hint=_STEPS),
    )
    if total <= w:
        raise ValueError(f"total_steps ({total}) must be larger than warmup_steps ({w})")
    if t < w:
        return linear_warmup(t, lr0, w)
    return cosine(t - w, lr0, total - w, lr_min)


def exponential_ramp(t: int, lr_start: float, lr_end: float, num_steps: int) -> float:
    """The learning-rate range test's ramp: ``lr_start`` at ``t = 0`` to ``lr_end`` at ``t = num_steps - 1``,
    evenly spaced on a log scale (Smith, 2017).

    Introduced in chapter 5.
    """
    t, n = _step_number(t), positive_int("num_steps", num_steps, hint=_STEPS)
    lr_start, lr_end = positive_float("lr_start", lr_start), positive_float("lr_end", lr_end)
    if n < 2:
        raise ValueError("num_steps must be at least 2 for a ramp")
    return lr_start * (lr_end / lr_start) ** (min(t, n - 1) / (n - 1))
