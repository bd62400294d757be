"""course_lib.attention against PyTorch (F.scaled_dot_product_attention, nn.MultiheadAttention)
and Keras (layers.MultiHeadAttention); mask conventions; errors."""

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import attention as A


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


@pytest.fixture
def qkv():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2, 3, 4, 8)), rng.normal(size=(2, 3, 6, 8)), rng.normal(size=(2, 3, 6, 5))


def test_sdpa_matches_torch(qkv):
    q, k, v = qkv
    want = F.scaled_dot_product_attention(_t(q), _t(k), _t(v)).numpy()
    np.testing.assert_allclose(A.scaled_dot_product_attention(q, k, v), want, rtol=1e-12, atol=1e-12)


def test_sdpa_scale_matches_torch(qkv):
    q, k, v = qkv
    want = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), scale=1.0).numpy()
    np.testing.assert_allclose(A.scaled_dot_product_attention(q, k, v, scale=1.0), want, rtol=1e-12, atol=1e-12)


def test_sdpa_bool_and_float_masks_match_torch(qkv):
    q, k, v = qkv
    mask = np.random.default_rng(1).random((4, 6)) > 0.4
    mask[:, 0] = True  # no fully masked row
    want = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=torch.tensor(mask)).numpy()
    np.testing.assert_allclose(A.scaled_dot_product_attention(q, k, v, attn_mask=mask), want, atol=1e-12)
    bias = np.random.default_rng(2).normal(size=(4, 6))
    want = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(bias)).numpy()
    np.testing.assert_allclose(A.scaled_dot_product_attention(q, k, v, attn_mask=bias), want, atol=1e-12)


@pytest.mark.parametrize("L,S", [(4, 4), (4, 6), (6, 4)])
def test_sdpa_causal_matches_torch(L, S):
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(2, L, 8)), rng.normal(size=(2, S, 8)), rng.normal(size=(2, S, 3))
    want = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True).numpy()
    np.testing.assert_allclose(A.scaled_dot_product_attention(q, k, v, is_causal=True), want, atol=1e-12)


def test_weights_rows_sum_to_one_and_causal_is_lower_triangular():
    rng = np.random.default_rng(4)
    w = A.attention_weights(rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), is_causal=True)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    assert np.all(np.triu(w, 1) == 0)


def test_stable_for_huge_scores():
    q = np.full((1, 2, 3), 1e4)
    w = A.attention_weights(q, q)
    assert np.all(np.isfinite(w))


def _torch_mha(E, h, seed=0):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(E, h, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    p = [mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias]
    return mha, [x.detach().numpy() for x in p]


@pytest.mark.parametrize("h", [1, 2, 4])
def test_mha_matches_torch(h):
    rng = np.random.default_rng(5)
    x, mem = rng.normal(size=(3, 5, 8)), rng.normal(size=(3, 7, 8))
    mha, params = _torch_mha(8, h)
    want_out, want_w = mha(_t(x), _t(mem), _t(mem))
    out, w = A.multi_head_attention(x, mem, mem, h, *params)
    np.testing.assert_allclose(out, want_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w, want_w.detach().numpy(), atol=1e-12)


def test_mha_mask_convention_is_torch_mha_true_means_masked():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 5, 8))
    mha, params = _torch_mha(8, 2)
    masked = np.triu(np.ones((5, 5), dtype=bool), 1)  # True = masked out (nn.MultiheadAttention)
    want_out, want_w = mha(_t(x), _t(x), _t(x), attn_mask=torch.tensor(masked))
    out, w = A.multi_head_attention(x, x, x, 2, *params, attn_mask=masked)
    np.testing.assert_allclose(out, want_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w, want_w.detach().numpy(), atol=1e-12)
    # the same array in F.sdpa's convention means the opposite
    w_sdpa = A.attention_weights(x, x, attn_mask=masked)
    assert np.all(w_sdpa[:, :-1][:, ~masked[:-1]] == 0)
    assert np.isnan(w_sdpa[:, -1]).all()  # the last query may attend to nothing: NaN, as in PyTorch
    want_nan = F.scaled_dot_product_attention(_t(x), _t(x), _t(x), attn_mask=torch.tensor(masked)).numpy()
    assert np.all(want_nan[:, -1] == 0)  # F.sdpa returns zeros for that query
    np.testing.assert_allclose(A.scaled_dot_product_attention(x, x, x, attn_mask=masked), want_nan, atol=1e-12)
    # float and per-head masks
    bias = rng.normal(size=(4, 5, 5))
    want_out, _ = mha(_t(x), _t(x), _t(x), attn_mask=_t(bias))
    np.testing.assert_allclose(
        A.multi_head_attention(x, x, x, 2, *params, attn_mask=bias)[0], want_out.detach().numpy(), atol=1e-12
    )


def test_mha_matches_keras():
    rng = np.random.default_rng(7)
    E, h = 8, 2
    x, mem = rng.normal(size=(2, 4, E)).astype("float32"), rng.normal(size=(2, 6, E)).astype("float32")
    _, params = _torch_mha(E, h)
    layer = keras.layers.MultiHeadAttention(num_heads=h, key_dim=E // h)
    layer(x, mem, mem)  # build
    layer.set_weights(A.torch_to_keras_mha(*params, num_heads=h))
    allow = np.tril(np.ones((4, 6), dtype=bool))  # Keras: True = attend
    out_k, scores_k = layer(x, mem, mem, attention_mask=allow[None], return_attention_scores=True)
    out, w = A.multi_head_attention(x, mem, mem, h, *params, attn_mask=~allow)
    np.testing.assert_allclose(np.asarray(out_k), out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores_k).mean(axis=1), w, rtol=1e-4, atol=1e-5)


def test_sinusoidal_positions():
    P = A.sinusoidal_positions(50, 16)
    assert P.shape == (50, 16)
    np.testing.assert_allclose(P[:, 0], np.sin(np.arange(50)))
    np.testing.assert_allclose(P[:, 1], np.cos(np.arange(50)))
    np.testing.assert_allclose(P[:, 0::2] ** 2 + P[:, 1::2] ** 2, 1.0)


def test_permutation_equivariance():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(1, 6, 8))
    _, params = _torch_mha(8, 2)
    perm = rng.permutation(6)
    out = A.multi_head_attention(x, x, x, 2, *params)[0]
    out_p = A.multi_head_attention(x[:, perm], x[:, perm], x[:, perm], 2, *params)[0]
    np.testing.assert_allclose(out_p, out[:, perm], atol=1e-12)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: A.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4))),
            "same last dimension",
        ),
        (lambda: A.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((5, 3))), "share S"),
        (lambda: A.scaled_dot_product_attention(np.ones(3), np.ones((2, 3)), np.ones((2, 3))), r"\[None\]"),
        (
            lambda: A.attention_weights(np.ones((2, 3)), np.ones((4, 3)), attn_mask=np.ones((3, 3), bool)),
            r"\(L, S\) = \(2, 4\)",
        ),
        (
            lambda: A.attention_weights(
                np.ones((2, 3)), np.ones((2, 3)), attn_mask=np.ones((2, 2), bool), is_causal=True
            ),
            "not both",
        ),
        (
            lambda: A.multi_head_attention(
                np.ones((1, 2, 6)),
                np.ones((1, 2, 6)),
                np.ones((1, 2, 6)),
                4,
                np.ones((18, 6)),
                np.ones(18),
                np.ones((6, 6)),
                np.ones(6),
            ),
            "divides",
        ),
        (
            lambda: A.multi_head_attention(
                np.ones((2, 6)),
                np.ones((2, 6)),
                np.ones((2, 6)),
                2,
                np.ones((18, 6)),
                np.ones(18),
                np.ones((6, 6)),
                np.ones(6),
            ),
            "batch axis",
        ),
        (
            lambda: A.multi_head_attention(
                np.ones((1, 2, 6)),
                np.ones((1, 2, 6)),
                np.ones((1, 2, 6)),
                2,
                np.ones((6, 18)),
                np.ones(18),
                np.ones((6, 6)),
                np.ones(6),
            ),
            "in_proj_weight",
        ),
        (
            lambda: A.multi_head_attention(
                np.ones((1, 2, 6)),
                np.ones((1, 3, 6)),
                np.ones((1, 3, 6)),
                2,
                np.ones((18, 6)),
                np.ones(18),
                np.ones((6, 6)),
                np.ones(6),
                attn_mask=np.ones((3, 2), bool),
            ),
            "accepts",
        ),
        (lambda: A.sinusoidal_positions(4, 5), "even"),
    ],
)
def test_value_errors_say_what_to_do(call, match):
    with pytest.raises(ValueError, match=match):
        call()
