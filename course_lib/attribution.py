"""Attribution methods for image classifiers, from scratch, in PyTorch and in TensorFlow.

Introduced in chapter 12, "Interpretability" (section 12a derives the methods, 12b tests them
for sanity and faithfulness). Every method explains one scalar: the **logit** ``f_c(x)`` of a
target class ``c`` (not the softmax probability: see section 12a's pitfall).

Shapes: PyTorch functions take a model on NCHW input and ``x`` of shape ``(N, C, H, W)``;
TensorFlow functions (prefix ``tf_``) take a Keras model on NHWC input and ``x`` of shape
``(N, H, W, C)``. ``target`` is an int (the same class for every image) or ``N`` ints. Every
attribution has the shape of ``x`` except Grad-CAM, which has the layer's spatial shape
``(N, 1, h, w)`` (PyTorch) or ``(N, h, w)`` (TensorFlow).

- saliency                 ``|d f_c / d x|``                 {Simonyan et al. 2014}
- input x gradient         ``x * d f_c / d x``
- SmoothGrad               mean gradient at ``x + noise``    {Smilkov et al. 2017}
- integrated gradients     ``(x - x') * mean_alpha grad f_c(x' + alpha (x - x'))``
                           {Sundararajan et al. 2017}; completeness: attributions sum to
                           ``f_c(x) - f_c(x')`` up to the quadrature error
- occlusion                average drop of ``f_c`` when a window covering the pixel is set to a
                           baseline value                   {Zeiler & Fergus 2014}
- Grad-CAM                 ``ReLU(sum_k mean_ij(d f_c / d A_k) A_k)`` at a conv layer
                           {Selvaraju et al. 2017}

The PyTorch versions follow Captum's conventions {Kokhlikyan et al. 2020} (``tests`` check them
equal to ``captum.attr``), so one can be swapped for the other. Sanity and faithfulness tools
(:func:`randomize_layers`, :func:`rank_correlation`, :func:`deletion_curve`) are at the end.

PyTorch, TensorFlow and SciPy are imported inside the functions.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

IG_METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


# ------------------------------------------------------------------------------- helpers
def _targets(target: Any, n: int) -> np.ndarray:
    t = np.asarray(target)
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"target must be one int or {n} ints (one class per image), got {target!r}")
    return t.astype(np.int64)


def _check_x(x: Any, framework: str) -> None:
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != 4:
        layout = "(N, C, H, W)" if framework == "torch" else "(N, H, W, C)"
        raise ValueError(f"x must be a batch of images {layout}, got shape {shape}; for one image use x[None]")


def ig_alphas(steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Points ``alpha`` in [0, 1] and weights ``w`` (summing to 1) for the path integral of IG.

    ``sum_k w_k g(alpha_k)`` approximates ``int_0^1 g(alpha) d alpha``. ``"gausslegendre"``
    (Captum's default) is exact for polynomials of degree ``2 * steps - 1``; the Riemann rules
    use ``steps`` equally spaced points. Both arrays have shape ``(steps,)``.

    Note: Captum 0.9's ``"riemann_trapezoid"`` puts ``steps`` points on [0, 1] but weights them
    ``1 / steps`` (halved at the ends), so its weights sum to ``1 - 1 / steps``; the weights here
    are the trapezoid rule's ``1 / (steps - 1)``, and Captum's result is ours times
    ``(steps - 1) / steps``.

    Introduced in chapter 12.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if method not in IG_METHODS:
        raise ValueError(f"method must be one of {IG_METHODS}, got {method!r}")
    if method == "riemann_trapezoid":
        if steps < 2:
            raise ValueError("the trapezoid rule needs steps >= 2")
        alphas = np.linspace(0.0, 1.0, steps)
        w = np.full(steps, 1.0 / (steps - 1))
        w[[0, -1]] /= 2.0
        return alphas, w
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return (np.arange(steps) + offset) / steps, np.full(steps, 1.0 / steps)


# ------------------------------------------------------------------------------- PyTorch
def logit_gradient(model: Any, x: Any, target: Any) -> Any:
    """``d f_c(x) / d x`` for each image, shape of ``x`` (a ``torch.Tensor``).

    ``model(x)`` must return logits ``(N, n_classes)``; images are independent, so the gradient
    of the sum of the target logits is each image's own gradient.

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    t = torch.from_numpy(_targets(target, x.shape[0]))
    x = x.detach().clone().requires_grad_(True)
    out = model(x)
    if out.ndim != 2:
        raise ValueError(f"model must return logits (N, n_classes), got shape {tuple(out.shape)}")
    (grad,) = torch.autograd.grad(out.gather(1, t[:, None]).sum(), x)
    return grad


def saliency(model: Any, x: Any, target: Any, absolute: bool = True) -> Any:
    """Gradient saliency ``|d f_c / d x|`` (``absolute=False``: the signed gradient).

    Introduced in chapter 12.
    """
    g = logit_gradient(model, x, target)
    return g.abs() if absolute else g


def input_x_gradient(model: Any, x: Any, target: Any) -> Any:
    """Gradient x input, ``x * d f_c / d x``: exact for a linear model without bias.

    Introduced in chapter 12.
    """
    return x.detach() * logit_gradient(model, x, target)


def smoothgrad(
    model: Any, x: Any, target: Any, n_samples: int = 25, stdev: float = 0.15, seed: int = 0, noise: Any = None
) -> Any:
    """SmoothGrad: the mean signed gradient at ``n_samples`` copies ``x + eps``, ``eps ~ N(0, stdev^2)``.

    ``noise`` (shape ``(n_samples, *x.shape)``) overrides the seeded draw, so that two
    implementations can be compared on the same noise.

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    if noise is None:
        if not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        gen = torch.Generator().manual_seed(seed)
        noise = stdev * torch.randn((n_samples, *x.shape), generator=gen, dtype=x.dtype)
    total = torch.zeros_like(x)
    for eps in noise:
        total += logit_gradient(model, x + eps, target)
    return total / len(noise)


def integrated_gradients(
    model: Any,
    x: Any,
    target: Any,
    baseline: Any = None,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int = 256,
) -> Any:
    """Integrated gradients ``(x - x') * sum_k w_k grad f_c(x' + alpha_k (x - x'))``.

    ``baseline`` ``x'``: ``None`` (zeros), a number, or a tensor broadcastable to ``x``.
    ``(alpha_k, w_k)`` come from :func:`ig_alphas`. The sum of the attributions approximates
    ``f_c(x) - f_c(x')`` (:func:`completeness_gap` measures how well).

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    x = x.detach()
    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype).expand_as(x)
    alphas, weights = ig_alphas(steps, method)
    n = x.shape[0]
    t = _targets(target, n)
    path = torch.cat([base + float(a) * (x - base) for a in alphas])  # (steps * N, C, H, W)
    tt = np.tile(t, len(alphas))
    grads = torch.cat(
        [
            logit_gradient(model, path[i : i + batch_size], tt[i : i + batch_size])
            for i in range(0, len(path), batch_size)
        ]
    )
    w = torch.as_tensor(weights, dtype=x.dtype).repeat_interleave(n).view(-1, 1, 1, 1)
    avg = (w * grads).view(len(alphas), *x.shape).sum(0)
    return (x - base) * avg


def target_logits(model: Any, x: Any, target: Any) -> np.ndarray:
    """``f_c(x)`` for each image, a float64 array ``(N,)``.

    Introduced in chapter 12.
    """
    import torch

    with torch.no_grad():
        out = model(x)
    return out.gather(1, torch.from_numpy(_targets(target, x.shape[0]))[:, None])[:, 0].double().numpy()


def completeness_gap(model: Any, x: Any, target: Any, attributions: Any, baseline: Any = None) -> np.ndarray:
    """``sum(attributions) - (f_c(x) - f_c(x'))`` per image ``(N,)``: zero for an exact IG.

    Introduced in chapter 12.
    """
    import torch

    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype).expand_as(x)
    total = attributions.detach().double().flatten(1).sum(1).numpy()
    return total - (target_logits(model, x, target) - target_logits(model, base, target))


def _windows(size: int, window: int, stride: int) -> list[int]:
    if not (1 <= window <= size) or stride < 1:
        raise ValueError(f"window must be in [1, {size}] and stride >= 1, got window={window}, stride={stride}")
    # like Captum: enough strides to reach the far edge; the last window may be cut by the border
    return [k * stride for k in range(-(-(size - window) // stride) + 1)]


def occlusion(model: Any, x: Any, target: Any, window: int = 4, stride: int = 2, value: float = 0.0) -> Any:
    """Occlusion: each pixel gets the mean of ``f_c(x) - f_c(x with a window set to value)``
    over the ``window x window`` squares (all channels) that cover it, slid with ``stride``.

    The last window of a row may stick out of the image (it is cut at the border), so every
    pixel is covered when ``stride <= window``; pixels no window covers get 0. Matches ``captum.attr.Occlusion`` with
    ``sliding_window_shapes=(C, window, window)``, ``strides=(C, stride, stride)``.

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    x = x.detach()
    n, _, h, w = x.shape
    t = torch.from_numpy(_targets(target, n))[:, None]
    with torch.no_grad():
        full = model(x).gather(1, t)[:, 0]
        total = torch.zeros_like(x)
        count = torch.zeros_like(x)
        for i in _windows(h, window, int(stride)):
            for j in _windows(w, window, int(stride)):
                xo = x.clone()
                xo[:, :, i : i + window, j : j + window] = value
                drop = full - model(xo).gather(1, t)[:, 0]
                total[:, :, i : i + window, j : j + window] += drop.view(n, 1, 1, 1)
                count[:, :, i : i + window, j : j + window] += 1
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def grad_cam(model: Any, x: Any, target: Any, layer: Any, relu: bool = True) -> Any:
    """Grad-CAM at ``layer`` (a submodule whose output is ``A``, ``(N, K, h, w)``): ``(N, 1, h, w)``.

    Channel weights ``a_k = mean_ij d f_c / d A_kij``; map ``sum_k a_k A_k``, then ReLU
    (``relu=False`` keeps the sign, Captum ``LayerGradCam``'s default). Upsample with
    :func:`upsample`.

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    store: dict[str, Any] = {}

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        store["A"] = output

    handle = layer.register_forward_hook(hook)
    try:
        out = model(x.detach())
    finally:
        handle.remove()
    if "A" not in store:
        raise ValueError("layer was not called in model's forward pass: pass a submodule of model, e.g. model.relu2")
    a = store["A"]
    if a.ndim != 4:
        raise ValueError(f"Grad-CAM needs a convolutional layer with output (N, K, h, w), got {tuple(a.shape)}")
    t = torch.from_numpy(_targets(target, x.shape[0]))
    (g,) = torch.autograd.grad(out.gather(1, t[:, None]).sum(), a)
    cam = (g.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True).detach()
    return cam.clamp(min=0) if relu else cam


def upsample(cam: Any, size: tuple[int, int] = (28, 28)) -> Any:
    """Bilinear upsampling of ``(N, 1, h, w)`` maps to ``(N, 1, *size)`` (to overlay on the image).

    Introduced in chapter 12.
    """
    from torch.nn import functional as F

    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)


# ------------------------------------------------------------------------------- TensorFlow
def tf_logit_gradient(model: Any, x: Any, target: Any) -> np.ndarray:
    """``d f_c / d x`` with ``tf.GradientTape`` on a Keras model, NHWC; a NumPy array.

    Introduced in chapter 12.
    """
    import tensorflow as tf

    _check_x(x, "tf")
    xt = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    t = _targets(target, xt.shape[0])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = model(xt, training=False)
        score = tf.reduce_sum(tf.gather(out, t, axis=1, batch_dims=1))
    return tape.gradient(score, xt).numpy()


def tf_saliency(model: Any, x: Any, target: Any, absolute: bool = True) -> np.ndarray:
    """:func:`saliency` in TensorFlow (NHWC).

    Introduced in chapter 12.
    """
    g = tf_logit_gradient(model, x, target)
    return np.abs(g) if absolute else g


def tf_input_x_gradient(model: Any, x: Any, target: Any) -> np.ndarray:
    """:func:`input_x_gradient` in TensorFlow (NHWC).

    Introduced in chapter 12.
    """
    return np.asarray(x, dtype=np.float32) * tf_logit_gradient(model, x, target)


def tf_smoothgrad(model: Any, x: Any, target: Any, noise: Any) -> np.ndarray:
    """:func:`smoothgrad` in TensorFlow on given ``noise`` ``(n_samples, N, H, W, C)``.

    Introduced in chapter 12.
    """
    x = np.asarray(x, dtype=np.float32)
    return np.mean([tf_logit_gradient(model, x + np.asarray(e, dtype=np.float32), target) for e in noise], axis=0)


def tf_integrated_gradients(
    model: Any, x: Any, target: Any, baseline: Any = None, steps: int = 50, method: str = "gausslegendre"
) -> np.ndarray:
    """:func:`integrated_gradients` in TensorFlow (NHWC).

    Introduced in chapter 12.
    """
    _check_x(x, "tf")
    x = np.asarray(x, dtype=np.float32)
    base = np.zeros_like(x) if baseline is None else np.broadcast_to(np.asarray(baseline, np.float32), x.shape)
    alphas, weights = ig_alphas(steps, method)
    n = x.shape[0]
    path = np.concatenate([base + np.float32(a) * (x - base) for a in alphas])
    grads = tf_logit_gradient(model, path, np.tile(_targets(target, n), len(alphas)))
    avg = np.tensordot(weights.astype(np.float32), grads.reshape(len(alphas), *x.shape), axes=1)
    return (x - base) * avg


def tf_occlusion(model: Any, x: Any, target: Any, window: int = 4, stride: int = 2, value: float = 0.0) -> np.ndarray:
    """:func:`occlusion` in TensorFlow (NHWC); all occluded copies go through the model in one batch.

    Introduced in chapter 12.
    """
    _check_x(x, "tf")
    x = np.asarray(x, dtype=np.float32)
    n, h, w, _ = x.shape
    t = _targets(target, n)
    boxes = [(i, j) for i in _windows(h, window, int(stride)) for j in _windows(w, window, int(stride))]
    copies = np.repeat(x[None], len(boxes), axis=0)
    for b, (i, j) in enumerate(boxes):
        copies[b, :, i : i + window, j : j + window, :] = value
    full = np.asarray(model(x, training=False))[np.arange(n), t]
    occ = np.asarray(model(copies.reshape(-1, h, w, x.shape[3]), training=False)).reshape(len(boxes), n, -1)
    drops = full[None] - occ[:, np.arange(n), t]  # (boxes, N)
    total, count = np.zeros_like(x), np.zeros_like(x)
    for b, (i, j) in enumerate(boxes):
        total[:, i : i + window, j : j + window, :] += drops[b][:, None, None, None]
        count[:, i : i + window, j : j + window, :] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0).astype(np.float32)


def tf_grad_cam(model: Any, x: Any, target: Any, layer_name: str, relu: bool = True) -> np.ndarray:
    """:func:`grad_cam` in TensorFlow at the Keras layer ``layer_name``: ``(N, h, w)``.

    The model is split at the layer: ``A = head(x)``, ``logits = tail(A)``, so the tape sees
    ``A`` as a variable to differentiate by.

    Introduced in chapter 12.
    """
    import tensorflow as tf

    _check_x(x, "tf")
    names = [lay.name for lay in model.layers]
    if layer_name not in names:
        raise ValueError(f"no layer {layer_name!r} in the model; its layers are {names}")
    k = names.index(layer_name)
    a = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    for lay in model.layers[: k + 1]:
        a = lay(a)
    if len(a.shape) != 4:
        raise ValueError(f"Grad-CAM needs a convolutional layer with output (N, h, w, K), got {tuple(a.shape)}")
    t = _targets(target, a.shape[0])
    with tf.GradientTape() as tape:
        tape.watch(a)
        out = a
        for lay in model.layers[k + 1 :]:
            out = lay(out)
        score = tf.reduce_sum(tf.gather(out, t, axis=1, batch_dims=1))
    g = tape.gradient(score, a).numpy()
    cam = (g.mean(axis=(1, 2), keepdims=True) * a.numpy()).sum(-1)
    return np.maximum(cam, 0.0) if relu else cam


# ------------------------------------------------------------------------------- sanity, faithfulness
def randomize_layers(model: Any, layer_names: Sequence[str], seed: int = 0) -> Any:
    """A deep copy of ``model`` whose layers ``layer_names`` get fresh random weights.

    Each named submodule with ``reset_parameters`` is re-initialised with PyTorch's default
    initialisation, seeded by ``seed``: the cascading test of {Adebayo et al. 2018} calls this
    with the top layer, then the top two, ... The original model is not touched.

    Introduced in chapter 12.
    """
    import torch

    clone = copy.deepcopy(model)
    modules = dict(clone.named_modules())
    torch.manual_seed(seed)
    for name in layer_names:
        if name not in modules:
            raise ValueError(f"no layer {name!r} in the model; its layers are {list(modules)[1:]}")
        if not hasattr(modules[name], "reset_parameters"):
            raise ValueError(f"layer {name!r} has no weights to randomise")
        modules[name].reset_parameters()
    return clone.eval()


def rank_correlation(a: Any, b: Any, absolute: bool = True) -> np.ndarray:
    """Spearman rank correlation of two attribution maps, per image ``(N,)``.

    ``a`` and ``b`` have shape ``(N, ...)``; ``absolute`` compares ``|a|`` with ``|b|`` (as in
    Adebayo et al.: a map whose sign flips still highlights the same pixels). A constant map
    (e.g. an all-zero Grad-CAM) has no ranking: its correlation is ``nan`` (use ``np.nanmean``).

    Introduced in chapter 12.
    """
    import warnings

    from scipy.stats import spearmanr

    a = np.asarray(a.detach() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must be batches of maps with the same shape (N, ...), got {a.shape} and {b.shape}")
    if absolute:
        a, b = np.abs(a), np.abs(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input and returns nan
        return np.array([spearmanr(u.ravel(), v.ravel()).statistic for u, v in zip(a, b)])


def deletion_curve(
    model: Any, x: Any, target: Any, order: Any, steps: int = 28, value: float = 0.0, insertion: bool = False
) -> np.ndarray:
    """The target logit as pixels are removed (or inserted) in ``order``: ``(N, steps + 1)``.

    ``order`` ``(N, H*W)``: pixel indices, most important first (e.g. ``argsort(-attr)``).
    Deletion starts from ``x`` and sets the first ``k`` pixels (all channels) to ``value``;
    insertion starts from the all-``value`` image and restores them. ``k`` runs over
    ``steps + 1`` equally spaced counts from 0 to ``H*W``. A faithful attribution makes the
    deletion curve fall fast (small area) and the insertion curve rise fast (large area).

    Introduced in chapter 12.
    """
    import torch

    _check_x(x, "torch")
    n, c, h, w = x.shape
    order = np.asarray(order)
    if order.shape != (n, h * w):
        raise ValueError(f"order must have shape (N, H*W) = {(n, h * w)}, got {order.shape}")
    ks = np.linspace(0, h * w, steps + 1).round().astype(int)
    flat = x.detach().reshape(n, c, h * w)
    blank = torch.full_like(flat, value)
    batch = []
    for k in ks:
        mask = np.zeros((n, h * w), dtype=bool)
        np.put_along_axis(mask, order[:, :k], True, axis=1)
        m = torch.from_numpy(mask)[:, None, :]
        batch.append(torch.where(m, flat, blank) if insertion else torch.where(m, blank, flat))
    xs = torch.cat(batch).reshape(len(ks) * n, c, h, w)
    return target_logits(model, xs, np.tile(_targets(target, n), len(ks))).reshape(len(ks), n).T


def curve_area(curve: Any) -> np.ndarray:
    """Area under curves ``(N, K)`` sampled at ``K`` equally spaced fractions of [0, 1]: ``(N,)``.

    Introduced in chapter 12.
    """
    y = np.asarray(curve, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] < 2:
        raise ValueError(f"curve must have shape (N, K) with K >= 2, got {y.shape}")
    return ((y[:, 1:] + y[:, :-1]) / 2).sum(1) / (y.shape[1] - 1)
