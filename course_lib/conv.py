"""2-D convolution and pooling in NumPy, forward and backward (introduced in chapter 7).

Layouts and semantics are exactly those of ``torch.nn.functional.conv2d`` / ``max_pool2d`` /
``avg_pool2d``, so every function here can be checked entry by entry against PyTorch:

- input ``x``: ``(N, C, H, W)`` ("NCHW": batch, channels, height, width);
- weights ``w``: ``(O, C // groups, kh, kw)`` ("OIHW"); bias ``b``: ``(O,)``;
- output: ``(N, O, Ho, Wo)`` with, per spatial axis (equation ``conv-out-size`` of chapter 7a),

      Ho = floor((H + 2 p - d (k - 1) - 1) / s) + 1          (:func:`conv_output_size`)

  for kernel size ``k``, padding ``p``, stride ``s`` and dilation ``d``.

What every framework calls "convolution" is a **cross-correlation** (no kernel flip)::

    out[n, o, i, j] = b[o] + sum_{c, m, q} w[o, c, m, q] * xpad[n, g*Cg + c, i*s + m*d, j*s + q*d]

where ``g = o // (O // groups)`` is the group of output channel ``o``, ``Cg = C // groups`` and
``xpad`` is ``x`` zero-padded by ``p`` on every side. TensorFlow's ``tf.nn.conv2d`` computes the
same numbers in the NHWC / HWIO layouts: ``x.transpose(0, 2, 3, 1)``, ``w.transpose(2, 3, 1, 0)``.

Two implementations of the forward pass:

- :func:`conv2d_loop`, the **teaching version**: one explicit loop per output entry, the
  formula above written out; slow (Python loops), but each line can be read against the math.
- :func:`conv2d`, the **im2col** version: gather every receptive field into a matrix once
  (:func:`im2col`, shape ``(N, C*kh*kw, Ho*Wo)`` per group) and do one matrix multiply, which
  is what makes convolutions fast on real hardware.

The backward pass (chapter 7b), for ``out = conv2d(x, w, b)`` and an upstream gradient
``grad_out = dL/dout`` of shape ``(N, O, Ho, Wo)``:

- ``db[o] = sum_{n, i, j} grad_out[n, o, i, j]``;
- ``dw = grad_out @ im2col(x)^T`` summed over the batch: a correlation of the input with the
  upstream gradient;
- ``dx = col2im(w^T @ grad_out)``: every output entry sends ``grad_out * w`` back to the input
  pixels it read. For stride 1 this is a "full" convolution of ``grad_out`` with the flipped
  kernel; with stride ``s`` the upstream gradient is first dilated by ``s`` (zeros inserted).

Max pooling routes the gradient to the position of the maximum of each window (the first one
in row-major order when there are ties, as PyTorch does); average pooling spreads it evenly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IntOrPair = int | tuple[int, int]

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_loop",
    "conv_output_size",
    "im2col",
    "max_pool2d",
    "max_pool2d_backward",
]


# ----------------------------------------------------------------------------------------------
# Argument checking
# ----------------------------------------------------------------------------------------------


def _pair(value: Any, name: str, minimum: int) -> tuple[int, int]:
    """``3 -> (3, 3)``, ``(2, 1) -> (2, 1)``; every entry an integer >= ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    out = []
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")  # noqa: TRY004 (course: ValueError)
        if v < minimum:
            what = "positive" if minimum == 1 else "non-negative"
            raise ValueError(f"{name} must be {what} (>= {minimum}), got {value!r}")
        out.append(int(v))
    return out[0], out[1]


def _as_float(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _check_x(x: Any, fn: str, channels_hint: int | None = None) -> np.ndarray:
    x = _as_float(x, "x")
    if x.ndim != 4:
        fix = (
            " For a single image of shape (C, H, W) add a batch axis: x[None]."
            if x.ndim == 3
            else " For one grayscale image of shape (H, W) use x[None, None]."
            if x.ndim == 2
            else ""
        )
        raise ValueError(f"{fn} expects x of shape (N, C, H, W) (4-D, NCHW), got shape {x.shape}.{fix}")
    if channels_hint is not None and x.shape[1] != channels_hint and x.shape[3] == channels_hint:
        raise ValueError(
            f"{fn}: x has shape {x.shape}, which looks like NHWC (channels last, TensorFlow's layout), "
            f"but this function expects NCHW; convert with x.transpose(0, 3, 1, 2)."
        )
    return x


def conv_output_size(H: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """Output length along one axis: ``floor((H + 2p - d(k - 1) - 1) / s) + 1``.

    ``H`` input length, ``k`` kernel size, ``p`` padding (each side), ``s`` stride, ``d``
    dilation. The dilated kernel spans ``d(k - 1) + 1`` pixels; it fits
    ``H + 2p - (d(k - 1) + 1)`` pixels past its first position, that is ``floor(... / s)``
    strides, plus the first position. Raises ``ValueError`` when the kernel does not fit.
    Introduced in chapter 7.
    """
    for name, v, lo in (("H", H, 1), ("k", k, 1), ("p", p, 0), ("s", s, 1), ("d", d, 1)):
        _pair(v, name, lo)  # validates an int >= lo
    span = d * (k - 1) + 1
    if span > H + 2 * p:
        raise ValueError(
            f"the kernel spans d(k - 1) + 1 = {span} pixels but the padded input has only "
            f"H + 2p = {H + 2 * p}: use a smaller kernel or dilation, or more padding."
        )
    return (H + 2 * p - span) // s + 1


def _conv_geometry(
    x: np.ndarray, w: np.ndarray, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, groups: int, fn: str
) -> dict[str, Any]:
    if w.ndim != 4:
        raise ValueError(
            f"{fn} expects weights w of shape (O, C // groups, kh, kw) (OIHW), got shape "
            f"{w.shape}. A TensorFlow kernel (kh, kw, C, O) converts with w.transpose(3, 2, 0, 1)."
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    groups = int(groups)
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape  # noqa: E741 - O for output channels, as in the OIHW layout
    if C % groups or O % groups:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({C}) and the output "
            f"channels ({O}); pick a common divisor."
        )
    if Cg * groups != C:
        hint = ""
        if x.shape[3] == Cg * groups:
            hint = " x looks like NHWC (channels last): convert with x.transpose(0, 3, 1, 2)."
        raise ValueError(
            f"channel mismatch: x has C = {C} channels (axis 1 of NCHW) but w expects "
            f"C // groups * groups = {Cg} * {groups} = {Cg * groups} (w.shape[1] = {Cg}).{hint} Otherwise "
            f"make w.shape[1] == C // groups."
        )
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    dh, dw = _pair(dilation, "dilation", 1)
    for axis, n_in, k, p, d in (("height", H, kh, ph, dh), ("width", W, kw, pw, dw)):
        if d * (k - 1) + 1 > n_in + 2 * p:
            raise ValueError(
                f"{fn}: along the {axis} the kernel spans d(k - 1) + 1 = {d * (k - 1) + 1} pixels but the "
                f"padded input has only {n_in} + 2*{p} = {n_in + 2 * p}; use a smaller kernel or dilation, "
                f"or more padding."
            )
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return {
        "N": N,
        "C": C,
        "H": H,
        "W": W,
        "O": O,
        "Cg": Cg,
        "kh": kh,
        "kw": kw,
        "sh": sh,
        "sw": sw,
        "ph": ph,
        "pw": pw,
        "dh": dh,
        "dw": dw,
        "Ho": Ho,
        "Wo": Wo,
        "G": groups,
    }


def _prepare(
    x: Any, w: Any, b: Any, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, groups: int, fn: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    w = _as_float(w, "w")
    x = _check_x(x, fn)
    geo = _conv_geometry(x, w, stride, padding, dilation, groups, fn)
    if b is not None:
        b = _as_float(b, "b")
        if b.shape != (geo["O"],):
            raise ValueError(
                f"the bias must have shape (O,) = ({geo['O']},), one entry per output channel, got {b.shape}"
            )
    return x, w, b, geo


def _result_dtype(*arrays: np.ndarray | None) -> np.dtype:
    return np.result_type(*[a.dtype for a in arrays if a is not None])


# ----------------------------------------------------------------------------------------------
# Convolution: the loop version, im2col, the backward pass
# ----------------------------------------------------------------------------------------------


def conv2d_loop(
    x: Any,
    w: Any,
    b: Any = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """The teaching version of :func:`conv2d`: the defining formula, one output entry at a time.

    x ``(N, C, H, W)``, w ``(O, C // groups, kh, kw)``, b ``(O,)`` or None ->
    ``(N, O, Ho, Wo)``. Same arguments and result as :func:`conv2d` (and ``F.conv2d``), but
    Python loops make it hundreds of times slower: use it to read, not to train.
    Introduced in chapter 7.
    """
    x, w, b, g = _prepare(x, w, b, stride, padding, dilation, groups, "conv2d_loop")
    xpad = np.pad(x, ((0, 0), (0, 0), (g["ph"], g["ph"]), (g["pw"], g["pw"])))
    out = np.zeros((g["N"], g["O"], g["Ho"], g["Wo"]), dtype=_result_dtype(x, w, b))
    o_per_group = g["O"] // g["G"]
    for n in range(g["N"]):
        for o in range(g["O"]):
            c0 = (o // o_per_group) * g["Cg"]  # first input channel of o's group
            for i in range(g["Ho"]):
                for j in range(g["Wo"]):
                    total = 0.0 if b is None else b[o]
                    for c in range(g["Cg"]):
                        for m in range(g["kh"]):
                            for q in range(g["kw"]):
                                total += (
                                    w[o, c, m, q]
                                    * xpad[n, c0 + c, i * g["sh"] + m * g["dh"], j * g["sw"] + q * g["dw"]]
                                )
                    out[n, o, i, j] = total
    return out


def im2col(
    x: Any, kernel_size: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1
) -> np.ndarray:
    """Gather every receptive field of ``x`` ``(N, C, H, W)``: -> ``(N, C, kh, kw, Ho, Wo)``.

    ``cols[n, c, m, q, i, j] = xpad[n, c, i*s + m*d, j*s + q*d]``. Reshaped to
    ``(N, C*kh*kw, Ho*Wo)`` it is the matrix that turns a convolution into one matrix
    multiply. It loops over the ``kh * kw`` kernel offsets only; each offset is one strided
    slice of the whole batch. Introduced in chapter 7.
    """
    x = _check_x(x, "im2col")
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    geo = _conv_geometry(x, np.empty((1, x.shape[1], kh, kw)), stride, padding, dilation, 1, "im2col")
    return _im2col(x, geo)


def _im2col(x: np.ndarray, g: dict[str, Any]) -> np.ndarray:
    xpad = np.pad(x, ((0, 0), (0, 0), (g["ph"], g["ph"]), (g["pw"], g["pw"])))
    cols = np.empty((g["N"], g["C"], g["kh"], g["kw"], g["Ho"], g["Wo"]), dtype=x.dtype)
    for m in range(g["kh"]):
        r0 = m * g["dh"]
        for q in range(g["kw"]):
            c0 = q * g["dw"]
            cols[:, :, m, q] = xpad[
                :, :, r0 : r0 + g["sh"] * (g["Ho"] - 1) + 1 : g["sh"], c0 : c0 + g["sw"] * (g["Wo"] - 1) + 1 : g["sw"]
            ]
    return cols


def col2im(
    cols: Any,
    x_shape: tuple[int, int, int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column entry back onto the pixel it came from.

    ``cols`` ``(N, C, kh, kw, Ho, Wo)`` -> ``(N, C, H, W)`` with ``x_shape = (N, C, H, W)``.
    Pixels read by several overlapping windows receive the sum of their entries; this is the
    scatter that the backward pass of a convolution needs. Introduced in chapter 7.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape!r}")
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    geo = _conv_geometry(np.empty(x_shape), np.empty((1, x_shape[1], kh, kw)), stride, padding, dilation, 1, "col2im")
    cols = _as_float(cols, "cols")
    want = (geo["N"], geo["C"], kh, kw, geo["Ho"], geo["Wo"])
    if cols.shape != want:
        raise ValueError(f"cols must have shape (N, C, kh, kw, Ho, Wo) = {want}, got {cols.shape}")
    return _col2im(cols, geo)


def _col2im(cols: np.ndarray, g: dict[str, Any]) -> np.ndarray:
    xpad = np.zeros((g["N"], g["C"], g["H"] + 2 * g["ph"], g["W"] + 2 * g["pw"]), dtype=cols.dtype)
    for m in range(g["kh"]):
        r0 = m * g["dh"]
        for q in range(g["kw"]):
            c0 = q * g["dw"]
            xpad[
                :, :, r0 : r0 + g["sh"] * (g["Ho"] - 1) + 1 : g["sh"], c0 : c0 + g["sw"] * (g["Wo"] - 1) + 1 : g["sw"]
            ] += cols[:, :, m, q]
    return xpad[:, :, g["ph"] : g["ph"] + g["H"], g["pw"] : g["pw"] + g["W"]]


def conv2d(
    x: Any,
    w: Any,
    b: Any = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D convolution (cross-correlation) as one matrix multiply per group (im2col).

    x ``(N, C, H, W)``, w ``(O, C // groups, kh, kw)``, b ``(O,)`` or None ->
    ``(N, O, Ho, Wo)``, ``Ho = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).
    ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs; ``groups``
    splits the channels into independent convolutions (``groups = C``: depthwise). Equals
    ``torch.nn.functional.conv2d`` with the same arguments. Introduced in chapter 7.
    """
    x, w, b, g = _prepare(x, w, b, stride, padding, dilation, groups, "conv2d")
    G, N, K, P = g["G"], g["N"], g["Cg"] * g["kh"] * g["kw"], g["Ho"] * g["Wo"]
    cols = _im2col(x, g).reshape(N, G, K, P)  # (N, G, Cg*kh*kw, Ho*Wo)
    wmat = w.reshape(G, g["O"] // G, K)  # (G, O/G, Cg*kh*kw)
    out = (wmat[None] @ cols).reshape(N, g["O"], g["Ho"], g["Wo"])  # (N, G, O/G, P) -> (N, O, Ho, Wo)
    if b is not None:
        out = out + b[None, :, None, None]
    return out.astype(_result_dtype(x, w, b), copy=False)


def conv2d_backward(
    grad_out: Any,
    x: Any,
    w: Any,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``out = conv2d(x, w, b, ...)`` given ``grad_out = dL/dout``.

    grad_out ``(N, O, Ho, Wo)``, x ``(N, C, H, W)``, w ``(O, C // groups, kh, kw)`` ->
    ``(dx, dw, db)`` of shapes ``(N, C, H, W)``, ``(O, C // groups, kh, kw)``, ``(O,)``:

    - ``db = grad_out.sum((0, 2, 3))``;
    - ``dw = sum_n grad_out[n] @ im2col(x)[n]^T`` (per group): a correlation of x with grad_out;
    - ``dx = col2im(w^T @ grad_out)``: the "full" convolution of grad_out with the flipped
      kernel (with the stride's zeros inserted into grad_out).

    Input pixels that no window reads (when the stride does not divide evenly) get zero.
    Introduced in chapter 7.
    """
    x, w, _, g = _prepare(x, w, None, stride, padding, dilation, groups, "conv2d_backward")
    grad_out = _as_float(grad_out, "grad_out")
    want = (g["N"], g["O"], g["Ho"], g["Wo"])
    if grad_out.shape != want:
        raise ValueError(
            f"grad_out must have the shape of conv2d's output, (N, O, Ho, Wo) = {want}, got "
            f"{grad_out.shape}; pass the same stride/padding/dilation as in the forward pass."
        )
    G, N, K, P, Og = g["G"], g["N"], g["Cg"] * g["kh"] * g["kw"], g["Ho"] * g["Wo"], g["O"] // g["G"]
    dtype = _result_dtype(grad_out, x, w)
    go = grad_out.reshape(N, G, Og, P)  # (N, G, O/G, P)
    db = grad_out.sum(axis=(0, 2, 3))  # (O,)
    cols = _im2col(x, g).reshape(N, G, K, P)  # (N, G, K, P)
    dw = (go @ cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, O/G, K)
    wmat = w.reshape(G, Og, K)
    dcols = wmat.transpose(0, 2, 1)[None] @ go  # (N, G, K, P)
    dcols = dcols.reshape(N, g["C"], g["kh"], g["kw"], g["Ho"], g["Wo"])
    dx = _col2im(dcols, g)
    return dx.astype(dtype, copy=False), dw.reshape(w.shape).astype(dtype, copy=False), db.astype(dtype, copy=False)


# ----------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------


def _pool_geometry(
    x: Any, kernel_size: IntOrPair, stride: IntOrPair | None, padding: IntOrPair, fn: str
) -> tuple[np.ndarray, dict[str, Any]]:
    x = _check_x(x, fn)
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"{fn}: padding {(ph, pw)} must be at most half the kernel size {(kh, kw)} (as in "
            "PyTorch); otherwise a window could see only padding. Use less padding."
        )
    geo = _conv_geometry(x, np.empty((1, x.shape[1], kh, kw)), (sh, sw), (ph, pw), 1, 1, fn)
    return x, geo


def _pool_windows(x: np.ndarray, g: dict[str, Any], fill: float) -> np.ndarray:
    """``(N, C, kh*kw, Ho, Wo)``: every pooling window, padding filled with ``fill``."""
    xpad = np.pad(x, ((0, 0), (0, 0), (g["ph"], g["ph"]), (g["pw"], g["pw"])), constant_values=fill)
    # _im2col pads with zeros; pad here with `fill` and ask it for no further padding
    g_nopad = dict(g, H=g["H"] + 2 * g["ph"], W=g["W"] + 2 * g["pw"], ph=0, pw=0)
    cols = _im2col(xpad, g_nopad)
    return cols.reshape(g["N"], g["C"], g["kh"] * g["kw"], g["Ho"], g["Wo"])


def max_pool2d(x: Any, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> np.ndarray:
    """Max pooling: x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``, the maximum of each window.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in
    ``torch.nn.functional.max_pool2d``; padding counts as minus infinity (never the max) and
    may be at most half the kernel. Introduced in chapter 7.
    """
    x, g = _pool_geometry(x, kernel_size, stride, padding, "max_pool2d")
    return _pool_windows(x, g, -np.inf).max(axis=2)


def max_pool2d_backward(
    grad_out: Any, x: Any, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to x: ``(N, C, Ho, Wo)`` -> ``(N, C, H, W)``.

    Each window's upstream gradient goes, whole, to the position of the window's maximum (the
    first one in row-major order when several entries tie, as in PyTorch); every other
    position gets zero from that window. Overlapping windows add up. Introduced in chapter 7.
    """
    x, g = _pool_geometry(x, kernel_size, stride, padding, "max_pool2d_backward")
    grad_out = _as_float(grad_out, "grad_out")
    want = (g["N"], g["C"], g["Ho"], g["Wo"])
    if grad_out.shape != want:
        raise ValueError(
            f"grad_out must have max_pool2d's output shape {want}, got {grad_out.shape}; pass "
            "the same kernel_size, stride and padding as in the forward pass."
        )
    arg = _pool_windows(x, g, -np.inf).argmax(axis=2)  # (N, C, Ho, Wo), first max
    n, c, i, j = np.indices(want, sparse=False)
    rows = i * g["sh"] + arg // g["kw"]  # in padded coordinates
    cols = j * g["sw"] + arg % g["kw"]
    dxpad = np.zeros((g["N"], g["C"], g["H"] + 2 * g["ph"], g["W"] + 2 * g["pw"]), dtype=_result_dtype(grad_out, x))
    np.add.at(dxpad, (n, c, rows, cols), grad_out)
    return dxpad[:, :, g["ph"] : g["ph"] + g["H"], g["pw"] : g["pw"] + g["W"]]


def avg_pool2d(x: Any, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> np.ndarray:
    """Average pooling: x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``, the mean of each window.

    As ``torch.nn.functional.avg_pool2d`` with its defaults (``count_include_pad=True``):
    padded zeros count in the mean, which is always over ``kh * kw`` entries.
    Introduced in chapter 7.
    """
    x, g = _pool_geometry(x, kernel_size, stride, padding, "avg_pool2d")
    return _pool_windows(x, g, 0.0).mean(axis=2)


def avg_pool2d_backward(
    grad_out: Any, x: Any, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
) -> np.ndarray:
    """Gradient of :func:`avg_pool2d`: each window spreads ``grad_out / (kh * kw)`` evenly.

    grad_out ``(N, C, Ho, Wo)``, x ``(N, C, H, W)`` -> ``(N, C, H, W)``. Introduced in chapter 7.
    """
    x, g = _pool_geometry(x, kernel_size, stride, padding, "avg_pool2d_backward")
    grad_out = _as_float(grad_out, "grad_out")
    want = (g["N"], g["C"], g["Ho"], g["Wo"])
    if grad_out.shape != want:
        raise ValueError(
            f"grad_out must have avg_pool2d's output shape {want}, got {grad_out.shape}; pass "
            "the same kernel_size, stride and padding as in the forward pass."
        )
    k = g["kh"] * g["kw"]
    cols = np.broadcast_to((grad_out / k)[:, :, None, None], (g["N"], g["C"], g["kh"], g["kw"], g["Ho"], g["Wo"]))
    return _col2im(np.ascontiguousarray(cols, dtype=_result_dtype(grad_out, x)), g)
