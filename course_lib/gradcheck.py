"""Gradient checking: compare a hand-written gradient with central differences (chapter 3).

A backward pass can be wrong and still "train" (a sign error on one layer slows learning
rather than stopping it), so every hand-derived gradient in the course is checked before it
is used. For each entry ``theta_j`` of each parameter, the *central difference*

    g_j ~ (f(theta + eps e_j) - f(theta - eps e_j)) / (2 eps)

has an error of order ``eps**2``; the check reports, per parameter, the largest *relative*
error ``|a - g| / max(|a|, |g|, floor)`` between the analytic gradient ``a`` and ``g``. In
float64 with ``eps = 1e-6`` a correct gradient typically gives 1e-7 or less, a wrong one 1e-2
or more (exactly 2 for a flipped sign). The ``floor`` keeps entries that are both (almost) zero
from counting as errors: the rounding noise of a central difference is about
``1e-16 * |f| / eps``, so entries much smaller than ``floor`` are in effect compared with the
absolute tolerance ``tol * floor``.

Usage::

    report = gradcheck(loss_fn, {"W": W, "b": b}, {"W": dW, "b": db})
    print(report)          # one line per parameter, PASS/FAIL
    report.passed          # True / False
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from course_lib.validation import positive_float

Params = Mapping[str, np.ndarray]


def numerical_gradient(f: Callable[[Params], float], params: Params, name: str, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f(params)`` with respect to ``params[name]``.

    ``params`` maps names to float64 arrays; ``f`` takes such a mapping and returns a scalar.
    The arrays of ``params`` are not modified (each evaluation sees a perturbed copy).
    Returns an array of ``params[name].shape``. Costs ``2 * params[name].size`` calls of ``f``.

    Introduced in chapter 3.
    """
    _check_params(params, "params")
    if name not in params:
        raise ValueError(f"no parameter named {name!r}; params has {sorted(params)}")
    eps = positive_float("eps", eps)
    base = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    x = base[name]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = _scalar(f(base))
        x[idx] = old - eps
        f_minus = _scalar(f(base))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """Entry-wise ``|a - n| / max(|a|, |n|, floor)``: 0 when equal, about 2 for a sign error.

    Introduced in chapter 3.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic and numeric gradients must have the same shape, got {a.shape} and {n.shape}")
    floor = positive_float("floor", floor)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


@dataclass(frozen=True)
class GradcheckReport:
    """The result of :func:`gradcheck`: per parameter, the largest relative error and where. Introduced in chapter 3."""

    errors: dict[str, float]
    worst_index: dict[str, tuple[int, ...]]
    numeric: dict[str, np.ndarray]
    tol: float

    @property
    def passed(self) -> bool:
        """True when every parameter's largest relative error is at most ``tol``."""
        return all(e <= self.tol for e in self.errors.values())

    @property
    def failed(self) -> list[str]:
        """Names of the parameters whose gradient is wrong."""
        return [k for k, e in self.errors.items() if e > self.tol]

    def __str__(self) -> str:
        lines = [f"gradcheck (max relative error, tol={self.tol:.0e}):"]
        for k, e in self.errors.items():
            verdict = "ok" if e <= self.tol else "WRONG"
            lines.append(
                f"  {k:<8} {e:9.1e}  {verdict}" + ("" if e <= self.tol else f" (worst at index {self.worst_index[k]})")
            )
        lines.append("PASSED" if self.passed else f"FAILED: check the gradient of {', '.join(self.failed)}")
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck(
    f: Callable[[Params], float],
    params: Params,
    analytic: Params,
    eps: float = 1e-6,
    tol: float = 1e-5,
    floor: float = 1e-4,
) -> GradcheckReport:
    """Compare ``analytic[name]`` with the central-difference gradient of ``f`` for every name.

    ``params`` and ``analytic`` map the same names to float64 arrays of equal shapes; ``f``
    takes a mapping like ``params`` and returns the scalar loss. Use float64: in float32 the
    rounding error of ``f`` divided by ``eps`` swamps the comparison.

    Introduced in chapter 3.
    """
    _check_params(params, "params")
    _check_params(analytic, "analytic")
    if set(params) != set(analytic):
        raise ValueError(f"params and analytic must have the same names, got {sorted(params)} and {sorted(analytic)}")
    for k in params:
        if np.shape(params[k]) != np.shape(analytic[k]):
            raise ValueError(
                f"analytic[{k!r}] has shape {np.shape(analytic[k])} but params[{k!r}] has shape "
                f"{np.shape(params[k])}: a gradient has the shape of its parameter."
            )
    tol = positive_float("tol", tol)
    errors, worst, numeric = {}, {}, {}
    for k in params:
        num = numerical_gradient(f, params, k, eps)
        rel = relative_error(analytic[k], num, floor)
        numeric[k] = num
        errors[k] = float(rel.max()) if rel.size else 0.0
        worst[k] = tuple(int(i) for i in np.unravel_index(int(rel.argmax()), rel.shape)) if rel.size else ()
    return GradcheckReport(errors=errors, worst_index=worst, numeric=numeric, tol=tol)


def _check_params(params: Params, what: str) -> None:
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"{what} must be a non-empty dict {{name: float64 array}}, got {type(params).__name__}")
    for k, v in params.items():
        arr = np.asarray(v)
        if arr.dtype != np.float64:
            raise ValueError(
                f"{what}[{k!r}] has dtype {arr.dtype}; gradient checking needs float64 "
                "(convert with .astype(np.float64))."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}[{k!r}] contains NaN or inf")


def _scalar(value: object) -> float:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"f must return a number (the loss), got {type(value).__name__}") from None
    if arr.size != 1:
        raise ValueError(f"f must return a scalar loss, got an array of shape {arr.shape}; average or sum it.")
    v = float(arr.reshape(()))
    if not np.isfinite(v):
        raise ValueError("f returned NaN or inf at a perturbed point; check the loss (log of 0?) or use a smaller eps.")
    return v
