"""Attention in NumPy: scaled dot-product attention, multi-head attention, position encodings
(chapter 9).

Introduced in chapter 9, "Attention and transformers". The functions follow **PyTorch's
conventions exactly**, so that ``torch.nn.functional.scaled_dot_product_attention`` and
``torch.nn.MultiheadAttention(E, num_heads, batch_first=True)`` with the same weights give the
same numbers (``tests/test_attention.py`` checks both, and Keras' ``MultiHeadAttention``).

Scaled dot-product attention, equation (ch09-sdpa), for queries ``q`` (..., L, E), keys ``k``
(..., S, E) and values ``v`` (..., S, Ev)::

    scores  = q k^T * scale                 (..., L, S)    scale = 1/sqrt(E) by default
    scores += mask                          a float mask is added; a boolean mask puts -inf
                                            where it is False (True = "may attend")
    weights = softmax(scores, axis=-1)      (..., L, S)    each row sums to 1
    out     = weights v                     (..., L, Ev)

Multi-head attention with PyTorch's packed weights (``in_proj_weight`` (3E, E) stacks W_q, W_k,
W_v; ``out_proj_weight`` (E, E)), ``h`` heads of size ``d = E / h``::

    Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v      (N, L|S, E)
    split the last axis in h heads                                           (N, h, L|S, d)
    O_i = attention(Q_i, K_i, V_i)                                           (N, h, L, d)
    out = concat(O_1..O_h) W_o^T + b_o                                       (N, L, E)

**Two opposite boolean-mask conventions.** ``scaled_dot_product_attention`` (as PyTorch's
``F.scaled_dot_product_attention`` and Keras' ``attention_mask``): True = *attend*.
``multi_head_attention`` (as ``torch.nn.MultiheadAttention``'s ``attn_mask``): True = *masked
out*. Float masks are added in both. Passing one convention's mask to the other function
silently inverts it (chapter 9 executes this pitfall).

Keras stores multi-head attention differently: separate query/key/value kernels of shape
(E, h, d) with biases (h, d), and an output kernel (h, d, E); :func:`torch_to_keras_mha`
converts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.losses import softmax


def _array(x: Any, name: str, min_ndim: int) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < min_ndim:
        raise ValueError(
            f"{name} has shape {a.shape}; it needs at least {min_ndim} dimensions "
            f"(a single sequence is (length, features): add the batch axis with {name}[None] if needed)"
        )
    return a


def attention_weights(
    q: Any, k: Any, attn_mask: Any = None, is_causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """The attention weights ``softmax(q k^T * scale + mask)``, shape (..., L, S).

    ``q`` is (..., L, E), ``k`` is (..., S, E) (leading axes broadcast). ``attn_mask``: a boolean
    array broadcastable to (..., L, S), True where attention is *allowed* (PyTorch's
    ``F.scaled_dot_product_attention`` convention), or a float array added to the scores.
    ``is_causal=True`` allows position ``i`` to see keys ``j <= i`` only (a lower-triangular
    mask aligned at the top left, as PyTorch); it cannot be combined with ``attn_mask``.
    ``scale`` defaults to ``1/sqrt(E)``. A query whose keys are all masked out gets a row of
    NaN (nothing to normalize), as in ``nn.MultiheadAttention``.

    Introduced in chapter 9.
    """
    return _weights(q, k, attn_mask, is_causal, scale)[0]


def _weights(q: Any, k: Any, attn_mask: Any, is_causal: bool, scale: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(weights (..., L, S), boolean (..., L, 1): True where every key of the row is masked out)."""
    q, k = _array(q, "q", 2), _array(k, "k", 2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q has {q.shape[-1]} features per position and k has {k.shape[-1]}: queries and keys "
            "must have the same last dimension E for the dot products q . k"
        )
    if attn_mask is not None and is_causal:
        raise ValueError("pass either attn_mask or is_causal=True, not both (fold the causal mask into attn_mask)")
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = (q @ np.swapaxes(k, -1, -2)) * scale  # (..., L, S)
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        mask = np.asarray(attn_mask)
        try:
            np.broadcast_shapes(mask.shape, scores.shape)
        except ValueError:
            raise ValueError(
                f"attn_mask has shape {mask.shape}, which does not broadcast to the scores' shape "
                f"{scores.shape} (..., L, S): give it shape (L, S) = ({L}, {S}) or one per batch element"
            ) from None
        if mask.dtype == bool:
            scores = np.where(mask, scores, -np.inf)
        else:
            scores = scores + mask.astype(np.float64)
    dead = np.all(scores == -np.inf, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a fully masked row: -inf - (-inf) = NaN
        return softmax(scores, axis=-1), dead


def scaled_dot_product_attention(
    q: Any, k: Any, v: Any, attn_mask: Any = None, is_causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """``softmax(q k^T / sqrt(E) + mask) v``: equation (ch09-sdpa), shape (..., L, Ev).

    The semantics of ``torch.nn.functional.scaled_dot_product_attention`` (without dropout):
    ``q`` (..., L, E), ``k`` (..., S, E), ``v`` (..., S, Ev); a boolean ``attn_mask`` is True
    where attention is allowed, a float one is added to the scores; ``is_causal`` and ``scale``
    as in :func:`attention_weights`. A query whose keys are all masked out gets an output of
    zeros, as PyTorch's function returns (its weights would be NaN).

    Introduced in chapter 9.
    """
    k, v = _array(k, "k", 2), _array(v, "v", 2)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k has {k.shape[-2]} positions and v has {v.shape[-2]}: every key needs its value, "
            "so k (..., S, E) and v (..., S, Ev) must share S"
        )
    weights, dead = _weights(q, k, attn_mask, is_causal, scale)
    return np.where(dead, 0.0, weights) @ v


def multi_head_attention(
    query: Any,
    key: Any,
    value: Any,
    num_heads: int,
    in_proj_weight: Any,
    in_proj_bias: Any,
    out_proj_weight: Any,
    out_proj_bias: Any,
    attn_mask: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention equal to ``torch.nn.MultiheadAttention(E, num_heads, batch_first=True)``.

    ``query`` (N, L, E), ``key`` and ``value`` (N, S, E); ``in_proj_weight`` (3E, E) and
    ``in_proj_bias`` (3E,) stack the query, key and value projections; ``out_proj_weight``
    (E, E), ``out_proj_bias`` (E,). ``attn_mask`` follows **nn.MultiheadAttention's** convention:
    a boolean (L, S) or (N * num_heads, L, S) array that is True where attention is *not*
    allowed (the opposite of :func:`scaled_dot_product_attention`), or a float array added to
    the scores. Returns ``(output (N, L, E), weights averaged over the heads (N, L, S))``.

    Introduced in chapter 9.
    """
    query, key, value = (_array(x, name, 3) for x, name in ((query, "query"), (key, "key"), (value, "value")))
    if query.ndim != 3 or key.ndim != 3 or value.ndim != 3:
        raise ValueError(
            f"query, key and value must be (N, L, E) batches (batch_first=True); got {query.shape}, "
            f"{key.shape} and {value.shape}"
        )
    N, L, E = query.shape
    S = key.shape[1]
    if key.shape != value.shape or key.shape[0] != N or key.shape[2] != E:
        raise ValueError(
            f"key {key.shape} and value {value.shape} must both be (N, S, E) = ({N}, S, {E}), with "
            "the query's batch size and embedding size"
        )
    if not isinstance(num_heads, (int, np.integer)) or num_heads < 1 or E % num_heads:
        raise ValueError(
            f"num_heads={num_heads} must be a positive integer that divides the embedding size E={E} "
            "(each head gets E / num_heads features)"
        )
    W_in, b_in = np.asarray(in_proj_weight, dtype=np.float64), np.asarray(in_proj_bias, dtype=np.float64)
    W_out, b_out = np.asarray(out_proj_weight, dtype=np.float64), np.asarray(out_proj_bias, dtype=np.float64)
    expected = {
        "in_proj_weight": (3 * E, E),
        "in_proj_bias": (3 * E,),
        "out_proj_weight": (E, E),
        "out_proj_bias": (E,),
    }
    for name, arr in zip(expected, (W_in, b_in, W_out, b_out)):
        if arr.shape != expected[name]:
            raise ValueError(
                f"{name} has shape {arr.shape}, expected {expected[name]} for E={E} "
                "(PyTorch's packed layout: rows of in_proj_weight are W_q, then W_k, then W_v)"
            )
    h, d = int(num_heads), E // int(num_heads)
    Q = query @ W_in[:E].T + b_in[:E]
    K = key @ W_in[E : 2 * E].T + b_in[E : 2 * E]
    V = value @ W_in[2 * E :].T + b_in[2 * E :]

    def heads(x: np.ndarray) -> np.ndarray:  # (N, T, E) -> (N, h, T, d)
        return x.reshape(N, x.shape[1], h, d).transpose(0, 2, 1, 3)

    mask = None
    if attn_mask is not None:
        m = np.asarray(attn_mask)
        if m.shape == (N * h, L, S):
            m = m.reshape(N, h, L, S)
        elif m.shape != (L, S):
            raise ValueError(
                f"attn_mask has shape {m.shape}; nn.MultiheadAttention accepts (L, S) = ({L}, {S}) or "
                f"(N * num_heads, L, S) = ({N * h}, {L}, {S})"
            )
        mask = ~m if m.dtype == bool else m  # True = masked out here; attention_weights wants True = attend
    weights = attention_weights(heads(Q), heads(K), attn_mask=mask)  # (N, h, L, S)
    out = (weights @ heads(V)).transpose(0, 2, 1, 3).reshape(N, L, E) @ W_out.T + b_out
    return out, weights.mean(axis=1)


def torch_to_keras_mha(
    in_proj_weight: Any, in_proj_bias: Any, out_proj_weight: Any, out_proj_bias: Any, num_heads: int
) -> list[np.ndarray]:
    """PyTorch ``nn.MultiheadAttention`` weights -> the list ``keras.layers.MultiHeadAttention.set_weights`` takes.

    Keras' order: query kernel (E, h, d), query bias (h, d), key kernel, key bias, value kernel,
    value bias, output kernel (h, d, E), output bias (E,); ``d = E / num_heads``. PyTorch's
    ``x W^T`` becomes Keras' ``einsum("...e,ehd->...hd", x, kernel)``, so each kernel is the
    transposed PyTorch block reshaped by heads. (Keras with ``key_dim = d``, ``num_heads = h``.)

    Introduced in chapter 9.
    """
    W_in, b_in = np.asarray(in_proj_weight, dtype=np.float32), np.asarray(in_proj_bias, dtype=np.float32)
    W_out, b_out = np.asarray(out_proj_weight, dtype=np.float32), np.asarray(out_proj_bias, dtype=np.float32)
    E = W_out.shape[0]
    if W_in.shape != (3 * E, E) or b_in.shape != (3 * E,) or W_out.shape != (E, E) or b_out.shape != (E,):
        raise ValueError(
            f"expected in_proj_weight (3E, E), in_proj_bias (3E,), out_proj_weight (E, E), out_proj_bias (E,) "
            f"with E={E}; got {W_in.shape}, {b_in.shape}, {W_out.shape}, {b_out.shape}"
        )
    if num_heads < 1 or E % num_heads:
        raise ValueError(f"num_heads={num_heads} must divide E={E}")
    h, d = num_heads, E // num_heads
    out: list[np.ndarray] = []
    for i in range(3):
        out += [W_in[i * E : (i + 1) * E].T.reshape(E, h, d), b_in[i * E : (i + 1) * E].reshape(h, d)]
    return [*out, W_out.T.reshape(h, d, E), b_out]


def sinusoidal_positions(length: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """The fixed position encodings of Vaswani et al. (2017), shape (length, dim).

    ``P[t, 2i] = sin(t / base^(2i/dim))`` and ``P[t, 2i+1] = cos(t / base^(2i/dim))``: each pair
    of features is a rotation at its own frequency, so ``P[t + s]`` is a fixed linear map of
    ``P[t]`` for every ``t``. ``dim`` must be even.

    Introduced in chapter 9.
    """
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer (the number of positions), got {length!r}")
    if not isinstance(dim, (int, np.integer)) or dim < 2 or dim % 2:
        raise ValueError(f"dim must be a positive even integer (sin/cos pairs), got {dim!r}")
    t = np.arange(length)[:, None]
    freq = base ** (-np.arange(0, dim, 2) / dim)  # (dim/2,)
    P = np.zeros((length, dim))
    P[:, 0::2] = np.sin(t * freq)
    P[:, 1::2] = np.cos(t * freq)
    return P
