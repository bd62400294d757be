"""Checkers for chapter 7, "Convolutional networks" (chapters/07a_*, 07b_*).

References come from :mod:`course_lib.conv`; each checker recognises the typical wrong answers
(forgetting dilation, an off-by-one in the output size, flipping the kernel, spreading a
max-pool gradient evenly) and says what to change.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import conv
from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy

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
