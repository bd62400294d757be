"""Recurrent layers from scratch in NumPy: the Elman RNN with backpropagation through time, the
LSTM and the GRU (chapter 8).

Introduced in chapter 8, "Recurrent networks". Everything follows **PyTorch's layout and gate
order**, so that ``torch.nn.RNN/LSTM/GRU`` with the same weights give the same numbers:

- a sequence ``x`` is ``(T, N, D)`` (time first), states ``h``, ``c`` are ``(N, H)``, and the
  outputs ``out`` are ``(T, N, H)`` (the hidden state at every step);
- ``W_ih`` is ``(G*H, D)``, ``W_hh`` is ``(G*H, H)``, ``b_ih`` and ``b_hh`` are ``(G*H,)``, with
  ``G = 1`` (RNN), ``4`` (LSTM, gates stacked i, f, g, o) or ``3`` (GRU, gates r, z, n).

The equations (chapter 8, equations (ch08-rnn) to (ch08-gru))::

    RNN   a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (N, H)
          h_t = f(a_t)                  f = tanh or relu
    LSTM  [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh    (N, 4H), split in four
          i, f, o = sigmoid(.), g = tanh(.)
          c_t = f * c_{t-1} + i * g                                 (the additive cell path)
          h_t = o * tanh(c_t)
    GRU   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
          z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
          n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))        (r applied after W_hn)
          h_t = (1 - z) * n + z * h_{t-1}

Backpropagation through time for the RNN (:func:`rnn_backward`), with ``g_t = dL/d out_t``::

    dh_t = g_t + da_{t+1} W_hh           (N, H)   (da_{T+1} = 0, plus dL/dh_T if given)
    da_t = dh_t * f'(a_t)                (N, H)
    dW_ih = sum_t da_t^T x_t (H, D),  dW_hh = sum_t da_t^T h_{t-1} (H, H),
    db_ih = db_hh = sum_t da_t.sum(0) (H,),  dx_t = da_t W_ih (N, D),  dh0 = da_1 W_hh (N, H)

Keras stores the same layers differently (``torch_to_keras_*`` convert): kernels are
transposed (``(D, G*H)``), the LSTM has a single bias ``b_ih + b_hh`` (gate order i, f, c, o,
the same as PyTorch's), and the GRU (with ``reset_after=True``, the default) orders its gates
z, r, h and keeps both biases as a ``(2, 3H)`` array. The unit tests (``tests/test_rnn.py``)
check every function against PyTorch and Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.layers import activation, sigmoid

Gradients = dict[str, np.ndarray]

_NONLINEARITIES = ("tanh", "relu")


def _array(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"{name} must be a numeric array, got dtype {arr.dtype}; convert it with np.asarray({name}, float)"
        )
    return arr.astype(np.float64) if arr.dtype.kind in "iu" else arr


def _check_layer(
    x: Any, h0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any, gates: int, kind: str
) -> tuple[np.ndarray, ...]:
    """Validate shapes; return float arrays ``x, h0, W_ih, W_hh, b_ih, b_hh``."""
    x, h0 = _array(x, "x"), _array(h0, "h0")
    W_ih, W_hh, b_ih, b_hh = (_array(v, n) for v, n in ((W_ih, "W_ih"), (W_hh, "W_hh"), (b_ih, "b_ih"), (b_hh, "b_hh")))
    if x.ndim != 3:
        hint = " (one sequence? use x[:, None, :] for a batch of one)" if x.ndim == 2 else ""
        raise ValueError(
            f"x must have shape (T, N, D), time first as in PyTorch's default, got {x.shape}{hint}; "
            "for batch-first data (N, T, D) pass x.transpose(1, 0, 2)"
        )
    _, N, D = x.shape
    if W_ih.ndim != 2 or W_ih.shape[0] % gates or W_ih.shape[1] != D:
        raise ValueError(
            f"W_ih must have shape ({gates}*H, D) = ({gates}*H, {D}) for a {kind}, got {W_ih.shape}"
            + ("; is it a Keras kernel (D, G*H)? pass its transpose" if W_ih.ndim == 2 and W_ih.shape[0] == D else "")
        )
    H = W_ih.shape[0] // gates
    if W_hh.shape != (gates * H, H):
        raise ValueError(f"W_hh must have shape ({gates}*H, H) = ({gates * H}, {H}) for a {kind}, got {W_hh.shape}")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b.shape != (gates * H,):
            raise ValueError(
                f"{name} must have shape ({gates * H},) for a {kind} with H={H}, got {b.shape}"
                + (
                    "; Keras' single LSTM bias is b_ih + b_hh: pass it as b_ih and zeros as b_hh"
                    if kind == "LSTM"
                    else ""
                )
            )
    if h0.shape != (N, H):
        raise ValueError(
            f"h0 must have shape (N, H) = ({N}, {H}), got {h0.shape}; use np.zeros((N, H)) for a zero initial state"
        )
    return x, h0, W_ih, W_hh, b_ih, b_hh


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {_NONLINEARITIES} (as in torch.nn.RNN), got {nonlinearity!r}")


def _rnn_preactivations(
    x: np.ndarray,
    h0: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the RNN; return pre-activations ``a`` and states ``h``, both ``(T, N, H)``."""
    f, _ = activation(nonlinearity)
    T, N = x.shape[:2]
    H = W_hh.shape[0]
    a, hs = np.empty((T, N, H)), np.empty((T, N, H))
    xw = x @ W_ih.T + b_ih + b_hh  # (T, N, H): the input part of every step at once
    h = h0
    for t in range(T):
        a[t] = xw[t] + h @ W_hh.T  # (N, H)
        h = hs[t] = f(a[t])
    return a, hs


def rnn_forward(
    x: Any, h0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any, nonlinearity: str = "tanh"
) -> tuple[np.ndarray, np.ndarray]:
    """Elman RNN, as ``torch.nn.RNN``: ``h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    ``x`` (T, N, D), ``h0`` (N, H), ``W_ih`` (H, D), ``W_hh`` (H, H), ``b_ih``, ``b_hh`` (H,);
    ``nonlinearity`` is "tanh" or "relu". Returns ``(out, h_T)``: all states ``(T, N, H)`` and
    the last one ``(N, H)``. The same weights are used at every step (sharing across time).

    Introduced in chapter 8.
    """
    _check_nonlinearity(nonlinearity)
    x, h0, W_ih, W_hh, b_ih, b_hh = _check_layer(x, h0, W_ih, W_hh, b_ih, b_hh, 1, "RNN")
    _, out = _rnn_preactivations(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity)
    return out, out[-1] if len(out) else h0.copy()


def rnn_backward(
    grad_out: Any,
    x: Any,
    h0: Any,
    W_ih: Any,
    W_hh: Any,
    b_ih: Any,
    b_hh: Any,
    nonlinearity: str = "tanh",
    grad_h_T: Any = None,
) -> Gradients:
    """Backpropagation through time for :func:`rnn_forward`.

    ``grad_out`` (T, N, H) is dL/d out (zeros at the steps the loss does not read);
    ``grad_h_T`` (N, H), optional, is a gradient arriving at the last state from elsewhere
    (e.g. from the next chunk in truncated BPTT). Recomputes the forward pass, then runs the
    recursion ``dh_t = grad_out_t + (dh_{t+1} * f'(a_{t+1})) W_hh`` backwards in time.
    Returns ``{"x": (T, N, D), "h0": (N, H), "W_ih": (H, D), "W_hh": (H, H), "b_ih": (H,),
    "b_hh": (H,)}``: the shared weights' gradients are sums over all time steps.

    Introduced in chapter 8.
    """
    _check_nonlinearity(nonlinearity)
    x, h0, W_ih, W_hh, b_ih, b_hh = _check_layer(x, h0, W_ih, W_hh, b_ih, b_hh, 1, "RNN")
    T, N, _ = x.shape
    H = W_hh.shape[0]
    g = _array(grad_out, "grad_out")
    if g.shape != (T, N, H):
        raise ValueError(
            f"grad_out must have the shape of out, (T, N, H) = ({T}, {N}, {H}), got {g.shape}; "
            "for a loss on the last state only, pass zeros and put the gradient in grad_h_T"
        )
    dh_next = np.zeros((N, H))
    if grad_h_T is not None:
        dh_next = _array(grad_h_T, "grad_h_T")
        if dh_next.shape != (N, H):
            raise ValueError(f"grad_h_T must have shape (N, H) = ({N}, {H}), got {dh_next.shape}")
    _, df = activation(nonlinearity)
    a, hs = _rnn_preactivations(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity)
    grads = {"x": np.zeros_like(x), "W_ih": np.zeros_like(W_ih), "W_hh": np.zeros_like(W_hh), "b_ih": np.zeros(H)}
    for t in reversed(range(T)):
        dh = g[t] + dh_next  # (N, H): from the output at t and from step t+1
        da = dh * df(a[t])  # (N, H)
        h_prev = hs[t - 1] if t > 0 else h0  # (N, H)
        grads["W_ih"] += da.T @ x[t]  # (H, N) @ (N, D)
        grads["W_hh"] += da.T @ h_prev  # (H, N) @ (N, H)
        grads["b_ih"] += da.sum(axis=0)  # (H,)
        grads["x"][t] = da @ W_ih  # (N, H) @ (H, D)
        dh_next = da @ W_hh  # (N, H) @ (H, H): to h_{t-1}
    grads["h0"] = dh_next
    grads["b_hh"] = grads["b_ih"].copy()  # both biases enter a_t the same way
    return grads


def lstm_forward(
    x: Any, h0: Any, c0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """LSTM, as ``torch.nn.LSTM`` (gates stacked i, f, g, o).

    ``x`` (T, N, D), ``h0`` and ``c0`` (N, H), ``W_ih`` (4H, D), ``W_hh`` (4H, H), biases (4H,).
    Returns ``(out, (h_T, c_T))`` with ``out`` (T, N, H). The cell state is updated additively,
    ``c_t = f * c_{t-1} + i * g``: its gradient along the cell path is scaled by ``f`` only.

    Introduced in chapter 8.
    """
    x, h0, W_ih, W_hh, b_ih, b_hh = _check_layer(x, h0, W_ih, W_hh, b_ih, b_hh, 4, "LSTM")
    c = _array(c0, "c0")
    if c.shape != h0.shape:
        raise ValueError(f"c0 must have the shape of h0, (N, H) = {h0.shape}, got {c.shape}")
    T, N, _ = x.shape
    H = W_hh.shape[1]
    out = np.empty((T, N, H))
    xw = x @ W_ih.T + b_ih + b_hh  # (T, N, 4H)
    h = h0
    for t in range(T):
        z = xw[t] + h @ W_hh.T  # (N, 4H)
        i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H]), sigmoid(z[:, 3 * H :])
        g = np.tanh(z[:, 2 * H : 3 * H])
        c = f * c + i * g  # (N, H)
        h = out[t] = o * np.tanh(c)  # (N, H)
    return out, (h.copy(), c)


def gru_forward(x: Any, h0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any) -> tuple[np.ndarray, np.ndarray]:
    """GRU, as ``torch.nn.GRU`` (gates stacked r, z, n; the reset gate multiplies ``h W_hn^T + b_hn``).

    ``x`` (T, N, D), ``h0`` (N, H), ``W_ih`` (3H, D), ``W_hh`` (3H, H), biases (3H,).
    Returns ``(out, h_T)``: ``h_t = (1 - z) * n + z * h_{t-1}``.

    Introduced in chapter 8.
    """
    x, h0, W_ih, W_hh, b_ih, b_hh = _check_layer(x, h0, W_ih, W_hh, b_ih, b_hh, 3, "GRU")
    T, N, _ = x.shape
    H = W_hh.shape[1]
    out = np.empty((T, N, H))
    xw = x @ W_ih.T + b_ih  # (T, N, 3H)
    h = h0
    for t in range(T):
        hw = h @ W_hh.T + b_hh  # (N, 3H)
        r = sigmoid(xw[t, :, :H] + hw[:, :H])
        z = sigmoid(xw[t, :, H : 2 * H] + hw[:, H : 2 * H])
        n = np.tanh(xw[t, :, 2 * H :] + r * hw[:, 2 * H :])
        h = out[t] = (1.0 - z) * n + z * h  # (N, H)
    return out, (h.copy() if T else h0.copy())


# ---------------------------------------------------------------------------- Keras layouts
def _check_weights(W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any, gates: int, kind: str) -> tuple[np.ndarray, ...]:
    G_H = np.shape(W_hh)[0] if np.ndim(W_hh) == 2 else 0
    H = G_H // gates if G_H else 1
    D = np.shape(W_ih)[1] if np.ndim(W_ih) == 2 else 1
    _, _, W_ih, W_hh, b_ih, b_hh = _check_layer(
        np.zeros((0, 1, D)), np.zeros((1, H)), W_ih, W_hh, b_ih, b_hh, gates, kind
    )
    return W_ih, W_hh, b_ih, b_hh


def torch_to_keras_rnn(W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any) -> list[np.ndarray]:
    """``torch.nn.RNN`` weights -> ``keras.layers.SimpleRNN.set_weights`` list
    ``[kernel (D, H), recurrent_kernel (H, H), bias (H,)]``: transposes, and one bias ``b_ih + b_hh``.

    Introduced in chapter 8.
    """
    W_ih, W_hh, b_ih, b_hh = _check_weights(W_ih, W_hh, b_ih, b_hh, 1, "RNN")
    return [W_ih.T.copy(), W_hh.T.copy(), b_ih + b_hh]


def torch_to_keras_lstm(W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any) -> list[np.ndarray]:
    """``torch.nn.LSTM`` weights -> ``keras.layers.LSTM.set_weights`` list
    ``[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)]``. The gate order is the same
    (i, f, g, o = Keras' i, f, c, o); Keras has one bias, so it gets ``b_ih + b_hh``.

    Introduced in chapter 8.
    """
    W_ih, W_hh, b_ih, b_hh = _check_weights(W_ih, W_hh, b_ih, b_hh, 4, "LSTM")
    return [W_ih.T.copy(), W_hh.T.copy(), b_ih + b_hh]


def torch_to_keras_gru(W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any) -> list[np.ndarray]:
    """``torch.nn.GRU`` weights -> ``keras.layers.GRU(reset_after=True).set_weights`` list
    ``[kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H)]``.

    PyTorch stacks the gates r, z, n; Keras z, r, h, so the first two blocks swap. Keras keeps
    both biases (``reset_after=True``): row 0 is the input bias, row 1 the recurrent one.

    Introduced in chapter 8.
    """
    W_ih, W_hh, b_ih, b_hh = _check_weights(W_ih, W_hh, b_ih, b_hh, 3, "GRU")
    H = W_hh.shape[1]
    order = np.r_[H : 2 * H, 0:H, 2 * H : 3 * H]  # (z, r, n) rows out of PyTorch's (r, z, n)
    return [W_ih[order].T.copy(), W_hh[order].T.copy(), np.stack([b_ih[order], b_hh[order]])]


def lstm_num_params(input_size: int, hidden_size: int, framework: str = "torch") -> int:
    """Trainable parameters of one LSTM layer: ``4H(D + H)`` weights plus ``8H`` biases in
    PyTorch (two bias vectors) or ``4H`` in Keras (one).

    Introduced in chapter 8.
    """
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if framework not in ("torch", "keras"):
        raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")
    D, H = int(input_size), int(hidden_size)
    return 4 * H * (D + H) + (8 * H if framework == "torch" else 4 * H)
