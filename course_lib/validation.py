"""Argument checks shared by every module, each with an error message that says what to pass.

Introduced in chapter 0 ("How to use this course"): every public function of ``course_lib``
checks its arguments and raises a ``ValueError`` that teaches, instead of failing later with a
cryptic NumPy error. The rules live here once, so that "a positive integer" means the same thing
everywhere:

- integers are ``int`` or NumPy integers, never ``bool`` (``True`` is an ``int`` in Python, but
  ``n_hidden=True`` is a mistake, not one hidden unit);
- real numbers are ``int``, ``float`` or NumPy scalars, never ``bool``, and finite (``nan``
  compares false with every bound, so it would slip through a plain ``x < 0`` test).

Each check returns the value converted to ``int`` or ``float``, so a caller writes
``steps = positive_int("steps", steps)``. A ``hint`` adds one sentence to the message, e.g.
``"A learning rate is a step size such as 0.01."``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = ["integer", "positive_int", "non_negative_int", "real", "positive_float", "non_negative_float", "one_of"]

T = TypeVar("T")


def _fail(name: str, need: str, value: Any, hint: str) -> ValueError:
    return ValueError(f"{name} must be {need}, got {value!r}." + (f" {hint}" if hint else ""))


def integer(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None, hint: str = "") -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either bound optional); else a ``ValueError``.

    Introduced in chapter 0. ``bool`` and floats such as ``3.0`` are refused.
    """
    if minimum is not None and maximum is not None:
        need = f"an integer in [{minimum}, {maximum}]"
    elif minimum == 1:
        need = "a positive integer"
    elif minimum == 0:
        need = "a non-negative integer"
    elif minimum is not None:
        need = f"an integer >= {minimum}"
    elif maximum is not None:
        need = f"an integer <= {maximum}"
    else:
        need = "an integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, need, value, hint)
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise _fail(name, need, value, hint)
    return number


def positive_int(name: str, value: Any, hint: str = "") -> int:
    """``value`` as an ``int`` >= 1 (a count: layer widths, steps, samples). Introduced in chapter 0."""
    return integer(name, value, minimum=1, hint=hint)


def non_negative_int(name: str, value: Any, hint: str = "") -> int:
    """``value`` as an ``int`` >= 0 (a step number, an index). Introduced in chapter 0."""
    return integer(name, value, minimum=0, hint=hint)


def _describe(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low == 0 and high is None:
        return "a positive number" if low_open else "a non-negative number"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return "a finite number" + (" " + " and ".join(parts) if parts else "")


def real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """``value`` as a finite ``float`` between ``low`` and ``high``; else a ``ValueError``.

    Introduced in chapter 0. The bounds are inclusive unless ``low_open``/``high_open``;
    ``None`` means unbounded on that side. ``bool``, strings, arrays, ``nan`` and ``inf`` are refused.
    """
    need = _describe(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, need, value, hint)
    v = float(value)
    ok = math.isfinite(v)
    if low is not None:
        ok = ok and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        raise _fail(name, need, value, hint)
    return v


def positive_float(name: str, value: Any, hint: str = "") -> float:
    """``value`` as a finite ``float`` > 0 (a learning rate, a tolerance). Introduced in chapter 0."""
    return real(name, value, low=0.0, low_open=True, hint=hint)


def non_negative_float(name: str, value: Any, hint: str = "") -> float:
    """``value`` as a finite ``float`` >= 0 (a weight decay, a noise level). Introduced in chapter 0."""
    return real(name, value, low=0.0, hint=hint)


def one_of(name: str, value: T, choices: Sequence[T], hint: str = "") -> T:
    """``value`` if it is one of ``choices`` (a short list of names); else a ``ValueError`` listing them.

    Introduced in chapter 0.
    """
    try:
        ok = value in choices
    except TypeError:  # an unhashable value tested against a set-like container
        ok = False
    if not ok:
        raise _fail(name, f"one of {tuple(choices)}", value, hint)
    return value
