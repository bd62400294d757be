"""Chapter 9 exercise answers (9a-9b): references, and wrong answers with their hint."""

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def sdpa(q, k, v, mask=None, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    w = np.exp(s)
    return w / w.sum(axis=-1, keepdims=True) @ v


def causal_mask(L):
    return np.tril(np.ones((L, L), dtype=bool))


def block_params(E, num_heads, ff):
    return 4 * E * E + 4 * E + 2 * E * ff + ff + E + 4 * E


def exact_match(pred, target):
    return float((np.asarray(pred) == np.asarray(target)).all(axis=1).mean())


# -- typical wrong answers -----------------------------------------------------------------------
def _sdpa_unstable(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = np.exp(s)
    return w / w.sum(axis=-1, keepdims=True) @ v


def _sdpa_inverted_mask(q, k, v, mask=None):
    return sdpa(q, k, v, None if mask is None else ~mask)


def _sdpa_ignores_mask(q, k, v, mask=None):
    return sdpa(q, k, v)


def _sdpa_softmax_over_queries(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    s = s - s.max(axis=-2, keepdims=True)
    w = np.exp(s)
    return w / w.sum(axis=-2, keepdims=True) @ v


PASS = [
    ("ch09.sdpa", sdpa),
    ("ch09.causal_mask", causal_mask),
    ("ch09.causal_mask", lambda L: np.arange(L)[None, :] <= np.arange(L)[:, None]),
    ("ch09.block_params", block_params),
    ("ch09.exact_match", exact_match),
]

FAIL = [
    ("ch09.sdpa", lambda q, k, v, mask=None: sdpa(q, k, v, mask, scale=1.0), "not scaled"),
    ("ch09.sdpa", lambda q, k, v, mask=None: sdpa(q, k, v, mask, scale=1 / q.shape[-1]), "1/sqrt(E)"),
    ("ch09.sdpa", _sdpa_inverted_mask, "wrong way round"),
    ("ch09.sdpa", _sdpa_ignores_mask, "mask is ignored"),
    ("ch09.sdpa", _sdpa_softmax_over_queries, "over the keys"),
    ("ch09.sdpa", _sdpa_unstable, "maximum"),
    ("ch09.causal_mask", lambda L: ~causal_mask(L), "inverted"),
    ("ch09.causal_mask", lambda L: np.tril(np.ones((L, L), dtype=bool), -1), "diagonal"),
    ("ch09.causal_mask", lambda L: np.tril(np.ones((L, L))), "boolean"),
    ("ch09.causal_mask", lambda L: np.tril(np.ones((L, L + 1), dtype=bool)), "shape"),
    ("ch09.block_params", lambda E, h, ff: 4 * E * E + 4 * E + 2 * E * ff + ff + E, "LayerNorms"),
    ("ch09.block_params", lambda E, h, ff: 4 * E * E + 2 * E * ff + 4 * E, "biases"),
    ("ch09.block_params", lambda E, h, ff: h * (4 * E * E + 4 * E) + 2 * E * ff + ff + E + 4 * E, "heads"),
    ("ch09.block_params", lambda E, h, ff: 3 * E * E + 3 * E + 2 * E * ff + ff + E + 4 * E, "W_o"),
    ("ch09.exact_match", lambda p, t: float((p == t).mean()), "per-digit"),
    ("ch09.exact_match", lambda p, t: int((p == t).all(axis=1).sum()), "fraction"),
]
