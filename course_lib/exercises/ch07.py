"""Checkers for chapter 7, "Convolutional networks" (sections 7a-7d).

References come from :mod:`course_lib.conv`; each checker recognises the typical wrong answers
(forgetting dilation, an off-by-one in the output size, flipping the kernel, spreading a
max-pool gradient evenly) and says what to change.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import conv
from course_lib.exercises._core import CheckFailed, NotAttempted, call, expect_array, register, to_numpy

_SEED = 7


def _as_int(x: Any, what: str) -> int:
    if x is None:
        raise CheckFailed(f"{what} is None; did your function forget to `return` its result?")
    if isinstance(x, bool):
        raise CheckFailed(f"{what} should be an int, got the bool {x!r}.")
    try:
        value = float(np.asarray(x, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a single integer, got {type(x).__name__} {x!r}.") from None
    if not math.isfinite(value) or not value.is_integer():
        raise CheckFailed(
            f"{what} is {value!r}, not a whole number: an output size counts positions, so "
            "round down with // (floor division), not /."
        )
    return int(value)


_SIZE_CASES = [  # (H, k, p, s, d): each wrong formula below fails on at least one of them
    (28, 5, 0, 1, 1),
    (28, 3, 1, 1, 1),
    (32, 3, 1, 2, 1),
    (7, 3, 0, 2, 2),
    (10, 4, 2, 3, 1),
    (224, 7, 3, 2, 1),
    (9, 3, 2, 1, 3),
    (12, 3, 0, 4, 2),
    (5, 5, 0, 1, 1),
    (15, 2, 1, 2, 4),
]


_SIZE_WRONG = [  # (formula, hint): the typical wrong answers, recognised on all cases at once
    (
        lambda H, k, p, s, d: (H + 2 * p - k) // s + 1,
        "you ignored the dilation: a dilated kernel spans d(k - 1) + 1 pixels, not k",
    ),
    (
        lambda H, k, p, s, d: (H + 2 * p - d * (k - 1) - 1) // s,
        "off by one: count the first position too (the + 1 at the end)",
    ),
    (
        lambda H, k, p, s, d: (H + p - d * (k - 1) - 1) // s + 1,
        "padding p is added on *both* sides, so the padded length is H + 2p",
    ),
    (
        lambda H, k, p, s, d: -(-(H + 2 * p - d * (k - 1) - 1) // s) + 1,
        "you rounded up; a window that would stick out of the padded input is dropped, so round down (//)",
    ),
    (
        lambda H, k, p, s, d: (H + 2 * p - d * (k - 1)) // s + 1,
        "off by one: the kernel spans d(k - 1) + 1 pixels, so subtract d(k - 1) + 1 from H + 2p, not d(k - 1)",
    ),
    (lambda H, k, p, s, d: (H + 2 * p - d * k) // s + 1, "the dilated kernel spans d(k - 1) + 1 pixels, not d k"),
]


@register("ch07.output_size")
def _output_size(output_size: Any) -> str:
    """``output_size(H, k, p, s, d)``: the conv output length along one axis."""
    got = {}
    for H, k, p, s, d in _SIZE_CASES:
        got[H, k, p, s, d] = _as_int(
            call(output_size, H, k, p, s, d), f"output_size(H={H}, k={k}, p={p}, s={s}, d={d})"
        )
    bad = [c for c in _SIZE_CASES if got[c] != conv.conv_output_size(*c)]
    if not bad:
        return f"floor((H + 2p - d(k - 1) - 1) / s) + 1, right on {len(_SIZE_CASES)} configurations."
    hint = next(
        (h for f, h in _SIZE_WRONG if all(got[c] == f(*c) for c in _SIZE_CASES)),
        "the dilated kernel spans d(k - 1) + 1 pixels of the padded input (length H + 2p); count how many "
        "stride-s steps fit, plus the first position",
    )
    H, k, p, s, d = bad[0]
    raise CheckFailed(
        f"for H={H}, k={k}, p={p}, s={s}, d={d} you returned {got[bad[0]]}, expected "
        f"{conv.conv_output_size(H, k, p, s, d)} ({len(bad)} of {len(_SIZE_CASES)} configurations "
        f"wrong): {hint}."
    )


def _conv1ch_reference(x: np.ndarray, k: np.ndarray, stride: int, dilation: int) -> np.ndarray:
    return conv.conv2d(x[None, None], k[None, None], stride=stride, dilation=dilation)[0, 0]


@register("ch07.conv1ch")
def _conv1ch(conv1ch: Any) -> str:
    """``conv1ch(x, k, stride=1, dilation=1)``: x (H, W), k (kh, kw) -> (Ho, Wo), no padding."""
    rng = np.random.default_rng(_SEED)
    cases = [
        ((6, 6), (3, 3), 1, 1),
        ((7, 9), (2, 3), 1, 1),
        ((9, 8), (3, 2), 2, 1),
        ((9, 9), (3, 3), 1, 2),
        ((11, 10), (2, 3), 3, 2),
        ((4, 5), (1, 1), 1, 1),
    ]
    for xs, ks, s, d in cases:
        x, k = rng.normal(size=xs), rng.normal(size=ks)
        want = _conv1ch_reference(x, k, s, d)
        what = f"conv1ch for x {xs}, k {ks}, stride={s}, dilation={d}"
        got = to_numpy(call(conv1ch, x.copy(), k.copy(), stride=s, dilation=d), what)
        if got.shape != want.shape:
            hint = ""
            if got.shape == _conv1ch_reference(x, k, 1, d).shape and s > 1:
                hint = " You ignored the stride: step the window by `stride` pixels (i * stride)."
            elif got.shape == _conv1ch_reference(x, k, s, 1).shape and d > 1:
                hint = " You ignored the dilation: kernel tap m reads row i * stride + m * dilation."
            elif got.shape == (want.shape[0] - 1, want.shape[1] - 1):
                hint = " Off by one: the output has H - d(kh - 1) positions along the height at stride 1."
            raise CheckFailed(f"{what} has shape {got.shape}, expected {want.shape}.{hint}")
        if not np.allclose(got, want, rtol=1e-6, atol=1e-8):
            if np.allclose(got, _conv1ch_reference(x, k[::-1, ::-1], s, d), rtol=1e-6, atol=1e-8):
                raise CheckFailed(
                    f"{what}: you flipped the kernel (a true, mathematical convolution). Deep "
                    "learning frameworks compute a cross-correlation: sum of k[m, n] * x[i*s + m*d, "
                    "j*s + n*d], no flip."
                )
            if (
                want.shape[0] == want.shape[1]
                and k.shape[0] == k.shape[1]
                and np.allclose(got, _conv1ch_reference(x, k.T, s, d), rtol=1e-6, atol=1e-8)
            ):
                raise CheckFailed(
                    f"{what}: you used the kernel transposed; k[m, n] multiplies x[i*s + m*d, "
                    "j*s + n*d] (m along the rows, n along the columns)."
                )
            if np.allclose(got, _conv1ch_reference(x, k, s, 1)[: want.shape[0], : want.shape[1]]):
                raise CheckFailed(f"{what}: you ignored the dilation; kernel tap (m, n) reads x[i*s + m*d, j*s + n*d].")
        expect_array(got, want, rtol=1e-6, atol=1e-8, what=what)
    return "cross-correlation with stride and dilation, equal to F.conv2d on six shapes (incl. non-square)."


def _maxpool_grad_reference(x: np.ndarray, grad_out: np.ndarray, k: int) -> np.ndarray:
    return conv.max_pool2d_backward(grad_out[None, None], x[None, None], k)[0, 0]


@register("ch07.maxpool_grad")
def _maxpool_grad(maxpool_grad: Any) -> str:
    """``maxpool_grad(x, grad_out, k)``: x (H, W), grad_out (H//k, W//k) -> dL/dx (H, W), stride k."""
    rng = np.random.default_rng(_SEED)
    cases = [
        (rng.normal(size=(4, 4)), 2),
        (rng.normal(size=(6, 9)), 3),
        (np.array([[1.0, 1.0, 0.0, 2.0], [0.0, 1.0, 2.0, 2.0]]), 2),  # ties: first max in row-major order
        (rng.normal(size=(5, 5)), 2),
    ]  # 5 % 2 != 0: last row/column unused
    for x, k in cases:
        g = rng.normal(size=(x.shape[0] // k, x.shape[1] // k))
        want = _maxpool_grad_reference(x, g, k)
        what = f"maxpool_grad for x of shape {x.shape}, k={k}"
        got = to_numpy(call(maxpool_grad, x.copy(), g.copy(), k), what)
        if got.shape != want.shape:
            raise CheckFailed(
                f"{what} has shape {got.shape}, expected {want.shape}: the gradient has the shape "
                "of the input x (pixels outside every window get 0)."
            )
        if not np.allclose(got, want, rtol=1e-6, atol=1e-8):
            avg = conv.avg_pool2d_backward(g[None, None], x[None, None], k)[0, 0]
            if np.allclose(got, avg):
                raise CheckFailed(
                    f"{what}: you spread the gradient evenly over the window; that is average "
                    "pooling's gradient. Max pooling sends it all to the position of the maximum."
                )
            ones = _maxpool_grad_reference(x, np.ones_like(g), k)
            if np.allclose(got, ones):
                raise CheckFailed(
                    f"{what}: you put 1 at each argmax; multiply by the upstream gradient "
                    "grad_out of that window (chain rule)."
                )
            hh, ww = g.shape[0] * k, g.shape[1] * k
            win = x[:hh, :ww].reshape(g.shape[0], k, g.shape[1], k)
            mask = win == win.max(axis=(1, 3), keepdims=True)
            all_ties = np.zeros_like(x)
            all_ties[:hh, :ww] = (mask * g[:, None, :, None]).reshape(hh, ww)
            if np.allclose(got, all_ties):
                raise CheckFailed(
                    f"{what}: when several entries of a window tie for the maximum you gave each "
                    "of them the gradient; PyTorch gives it only to the first one in row-major "
                    "order (np.argmax of the flattened window does exactly that)."
                )
        expect_array(got, want, rtol=1e-6, atol=1e-8, what=what)
    return "the gradient goes to the first maximum of each window, times grad_out; equal to PyTorch's."


def _conv_input_grad_reference(grad_out: np.ndarray, k: np.ndarray) -> np.ndarray:
    H, W = grad_out.shape[0] + k.shape[0] - 1, grad_out.shape[1] + k.shape[1] - 1
    return conv.conv2d_backward(grad_out[None, None], np.zeros((1, 1, H, W)), k[None, None])[0][0, 0]


@register("ch07.conv_input_grad")
def _conv_input_grad(conv_input_grad: Any) -> str:
    """``conv_input_grad(grad_out, k)``: dL/dx of a stride-1, unpadded 1-channel conv; -> (Ho+kh-1, Wo+kw-1)."""
    rng = np.random.default_rng(_SEED + 1)
    for gs, ks in (((4, 4), (3, 3)), ((3, 5), (2, 3)), ((5, 2), (3, 1)), ((1, 1), (2, 2))):
        g, k = rng.normal(size=gs), rng.normal(size=ks)
        want = _conv_input_grad_reference(g, k)
        what = f"conv_input_grad for grad_out {gs}, k {ks}"
        got = to_numpy(call(conv_input_grad, g.copy(), k.copy()), what)
        if got.shape != want.shape:
            hint = ""
            if got.shape == (gs[0] - ks[0] + 1, gs[1] - ks[1] + 1) or got.shape == gs:
                hint = (
                    " A 'full' convolution pads grad_out with kh - 1 rows and kw - 1 columns of zeros on each "
                    "side, so the result has the input's shape, Ho + kh - 1 by Wo + kw - 1."
                )
            raise CheckFailed(f"{what} has shape {got.shape}, expected {want.shape}.{hint}")
        if not np.allclose(got, want, rtol=1e-6, atol=1e-8):
            no_flip = _conv_input_grad_reference(g, k[::-1, ::-1])
            if np.allclose(got, no_flip, rtol=1e-6, atol=1e-8):
                raise CheckFailed(
                    f"{what}: you correlated the padded grad_out with k itself; the input gradient "
                    "is a full correlation with the *flipped* kernel k[::-1, ::-1] (a true "
                    "convolution with k)."
                )
        expect_array(got, want, rtol=1e-6, atol=1e-8, what=what)
    return "dx = full correlation of grad_out with the flipped kernel; equal to PyTorch's autograd."


# ---------------------------------------------------------------------------- 7c: parameters


def _count(
    input_shape: tuple[int, int, int],
    layers: list[tuple],
    bias: bool = True,
    in_channels: bool = True,
    pooling: bool = True,
) -> int:
    """The parameter count; switching a flag off reproduces a typical mistake."""
    c, h, w = input_shape
    features, total = 0, 0
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, p = layer
            total += out * ((c if in_channels else 1) * k * k + int(bias))
            c, h, w = out, h + 2 * p - k + 1, w + 2 * p - k + 1
        elif layer[0] == "pool" and pooling:
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            features = c * h * w
        elif layer[0] == "dense":
            total += layer[1] * (features + int(bias))
            features = layer[1]
    return total


def _cnn_params_reference(input_shape: tuple[int, int, int], layers: list[tuple]) -> int:
    return _count(input_shape, layers)


_CNN_CASES = [
    (
        (1, 28, 28),
        [
            ("conv", 6, 5, 2),
            ("pool", 2),
            ("conv", 16, 5, 0),
            ("pool", 2),
            ("flatten",),
            ("dense", 120),
            ("dense", 84),
            ("dense", 10),
        ],
    ),
    (
        (1, 28, 28),
        [("conv", 32, 3, 0), ("pool", 2), ("conv", 64, 3, 0), ("pool", 2), ("flatten",), ("dense", 64), ("dense", 10)],
    ),
    (
        (3, 32, 32),
        [
            ("conv", 16, 3, 1),
            ("conv", 16, 3, 1),
            ("pool", 2),
            ("conv", 32, 3, 1),
            ("pool", 2),
            ("flatten",),
            ("dense", 10),
        ],
    ),
    ((2, 9, 9), [("conv", 4, 3, 0), ("flatten",), ("dense", 5)]),
]


@register("ch07.cnn_params")
def _cnn_params(cnn_params: Any) -> str:
    """``cnn_params(input_shape, layers)``: total trainable parameters of a conv/pool/dense stack."""
    for input_shape, layers in _CNN_CASES:
        got = call(cnn_params, tuple(input_shape), [tuple(layer) for layer in layers])
        arr = to_numpy(got, what=f"cnn_params{input_shape}")
        if arr.shape != ():
            raise CheckFailed(f"cnn_params should return one integer, got an array of shape {arr.shape}.")
        want = _cnn_params_reference(input_shape, layers)
        value = float(arr)
        if value == want:
            continue
        what = f"for input {input_shape} and layers {layers} you return {value:,.0f}, expected {want:,d}."
        if value == _count(input_shape, layers, bias=False):
            raise CheckFailed(f"{what} You left out the biases: every conv filter and every dense unit has one.")
        if value == _count(input_shape, layers, in_channels=False):
            raise CheckFailed(f"{what} A conv filter spans all input channels: it has C_in * k * k weights, not k * k.")
        if value == _count(input_shape, layers, pooling=False):
            raise CheckFailed(
                f"{what} Pooling has no parameters but it divides the height and width: the "
                "flattened vector (the first dense layer's input) is smaller than you assumed."
            )
        raise CheckFailed(
            f"{what} Track (C, H, W) layer by layer: a conv with padding p and kernel k gives "
            "H + 2p - k + 1; count C_out (C_in k^2 + 1) per conv and n_out (n_in + 1) per dense."
        )
    return "the shape tracking and both counting rules are right (LeNet: 61,706)."


# ---------------------------------------------------------------------------- 7c: Keras losses


def _cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(probs[np.arange(len(y)), y])))


@register("ch07.keras_loss_for")
def _keras_loss_for(keras_loss_for: Any) -> str:
    """``keras_loss_for(output, labels)``: a Keras loss object right for the output and label kinds."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(6, 10)).astype(np.float32)
    z = logits - logits.max(1, keepdims=True)
    probs = (np.exp(z) / np.exp(z).sum(1, keepdims=True)).astype(np.float32)
    y = rng.integers(0, 10, size=6)
    onehot = np.eye(10, dtype=np.float32)[y]
    want = _cross_entropy(probs.astype(np.float64), y)
    twice = np.exp(probs) / np.exp(probs).sum(1, keepdims=True)
    floor_value = _cross_entropy(twice, y)
    for output, model_out in (("logits", logits), ("softmax", probs)):
        for labels, target in (("integer", y), ("one-hot", onehot)):
            loss = call(keras_loss_for, output, labels)
            if loss is None:
                raise CheckFailed(
                    f"keras_loss_for({output!r}, {labels!r}) returned None; return a loss object "
                    "such as keras.losses.SparseCategoricalCrossentropy(...)."
                )
            if not callable(loss):
                raise CheckFailed(
                    f"keras_loss_for({output!r}, {labels!r}) should return a Keras loss object, "
                    f"got {type(loss).__name__}."
                )
            try:
                value = float(np.asarray(loss(target, model_out)))
            except NotImplementedError:
                raise NotAttempted("replace `raise NotImplementedError()` with your solution.") from None
            except Exception as e:  # noqa: BLE001 - a wrong pairing raises inside Keras
                hint = (
                    (" A sparse loss takes integer labels of shape (N,); one-hot rows need CategoricalCrossentropy.")
                    if labels == "one-hot"
                    else (" Integer labels of shape (N,) need a *sparse* loss (SparseCategoricalCrossentropy).")
                )
                raise CheckFailed(
                    f"with output={output!r}, labels={labels!r} your loss raised "
                    f"{type(e).__name__}: {str(e).splitlines()[0][:160]}.{hint}"
                ) from None
            if math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5):
                continue
            case = f"with output={output!r}, labels={labels!r} your loss gives {value:.4f}, expected {want:.4f}."
            if output == "softmax" and math.isclose(value, floor_value, rel_tol=1e-3):
                raise CheckFailed(
                    f"{case} That is the softmax applied twice: the model already outputs "
                    "probabilities, so use from_logits=False."
                )
            if output == "logits":
                raise CheckFailed(f"{case} The model outputs logits: tell the loss with from_logits=True.")
            raise CheckFailed(f"{case} Check the from_logits setting and the sparse/categorical choice.")
    return "logits -> from_logits=True, softmax -> from_logits=False; integers -> Sparse..., one-hot -> Categorical..."


# ---------------------------------------------------------------------------- 7d: receptive field


def _receptive_field_reference(layers: list[tuple[int, int, int]]) -> list[int]:
    r, j, out = 1, 1, []
    for k, s, d in layers:
        r += d * (k - 1) * j
        j *= s
        out.append(r)
    return out


def _receptive_field_wrong(layers: list[tuple[int, int, int]]) -> dict[str, list[int]]:
    no_dil, late_jump, sum_k = [], [], []
    r1, j1, r2, j2, r3 = 1, 1, 1, 1, 1
    for k, s, d in layers:
        r1 += (k - 1) * j1
        j1 *= s
        no_dil.append(r1)
        j2 *= s  # stride applied before the layer's own growth
        r2 += d * (k - 1) * j2
        late_jump.append(r2)
        r3 += d * (k - 1)  # jumps forgotten: strides ignored
        sum_k.append(r3)
    return {"dilation": no_dil, "order": late_jump, "stride": sum_k}


_RF_CASES = [
    [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],  # the digit CNN
    [(3, 1, 1), (3, 1, 1), (3, 1, 1)],  # three 3x3 convs
    [(3, 2, 1), (3, 1, 2), (3, 1, 4), (1, 1, 1)],  # stride, then dilations
    [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 2)],
]


@register("ch07.receptive_field")
def _receptive_field(receptive_field: Any) -> str:
    """``receptive_field(layers)``: receptive field after each (kernel, stride, dilation) layer."""
    for layers in _RF_CASES:
        got = call(receptive_field, [tuple(layer) for layer in layers])
        want = _receptive_field_reference(layers)
        arr = to_numpy(got, what="receptive_field(...)")
        if arr.shape != (len(layers),):
            raise CheckFailed(
                f"receptive_field(layers) should return one size per layer, a list of "
                f"{len(layers)} numbers for {layers}; got shape {arr.shape}."
            )
        if np.array_equal(arr, want):
            continue
        wrong = _receptive_field_wrong(layers)
        what = f"for layers {layers} you return {arr.astype(int).tolist()}, expected {want}."
        if np.array_equal(arr, wrong["dilation"]):
            raise CheckFailed(f"{what} A kernel k with dilation d spans d(k - 1) + 1 pixels: use d(k - 1).")
        if np.array_equal(arr, wrong["order"]):
            raise CheckFailed(
                f"{what} The growth of layer l is measured in the *input* spacing of that "
                "layer, the jump of the layers before it: update r with the old jump, then "
                "multiply the jump by the stride."
            )
        if np.array_equal(arr, wrong["stride"]):
            raise CheckFailed(
                f"{what} After a stride-s layer, neighbouring units are s input pixels "
                "apart: keep a running jump j (product of strides) and grow r by d(k - 1) j."
            )
        raise CheckFailed(f"{what} Start from r = 1, j = 1; for each layer r += d (k - 1) j, then j *= s.")
    return "r grows by d(k - 1) times the product of the earlier strides."


# ---------------------------------------------------------------------------- 7d: folding batch norm


def _fold_bn_reference(
    w: np.ndarray, b: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    scale = gamma / np.sqrt(var + eps)
    return w * scale[:, None, None, None], (b - mean) * scale + beta


@register("ch07.fold_batchnorm")
def _fold_batchnorm(fold_batchnorm: Any) -> str:
    """``fold_batchnorm(w, b, gamma, beta, mean, var, eps)`` -> ``(w', b')``: conv then BN (eval) as one conv."""
    rng = np.random.default_rng(7)
    for o, c, k, eps in ((4, 3, 3, 1e-5), (2, 1, 5, 1e-3), (6, 2, 1, 0.1)):
        w = rng.normal(size=(o, c, k, k))
        b = rng.normal(size=o)
        gamma, beta = rng.uniform(0.5, 2.0, size=o), rng.normal(size=o)
        mean, var = rng.normal(size=o), rng.uniform(0.05, 3.0, size=o)
        got = call(fold_batchnorm, w.copy(), b.copy(), gamma.copy(), beta.copy(), mean.copy(), var.copy(), eps)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (folded_weight, folded_bias), got {type(got).__name__}.")
        want_w, want_b = _fold_bn_reference(w, b, gamma, beta, mean, var, eps)
        got_w = to_numpy(got[0], "the folded weight")
        if got_w.shape != want_w.shape:
            raise CheckFailed(
                f"the folded weight must keep the conv's shape {want_w.shape} (one scale per output "
                f"channel, broadcast over C_in, k, k), got {got_w.shape}."
            )
        if not np.allclose(got_w, want_w, rtol=1e-7, atol=1e-9):
            if np.allclose(got_w, w * (gamma / np.sqrt(var))[:, None, None, None], rtol=1e-9):
                raise CheckFailed("the scale must be gamma / sqrt(var + eps): you left out eps.")
            if np.allclose(got_w, w * (gamma / (var + eps))[:, None, None, None], rtol=1e-9):
                raise CheckFailed("divide by the standard deviation sqrt(var + eps), not by the variance.")
        expect_array(got_w, want_w, rtol=1e-7, atol=1e-9, what=f"the folded weight (O={o}, C={c}, k={k})")
        got_b = to_numpy(got[1], "the folded bias")
        if got_b.shape == want_b.shape and np.allclose(got_b, (b - mean) * gamma / np.sqrt(var + eps), rtol=1e-9):
            raise CheckFailed("the folded bias is missing beta: BN adds it after scaling.")
        if got_b.shape == want_b.shape and np.allclose(got_b, b * gamma / np.sqrt(var + eps) + beta - mean, rtol=1e-9):
            raise CheckFailed("the running mean is subtracted before scaling: (b - mean) * scale + beta.")
        expect_array(got_b, want_b, rtol=1e-7, atol=1e-9, what=f"the folded bias (O={o})")
    return "conv + BatchNorm in evaluation mode is one conv: w * s, (b - mean) * s + beta, s = gamma / sqrt(var + eps)."
