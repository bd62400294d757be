"""Checkers for chapter 9, "Attention and transformers" (chapters/09a-09b)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import attention
from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register, to_numpy
from course_lib.losses import softmax


def _close(a: Any, b: np.ndarray) -> bool:
    try:
        a = to_numpy(a)
    except CheckFailed:
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=1e-10, equal_nan=True))


def _close_rows(a: Any, b: np.ndarray) -> bool:
    """``_close`` on every query row but the last (which an inverted causal mask leaves empty)."""
    try:
        a = to_numpy(a)
    except CheckFailed:
        return False
    return a.shape == b.shape and bool(np.allclose(a[..., :-1, :], b[..., :-1, :], rtol=1e-7, atol=1e-10))


# ---------------------------------------------------------------------------- 09a
@register("ch09.sdpa")
def _sdpa(sdpa: Any) -> str:
    """``sdpa(q, k, v, mask=None)`` -> (..., L, Ev); boolean ``mask`` (L, S) True = may attend."""
    rng = np.random.default_rng(0)
    cases = [
        ((4, 8), (6, 8), (6, 3), None),
        ((2, 5, 16), (2, 5, 16), (2, 5, 16), "causal"),
        ((3, 4), (3, 4), (3, 2), None),
    ]
    for q_shape, k_shape, v_shape, kind in cases:
        q, k, v = rng.normal(size=q_shape) * 2, rng.normal(size=k_shape) * 2, rng.normal(size=v_shape)
        mask = np.tril(np.ones((q_shape[-2], k_shape[-2]), dtype=bool)) if kind else None
        got = call(sdpa, q.copy(), k.copy(), v.copy(), mask) if kind else call(sdpa, q.copy(), k.copy(), v.copy())
        want = attention.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        if _close(got, attention.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0)):
            raise CheckFailed(
                "the scores are not scaled: divide q k^T by sqrt(E), E = q.shape[-1], before the softmax."
            )
        if _close(got, attention.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1 / q_shape[-1])):
            raise CheckFailed("you divide the scores by E; the scale is 1/sqrt(E), which keeps their variance near 1.")
        if mask is not None and _close_rows(got, attention.scaled_dot_product_attention(q, k, v, attn_mask=~mask)):
            raise CheckFailed(
                "your mask works the wrong way round: here (as in F.scaled_dot_product_attention) True means "
                "'may attend', so put -inf where the mask is False."
            )
        if kind and _close(got, attention.scaled_dot_product_attention(q, k, v)):
            raise CheckFailed("the mask is ignored: set the scores to -inf where mask is False before the softmax.")
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q_shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        if _close(got, softmax(scores, axis=-2) @ v):
            raise CheckFailed(
                "take the softmax over the keys (the last axis of the scores, axis=-1), not over the queries."
            )
        expect_array(
            got, want, rtol=1e-7, atol=1e-10, what=f"attention output for q {q_shape}, k {k_shape}, v {v_shape}"
        )
    big = rng.normal(size=(3, 4)) * 1e3
    got = call(sdpa, big.copy(), big.copy(), big[:, :2].copy())
    if not np.all(np.isfinite(to_numpy(got))):
        raise CheckFailed("scores in the thousands overflow exp(): subtract each row's maximum before the softmax.")
    return "softmax(q k^T / sqrt(E), masked with -inf) v: the same numbers as F.scaled_dot_product_attention."


@register("ch09.causal_mask")
def _causal_mask(causal_mask: Any) -> str:
    """``causal_mask(L)`` -> boolean (L, L), True where query i may attend to key j (j <= i)."""
    for L in (4, 7, 1):
        got = call(causal_mask, L)
        want = np.tril(np.ones((L, L), dtype=bool))
        arr = np.asarray(got)
        if arr.shape != (L, L):
            raise CheckFailed(
                f"causal_mask({L}) has shape {arr.shape}; return one row per query and one column per key: ({L}, {L})."
            )
        if arr.dtype != bool:
            raise CheckFailed(
                f"causal_mask returns dtype {arr.dtype}; return a boolean array (np.tril(...).astype(bool)): a float "
                "mask would be *added* to the scores, not used to select them."
            )
        if L > 1 and np.array_equal(arr, ~want):
            raise CheckFailed(
                "your mask is inverted: True is where attention is *allowed* (F.scaled_dot_product_attention), so "
                "row i is True for columns j <= i; the opposite is nn.MultiheadAttention's convention."
            )
        if L > 1 and np.array_equal(arr, np.triu(np.ones((L, L), dtype=bool))):
            raise CheckFailed(
                "your mask lets each position see the future (upper triangle); a decoder sees j <= i only."
            )
        if np.array_equal(arr, np.tril(np.ones((L, L), dtype=bool), -1)):
            raise CheckFailed("the diagonal is missing: a position may attend to itself (j <= i, not j < i).")
        expect_equal(arr.tolist(), want.tolist(), what=f"causal_mask({L})")
    return "np.tril(np.ones((L, L), dtype=bool)): row i sees keys 0..i."


# ---------------------------------------------------------------------------- 09b
def _block_params(E: int, ff: int) -> int:
    return (4 * E * E + 4 * E) + (E * ff + ff + ff * E + E) + 2 * (2 * E)


@register("ch09.block_params")
def _block_params_check(block_params: Any) -> str:
    """``block_params(E, num_heads, ff)`` -> parameters of a pre-norm block: MHA, 2 LayerNorms, MLP E->ff->E."""
    for E, h, ff in ((64, 4, 256), (32, 8, 128), (12, 3, 48), (16, 1, 16)):
        got = call(block_params, E, h, ff)
        want = _block_params(E, ff)
        if got == want - 4 * E:
            raise CheckFailed("the two LayerNorms are missing: each has a scale and a shift of E entries (4E in all).")
        if got == 4 * E * E + 2 * E * ff + 4 * E:
            raise CheckFailed("the biases are missing: the projections and the MLP's linear layers all have biases.")
        if h > 1 and got == want + (h - 1) * (4 * E * E + 4 * E):
            raise CheckFailed(
                "you multiply the attention's parameters by the number of heads: the heads *split* the E features "
                "(E / h each), so W_q, W_k, W_v, W_o stay E x E whatever h is."
            )
        if got == want - (E * E + E):
            raise CheckFailed("the output projection W_o (E x E plus a bias) is missing from the attention.")
        expect_equal(got, want, what=f"block_params({E}, {h}, {ff})")
    return "4E^2 + 4E (attention) + 2E*ff + ff + E (MLP) + 4E (two LayerNorms), independent of the heads."


@register("ch09.exact_match")
def _exact_match(exact_match: Any) -> str:
    """``exact_match(pred, target)``: (N, L) int arrays -> fraction of rows that are entirely right."""
    rng = np.random.default_rng(1)
    target = rng.integers(0, 10, size=(50, 6))
    pred = target.copy()
    pred[:20, rng.integers(0, 6, size=20)] = (pred[:20, 0:1] + 1) % 10  # ~20 rows with some errors
    wrong_rows = (pred != target).any(axis=1)
    want = float(1 - wrong_rows.mean())
    got = call(exact_match, pred.copy(), target.copy())
    try:
        g = float(to_numpy(got))
    except (CheckFailed, TypeError):
        raise CheckFailed(f"return one number (a fraction between 0 and 1), got {type(got).__name__}.") from None
    if np.isclose(g, float((pred == target).mean())):
        raise CheckFailed(
            "that is the per-digit accuracy: a sequence counts as right only if *every* position is right "
            "(all along axis 1), then average over the rows."
        )
    if np.isclose(g, want * len(target)):
        raise CheckFailed("return the fraction of correct rows, not their number: divide by len(target).")
    expect_array(g, want, rtol=1e-9, atol=1e-12, what="exact-match accuracy")
    return "(pred == target).all(axis=1).mean(): one wrong digit makes the whole answer wrong."
