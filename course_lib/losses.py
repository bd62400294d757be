"""Loss functions from scratch in NumPy, each with its gradient (chapter 4).

Names, argument order and defaults follow :mod:`torch.nn.functional`, so that
``losses.cross_entropy(logits, targets)`` reads like ``F.cross_entropy(logits, targets)``:
the **prediction comes first** (``input``: predictions, probabilities, logits or
log-probabilities), the **target second**. (Keras puts ``y_true`` first: chapter 4 shows the
differences between the two frameworks' conventions.)

The gradient API, one rule for the whole module:

- ``name(input, target, ..., reduction="mean")`` returns the loss;
- ``name_grad(input, target, ..., reduction="mean")`` takes *the same arguments* and returns
  the gradient of that loss with respect to ``input``, an array of ``input``'s shape.

For ``reduction="none"`` the loss is an array of per-element (or per-example) losses and
``*_grad`` returns the gradient of their *sum* (what autograd gives for ``loss.sum()``, i.e.
an upstream gradient of ones). For ``"mean"`` and ``"sum"`` it is the gradient of the scalar.

Everything is computed in ``float64``. Softmax, log-softmax and the losses on logits use the
log-sum-exp trick and stay finite for logits as large as ``±1e4``. Bad input (mismatched
shapes, integer targets out of range, probabilities outside ``[0, 1]``, an unknown
``reduction``) raises a ``ValueError`` that says what to change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.activations import sigmoid, softplus  # their one home; sigmoid is re-exported below
from course_lib.validation import positive_float, real

__all__ = [
    "logsumexp",
    "log_softmax",
    "softmax",
    "sigmoid",
    "mse_loss",
    "mse_loss_grad",
    "l1_loss",
    "l1_loss_grad",
    "huber_loss",
    "huber_loss_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "kl_div",
    "kl_div_grad",
    "hinge_loss",
    "hinge_loss_grad",
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_grad",
]

REDUCTIONS = ("mean", "sum", "none")
_BCE_LOG_CLAMP = -100.0  # PyTorch clamps log(p) at -100 in binary_cross_entropy
_BCE_GRAD_EPS = 1e-12  # ... and divides by max(p (1 - p), 1e-12) in its gradient


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------


def _float(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric (an array or a number), got {type(x).__name__}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; find where it came from before computing a loss")
    return arr


def _same_shape(input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        hint = ""
        if input.size == target.size:
            hint = (
                f" Reshape one of them (e.g. target.reshape({input.shape})); broadcasting "
                "(N,) against (N, 1) would silently compare every pair."
            )
        raise ValueError(f"input and target must have the same shape, got {input.shape} and {target.shape}.{hint}")


def _check_reduction(reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")


def _check_probabilities(p: np.ndarray, name: str) -> None:
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            f"{name} must be probabilities in [0, 1], got values in [{p.min():.3g}, {p.max():.3g}]. "
            "If these are logits, use the *_with_logits loss (or apply a sigmoid first)."
        )


def _reduce(values: np.ndarray, reduction: str) -> Any:  # a NumPy scalar for "mean"/"sum", the array for "none"
    if reduction == "mean":
        return values.mean() if values.size else np.float64(np.nan)
    if reduction == "sum":
        return values.sum()
    return values


def _grad_scale(n: int, reduction: str) -> float:
    """The factor d(reduced)/d(element): 1/n for 'mean', 1 for 'sum' and 'none'."""
    return 1.0 / n if reduction == "mean" and n else 1.0


def _check_weight(weight: Any, shape: tuple[int, ...], name: str = "weight") -> np.ndarray | None:
    if weight is None:
        return None
    w = _float(weight, name)
    try:
        np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {w.shape} cannot be broadcast to the input's shape {shape}") from None
    return w


# ----------------------------------------------------------------------------------------------
# Stable building blocks
# ----------------------------------------------------------------------------------------------


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(x)))`` along ``axis``, computed as ``m + log(sum(exp(x - m)))``, ``m = max(x)``.

    Shifting by the maximum makes the largest exponent ``exp(0) = 1``: no overflow for any
    finite ``x``, and at least one term is 1, so no ``log(0)`` either.

    Introduced in chapter 4.
    """
    x = _float(x, "x")
    if x.ndim == 0:
        raise ValueError("logsumexp needs at least one axis; pass an array such as logits of shape (N, C)")
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> np.ndarray:
    """``x - logsumexp(x)`` along ``axis`` (same shape as ``x``): the log-probabilities. Introduced in chapter 4."""
    x = _float(x, "x")
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """``exp(log_softmax(x))``: probabilities along ``axis`` that sum to 1, for any finite ``x``.

    Introduced in chapter 4.
    """
    return np.exp(log_softmax(x, axis=axis))


# ----------------------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------------------


def _pair(input: Any, target: Any, reduction: str) -> tuple[np.ndarray, np.ndarray]:
    x, t = _float(input, "input"), _float(target, "target")
    _same_shape(x, t)
    _check_reduction(reduction)
    return x, t


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> np.ndarray:
    """Squared error ``(input - target)**2``, reduced. Shapes: ``input`` and ``target`` equal.

    The negative log-likelihood of Gaussian noise with fixed variance (chapter 4).

    Introduced in chapter 4.
    """
    x, t = _pair(input, target, reduction)
    return _reduce((x - t) ** 2, reduction)


def mse_loss_grad(input: Any, target: Any, reduction: str = "mean") -> np.ndarray:
    """Gradient of :func:`mse_loss` w.r.t. ``input``: ``2 (input - target)`` (/ N for 'mean').

    Introduced in chapter 4.
    """
    x, t = _pair(input, target, reduction)
    return 2.0 * (x - t) * _grad_scale(x.size, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> np.ndarray:
    """Absolute error ``|input - target|``, reduced (Laplace noise; robust to outliers). Introduced in chapter 4."""
    x, t = _pair(input, target, reduction)
    return _reduce(np.abs(x - t), reduction)


def l1_loss_grad(input: Any, target: Any, reduction: str = "mean") -> np.ndarray:
    """Gradient of :func:`l1_loss`: ``sign(input - target)``, 0 where they are equal (as PyTorch).

    Introduced in chapter 4.
    """
    x, t = _pair(input, target, reduction)
    return np.sign(x - t) * _grad_scale(x.size, reduction)


def _check_delta(delta: float) -> float:
    return positive_float("delta", delta, hint="It is where the loss turns from quadratic to linear, e.g. 1.0.")


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> np.ndarray:
    """Huber loss: ``r**2 / 2`` for ``|r| <= delta``, ``delta (|r| - delta / 2)`` beyond; ``r = input - target``.

    Quadratic near zero (like MSE, smooth), linear in the tails (like MAE, robust to outliers).
    Same convention as ``torch.nn.functional.huber_loss`` and ``keras.losses.Huber``.

    Introduced in chapter 4.
    """
    x, t = _pair(input, target, reduction)
    delta = _check_delta(delta)
    a = np.abs(x - t)
    return _reduce(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)), reduction)


def huber_loss_grad(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> np.ndarray:
    """Gradient of :func:`huber_loss`: the residual clipped to ``[-delta, delta]``. Introduced in chapter 4."""
    x, t = _pair(input, target, reduction)
    delta = _check_delta(delta)
    return np.clip(x - t, -delta, delta) * _grad_scale(x.size, reduction)


# ----------------------------------------------------------------------------------------------
# Binary classification
# ----------------------------------------------------------------------------------------------


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> np.ndarray:
    """``-[t log p + (1 - t) log(1 - p)]`` for probabilities ``p = input`` (any shape, same as ``target``).

    PyTorch's convention: each ``log`` is clamped at ``-100`` so that ``p = 0`` or ``1`` gives a
    large finite loss. (Keras instead clips ``p`` to ``[1e-7, 1 - 1e-7]``; pass
    ``np.clip(p, 1e-7, 1 - 1e-7)`` to reproduce Keras.) ``weight`` multiplies each element.
    Prefer :func:`binary_cross_entropy_with_logits`: it is exact where this one must clamp.

    Introduced in chapter 4.
    """
    p, t = _pair(input, target, reduction)
    _check_probabilities(p, "input")
    _check_probabilities(t, "target")
    w = _check_weight(weight, p.shape)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _BCE_LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), _BCE_LOG_CLAMP)
    loss = -(t * log_p + (1 - t) * log_1mp)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def binary_cross_entropy_grad(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy` w.r.t. ``p``: ``(p - t) / (p (1 - p))``.

    As in PyTorch the denominator is kept ``>= 1e-12``, so the gradient stays finite (but huge)
    at ``p = 0`` or ``1``: one reason to work with logits instead.

    Introduced in chapter 4.
    """
    p, t = _pair(input, target, reduction)
    _check_probabilities(p, "input")
    _check_probabilities(t, "target")
    w = _check_weight(weight, p.shape)
    g = (p - t) / np.maximum(p * (1 - p), _BCE_GRAD_EPS)
    if w is not None:
        g = g * w
    return g * _grad_scale(p.size, reduction)


def _bce_logits_parts(
    input: Any, target: Any, weight: Any, reduction: str, pos_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    z, t = _pair(input, target, reduction)
    _check_probabilities(t, "target")
    w = _check_weight(weight, z.shape)
    pw = _check_weight(pos_weight, z.shape, "pos_weight")
    if pw is not None and (pw < 0).any():
        raise ValueError("pos_weight must be non-negative (it multiplies the loss of the positive class)")
    return z, t, w, pw


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> np.ndarray:
    """Binary cross-entropy on logits ``z`` (``p = sigmoid(z)``), exact for any finite ``z``.

    ``-[t log sigmoid(z) + (1 - t) log sigmoid(-z)] = softplus(z) - t z``, with
    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``. ``pos_weight`` (broadcast over the last
    axis, e.g. ``(C,)``) multiplies the positive term, ``weight`` every element: both as in
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Introduced in chapter 4.
    """
    z, t, w, pw = _bce_logits_parts(input, target, weight, reduction, pos_weight)
    if pw is None:
        loss = softplus(z) - t * z
    else:  # -[pw t log s(z) + (1 - t) log s(-z)], with -log s(z) = softplus(-z)
        loss = pw * t * softplus(-z) + (1 - t) * softplus(z)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits_grad(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy_with_logits` w.r.t. ``z``: ``sigmoid(z) - t``.

    With ``pos_weight``: ``(pw t + 1 - t) sigmoid(z) - pw t``.

    Introduced in chapter 4.
    """
    z, t, w, pw = _bce_logits_parts(input, target, weight, reduction, pos_weight)
    s = sigmoid(z)
    g = s - t if pw is None else (pw * t + 1 - t) * s - pw * t
    if w is not None:
        g = g * w
    return g * _grad_scale(z.size, reduction)


# ----------------------------------------------------------------------------------------------
# Multi-class classification
# ----------------------------------------------------------------------------------------------


def _ce_parts(
    input: Any, target: Any, weight: Any, reduction: str, label_smoothing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    z = _float(input, "input")
    if z.ndim != 2:
        raise ValueError(
            f"input must be logits of shape (N, C), got shape {z.shape}; for a single example use logits[None, :]"
        )
    n, c = z.shape
    t_arr = np.asarray(target)
    if t_arr.shape != (n,):
        hint = (
            " These look like one-hot labels: pass target.argmax(axis=1), the class indices."
            if t_arr.shape == z.shape
            else ""
        )
        raise ValueError(
            f"target must be class indices of shape ({n},) for input of shape {z.shape}, got shape {t_arr.shape}.{hint}"
        )
    if t_arr.size and not (
        np.issubdtype(t_arr.dtype, np.integer)
        or (np.issubdtype(t_arr.dtype, np.floating) and np.all(t_arr == np.round(t_arr)))
    ):
        raise ValueError(f"target must hold integer class indices, got dtype {t_arr.dtype}")
    t = t_arr.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(
            f"target class indices must be in [0, {c - 1}] for {c} classes, got values in [{t.min()}, {t.max()}]"
        )
    _check_reduction(reduction)
    if weight is None:
        w = np.ones(c)
    else:
        w = _float(weight, "weight")
        if w.shape != (c,):
            raise ValueError(f"weight must have one entry per class, shape ({c},), got {w.shape}")
        if (w < 0).any():
            raise ValueError("class weights must be non-negative")
    return z, t, w, real("label_smoothing", label_smoothing, low=0.0, high=1.0)


def cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", label_smoothing: float = 0.0
) -> np.ndarray:
    """Softmax cross-entropy of logits ``input`` ``(N, C)`` and class indices ``target`` ``(N,)``.

    Per example ``-log softmax(z)[y]``, computed with log-sum-exp. ``weight`` ``(C,)`` scales the
    loss of each class; as in PyTorch, ``reduction="mean"`` then divides by the sum of the
    weights of the targets, ``sum_i weight[y_i]``, not by ``N``. ``label_smoothing`` ``eps``
    mixes the one-hot target with the uniform distribution: ``(1 - eps) onehot + eps / C``.

    Introduced in chapter 4.
    """
    z, t, w, eps = _ce_parts(input, target, weight, reduction, label_smoothing)
    n, c = z.shape
    logp = log_softmax(z, axis=1)  # (N, C)
    nll = -logp[np.arange(n), t] * w[t]  # (N,)
    smooth = -(logp * w).sum(axis=1)  # (N,)
    if reduction == "mean":
        denom = w[t].sum()
        return ((1 - eps) * nll.sum() + eps / c * smooth.sum()) / denom
    per_example = (1 - eps) * nll + eps / c * smooth
    return _reduce(per_example, reduction)


def cross_entropy_grad(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", label_smoothing: float = 0.0
) -> np.ndarray:
    """Gradient of :func:`cross_entropy` w.r.t. the logits ``(N, C)``.

    Without weights or smoothing it is ``softmax(z) - onehot(y)`` (/ N for 'mean'); in general
    ``(1 - eps) w[y] (p - onehot(y)) + eps / C (sum(w) p - w)``, divided by ``sum_i w[y_i]``.

    Introduced in chapter 4.
    """
    z, t, w, eps = _ce_parts(input, target, weight, reduction, label_smoothing)
    n, c = z.shape
    p = softmax(z, axis=1)
    onehot = np.zeros_like(p)
    onehot[np.arange(n), t] = 1.0
    g = (1 - eps) * w[t][:, None] * (p - onehot) + eps / c * (w.sum() * p - w[None, :])
    if reduction == "mean":
        g = g / w[t].sum()
    return g


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> np.ndarray:
    """KL divergence ``KL(target || model)`` with PyTorch's argument convention.

    ``input`` holds the model's **log**-probabilities, ``target`` probabilities (or
    log-probabilities with ``log_target=True``); elementwise ``target (log target - input)``,
    with ``0 log 0 = 0``. ``reduction="batchmean"`` (sum / N) is the true KL averaged over the
    batch; ``"mean"`` divides by the number of *elements* (N C), as PyTorch does.
    Keras' ``kl_divergence(y_true, y_pred)`` takes probabilities in the opposite order and clips
    both to ``[1e-7, 1]``: it equals ``kl_div(log(clip(y_pred)), clip(y_true), "batchmean")``.

    Introduced in chapter 4.
    """
    x, t = _kl_parts(input, target, reduction, log_target)
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1.0)) - x), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def _kl_parts(input: Any, target: Any, reduction: str, log_target: bool) -> tuple[np.ndarray, np.ndarray]:
    x, t = _float(input, "input"), _float(target, "target")
    _same_shape(x, t)
    _check_reduction(reduction, REDUCTIONS + ("batchmean",))
    if (x > 1e-9).any():
        raise ValueError(
            "input must be log-probabilities (<= 0); pass np.log(p) or log_softmax(logits). "
            "PyTorch's kl_div(input, target) takes the model's log-probabilities first."
        )
    if log_target:
        if (t > 1e-9).any():
            raise ValueError("with log_target=True, target must be log-probabilities (<= 0)")
    else:
        _check_probabilities(t, "target")
    return x, t


def kl_div_grad(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> np.ndarray:
    """Gradient of :func:`kl_div` w.r.t. the log-probabilities ``input``: ``-target`` (scaled).

    Introduced in chapter 4.
    """
    x, t = _kl_parts(input, target, reduction, log_target)
    g = -(np.exp(t) if log_target else t)
    if reduction == "batchmean":
        return g / (x.shape[0] if x.ndim else 1)
    return g * _grad_scale(x.size, reduction)


# ----------------------------------------------------------------------------------------------
# Margin losses and focal loss (extras)
# ----------------------------------------------------------------------------------------------


def _hinge_parts(input: Any, target: Any, reduction: str, margin: float) -> tuple[np.ndarray, np.ndarray]:
    x, t = _pair(input, target, reduction)
    if t.size and not np.isin(t, (-1.0, 1.0)).all():
        raise ValueError(
            "hinge_loss targets must be -1 or +1; convert 0/1 labels with 2 * y - 1 "
            "(Keras' hinge does this conversion for you)"
        )
    real("margin", margin)
    return x, t


def hinge_loss(input: Any, target: Any, reduction: str = "mean", margin: float = 1.0) -> np.ndarray:
    """Hinge loss ``max(0, margin - t f)`` of scores ``f = input`` and labels ``t`` in ``{-1, +1}``.

    The loss of the (soft-margin) support vector machine; ``keras.losses.hinge`` with margin 1.

    Introduced in chapter 4.
    """
    x, t = _hinge_parts(input, target, reduction, margin)
    return _reduce(np.maximum(0.0, margin - t * x), reduction)


def hinge_loss_grad(input: Any, target: Any, reduction: str = "mean", margin: float = 1.0) -> np.ndarray:
    """Gradient of :func:`hinge_loss`: ``-t`` where the margin is violated (``t f < margin``), else 0.

    Introduced in chapter 4.
    """
    x, t = _hinge_parts(input, target, reduction, margin)
    return np.where(t * x < margin, -t, 0.0) * _grad_scale(x.size, reduction)


def _focal_parts(
    input: Any, target: Any, alpha: float | None, gamma: float, reduction: str
) -> tuple[np.ndarray, np.ndarray]:
    z, t = _pair(input, target, reduction)
    _check_probabilities(t, "target")
    real("gamma", gamma, low=0.0, hint="gamma = 0 gives the cross-entropy.")
    if alpha is not None:
        real("alpha", alpha, low=0.0, high=1.0, hint="It is the weight of the positive class (or None).")
    return z, t


def sigmoid_focal_loss(
    input: Any, target: Any, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean"
) -> np.ndarray:
    """Focal loss of Lin et al. (2017) on logits ``z``: ``alpha_t (1 - p_t)**gamma * BCE(z, t)``.

    ``p_t = p t + (1 - p)(1 - t)`` is the probability given to the true label, so well-classified
    examples (``p_t`` near 1) are down-weighted. ``alpha_t = alpha t + (1 - alpha)(1 - t)``
    (``alpha=None``: no class weighting). Same formula and argument names as
    ``torchvision.ops.sigmoid_focal_loss`` (whose default reduction is "none") and
    ``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True)``.

    Introduced in chapter 4.
    """
    z, t = _focal_parts(input, target, alpha, gamma, reduction)
    ce = softplus(z) - t * z
    one_minus_pt = t * sigmoid(-z) + (1 - t) * sigmoid(z)
    loss = one_minus_pt**gamma * ce
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return _reduce(loss, reduction)


def sigmoid_focal_loss_grad(
    input: Any, target: Any, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean"
) -> np.ndarray:
    """Gradient of :func:`sigmoid_focal_loss` w.r.t. the logits ``z``.

    With ``q = 1 - p_t`` and ``dq/dz = (1 - 2t) p (1 - p)``:
    ``d/dz [q**gamma CE] = gamma q**(gamma-1) (1 - 2t) p (1 - p) CE + q**gamma (p - t)``.

    Introduced in chapter 4.
    """
    z, t = _focal_parts(input, target, alpha, gamma, reduction)
    p, pm = sigmoid(z), sigmoid(-z)  # p and 1 - p, both accurate
    ce = softplus(z) - t * z
    q = t * pm + (1 - t) * p
    with np.errstate(divide="ignore", invalid="ignore"):
        dq_term = np.where(q > 0, gamma * q ** (gamma - 1) * (1 - 2 * t) * p * pm * ce, 0.0) if gamma else 0.0
    g = dq_term + q**gamma * (p - t)
    if alpha is not None:
        g = (alpha * t + (1 - alpha) * (1 - t)) * g
    return g * _grad_scale(z.size, reduction)
