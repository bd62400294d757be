"""course_lib.losses against torch.nn.functional and tf.keras.losses: values and gradients.

Everything runs in float64, so the three implementations agree to ~1e-12 where they use the
same formula. Where the frameworks' conventions differ (argument order, clipping, how a
weighted mean is normalised) the test says so and matches the convention explicitly.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf
import torch
import torch.nn.functional as F

from course_lib import losses as L

keras = tf.keras
RTOL, ATOL = 1e-10, 1e-12
rng = np.random.default_rng(0)


def torch_value_grad(fn, x, *args, **kwargs):
    """Value and d(value.sum())/dx of a torch function of a float64 tensor made from x."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(xt, *args, **kwargs)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def keras_value_grad(fn, y_true, x, reduce=True, **kwargs):
    """Keras loss ``fn(y_true, y_pred=x)`` (per-sample) and the gradient of its batch mean
    (``reduce=True``, Keras' default "sum_over_batch_size") or of its sum w.r.t. ``x``."""
    xv = tf.Variable(np.asarray(x, dtype=np.float64))
    with tf.GradientTape() as tape:
        per_sample = fn(tf.constant(y_true), xv, **kwargs)
        out = tf.reduce_mean(per_sample) if reduce else tf.reduce_sum(per_sample)
    return out.numpy() if reduce else per_sample.numpy(), tape.gradient(out, xv).numpy()


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


# ----------------------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------------------

REGRESSION = [
    (L.mse_loss, L.mse_loss_grad, F.mse_loss, keras.losses.mse, {}),
    (L.l1_loss, L.l1_loss_grad, F.l1_loss, keras.losses.mae, {}),
    (L.huber_loss, L.huber_loss_grad, F.huber_loss, keras.losses.huber, {"delta": 1.0}),
    (L.huber_loss, L.huber_loss_grad, F.huber_loss, keras.losses.huber, {"delta": 0.3}),
]


@pytest.mark.parametrize("ours, ours_grad, torch_fn, keras_fn, kw", REGRESSION)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3)])  # a batch of one, and a small batch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(ours, ours_grad, torch_fn, keras_fn, kw, shape, reduction):
    x, t = rng.normal(size=shape) * 3, rng.normal(size=shape)
    value, grad = torch_value_grad(torch_fn, x, t64(t), reduction=reduction, **kw)
    np.testing.assert_allclose(ours(x, t, reduction=reduction, **kw), value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_grad(x, t, reduction=reduction, **kw), grad, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("ours, ours_grad, torch_fn, keras_fn, kw", REGRESSION)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3)])
def test_regression_losses_match_keras(ours, ours_grad, torch_fn, keras_fn, kw, shape):
    # Keras: y_true first; per-sample mean over the last axis, then the batch mean.
    x, t = rng.normal(size=shape) * 3, rng.normal(size=shape)
    value, grad = keras_value_grad(keras_fn, t, x, **kw)
    np.testing.assert_allclose(ours(x, t, **kw), value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_grad(x, t, **kw), grad, rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# Binary cross-entropy on probabilities: PyTorch clamps log at -100, Keras clips p at 1e-7
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weight", [False, True])
def test_bce_matches_torch_including_p_0_and_1(reduction, with_weight):
    p = np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.999], [0.5, 1e-9, 0.02]])
    t = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.2, 1.0, 0.0]])  # incl. a soft target
    w = rng.uniform(0.5, 2.0, size=p.shape) if with_weight else None
    value, grad = torch_value_grad(
        F.binary_cross_entropy, p, t64(t), weight=None if w is None else t64(w), reduction=reduction
    )
    np.testing.assert_allclose(L.binary_cross_entropy(p, t, w, reduction), value, rtol=RTOL, atol=ATOL)
    # rtol 1e-8: PyTorch's 1e-12 floor in the gradient's denominator is a float32 constant
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, t, w, reduction), grad, rtol=1e-8)
    # the clamp: p = 0 with target 1 costs exactly 100 (not inf) in both
    assert L.binary_cross_entropy(p, t, reduction="none")[0, 0] == 100.0


def test_bce_matches_keras_after_clipping():
    p = np.array([[0.0, 1.0, 0.3, 0.7]])
    t = np.array([[1.0, 0.0, 1.0, 0.0]])
    keras_value, keras_grad = keras_value_grad(keras.losses.binary_crossentropy, t, p)
    # The conventions differ at p = 0 or 1: Keras clips to [1e-7, 1 - 1e-7] (loss 16.1), PyTorch
    # clamps the log at -100 (loss 100) ...
    assert not np.isclose(L.binary_cross_entropy(p, t), keras_value)
    # ... clipping the input first reproduces Keras' value exactly.
    eps = 1e-7
    pc = np.clip(p, eps, 1 - eps)
    np.testing.assert_allclose(L.binary_cross_entropy(pc, t), keras_value, rtol=RTOL)
    # Keras' gradient is 0 where the clip is active; in the interior it is ours.
    inside = (p > eps) & (p < 1 - eps)
    assert np.all(keras_grad[~inside] == 0)
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, t)[inside], keras_grad[inside], rtol=1e-9)


# ----------------------------------------------------------------------------------------------
# Binary cross-entropy with logits, extreme logits included
# ----------------------------------------------------------------------------------------------

LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.5], [-30.0, 30.0, -0.7]])
TARGETS = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.3]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, np.array([1.0, 3.0, 0.5])])
@pytest.mark.parametrize("with_weight", [False, True])
def test_bce_with_logits_matches_torch(reduction, pos_weight, with_weight):
    w = rng.uniform(0.5, 2.0, size=LOGITS.shape) if with_weight else None
    value, grad = torch_value_grad(
        F.binary_cross_entropy_with_logits,
        LOGITS,
        t64(TARGETS),
        weight=None if w is None else t64(w),
        reduction=reduction,
        pos_weight=None if pos_weight is None else t64(pos_weight),
    )
    ours = L.binary_cross_entropy_with_logits(LOGITS, TARGETS, w, reduction, pos_weight)
    ours_grad = L.binary_cross_entropy_with_logits_grad(LOGITS, TARGETS, w, reduction, pos_weight)
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(ours_grad))
    np.testing.assert_allclose(ours, value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_grad, grad, rtol=RTOL, atol=ATOL)


def test_bce_with_logits_matches_keras_extreme_and_batch_of_one():
    for z, t in ((LOGITS, TARGETS), (np.array([[1e4]]), np.array([[0.0]]))):
        value, grad = keras_value_grad(keras.losses.binary_crossentropy, t, z, from_logits=True)
        np.testing.assert_allclose(L.binary_cross_entropy_with_logits(z, t), value, rtol=RTOL)
        np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(z, t), grad, rtol=RTOL, atol=ATOL)
    # a confidently wrong logit costs |z|, exactly
    assert L.binary_cross_entropy_with_logits(np.array([1e4]), np.array([0.0])) == 1e4


# ----------------------------------------------------------------------------------------------
# Cross-entropy on logits with class indices
# ----------------------------------------------------------------------------------------------

CE_LOGITS = np.array(
    [[1e4, -1e4, 0.0, 2.0], [0.1, 0.2, -0.3, 0.0], [-1e4, 5.0, 1e4, 1e4], [3.0, -2.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]
)
CE_TARGETS = np.array([1, 2, 0, 3, 3])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, np.array([0.5, 2.0, 1.0, 3.0])])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("n", [1, 5])  # a batch of one (an extreme row) and the full batch
def test_cross_entropy_matches_torch(reduction, weight, label_smoothing, n):
    z, y = CE_LOGITS[:n], CE_TARGETS[:n]
    value, grad = torch_value_grad(
        F.cross_entropy,
        z,
        torch.tensor(y),
        weight=None if weight is None else t64(weight),
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
    ours = L.cross_entropy(z, y, weight, reduction, label_smoothing)
    ours_grad = L.cross_entropy_grad(z, y, weight, reduction, label_smoothing)
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(ours_grad))
    np.testing.assert_allclose(ours, value, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(ours_grad, grad, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("n", [1, 5])
def test_cross_entropy_matches_keras(n):
    z, y = CE_LOGITS[:n], CE_TARGETS[:n]
    # integer labels -> the *sparse* loss; logits -> from_logits=True
    value, grad = keras_value_grad(keras.losses.sparse_categorical_crossentropy, y, z, from_logits=True)
    np.testing.assert_allclose(L.cross_entropy(z, y), value, rtol=RTOL)
    np.testing.assert_allclose(L.cross_entropy_grad(z, y), grad, rtol=RTOL, atol=ATOL)
    # one-hot labels -> categorical loss; Keras smooths the one-hot target exactly as PyTorch
    onehot = np.eye(4)[y]
    value, grad = keras_value_grad(
        keras.losses.categorical_crossentropy, onehot, z, from_logits=True, label_smoothing=0.1
    )
    np.testing.assert_allclose(L.cross_entropy(z, y, label_smoothing=0.1), value, rtol=RTOL)
    np.testing.assert_allclose(L.cross_entropy_grad(z, y, label_smoothing=0.1), grad, rtol=RTOL, atol=ATOL)


def test_weighted_cross_entropy_normalisation_differs_between_frameworks():
    z, y = CE_LOGITS, CE_TARGETS
    w = np.array([0.5, 2.0, 1.0, 3.0])
    # Keras weights through sample_weight and divides the weighted sum by N ...
    loss_obj = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    keras_value = float(loss_obj(y, z, sample_weight=w[y]))
    np.testing.assert_allclose(L.cross_entropy(z, y, w, reduction="sum") / len(y), keras_value, rtol=RTOL)
    # ... PyTorch (and course_lib) divide by the sum of the targets' weights instead.
    np.testing.assert_allclose(L.cross_entropy(z, y, w) * w[y].sum() / len(y), keras_value, rtol=RTOL)


def test_cross_entropy_grad_matches_finite_differences():
    z = rng.normal(size=(3, 5))
    y = np.array([0, 4, 2])
    w = rng.uniform(0.5, 2, size=5)
    g = L.cross_entropy_grad(z, y, w, label_smoothing=0.2)
    h = 1e-6
    num = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = h
        num[idx] = (
            L.cross_entropy(z + e, y, w, label_smoothing=0.2) - L.cross_entropy(z - e, y, w, label_smoothing=0.2)
        ) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)


def test_log_softmax_and_logsumexp_are_stable():
    z = np.array([[1e4, -1e4, 0.0], [1000.0, 1000.0, 1000.0]])
    np.testing.assert_allclose(L.log_softmax(z), F.log_softmax(t64(z), dim=1).numpy(), rtol=RTOL)
    np.testing.assert_allclose(L.log_softmax(z), tf.nn.log_softmax(z).numpy(), rtol=RTOL)
    np.testing.assert_allclose(L.logsumexp(z), torch.logsumexp(t64(z), dim=1).numpy(), rtol=RTOL)
    np.testing.assert_allclose(L.softmax(z).sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(L.sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


# ----------------------------------------------------------------------------------------------
# KL divergence: PyTorch takes (log q, p); Keras takes (p, q) and clips both
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:reduction")
def test_kl_div_matches_torch(reduction, log_target):
    p = L.softmax(rng.normal(size=(4, 5)))
    p[0] = [0.0, 0.5, 0.5, 0.0, 0.0]  # zeros in the target: 0 log 0 = 0
    log_q = L.log_softmax(rng.normal(size=(4, 5)) * 3)
    target = np.log(np.maximum(p, 1e-300)) if log_target else p
    value, grad = torch_value_grad(F.kl_div, log_q, t64(target), reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(L.kl_div(log_q, target, reduction, log_target), value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(L.kl_div_grad(log_q, target, reduction, log_target), grad, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("n", [1, 4])
def test_kl_div_matches_keras_with_swapped_arguments(n):
    p = L.softmax(rng.normal(size=(n, 5)))  # the target distribution
    q = L.softmax(rng.normal(size=(n, 5)))  # the model's distribution
    # Keras: kl_divergence(y_true=p, y_pred=q), probabilities; gradient w.r.t. q
    value, grad_q = keras_value_grad(keras.losses.kld, p, q)
    np.testing.assert_allclose(L.kl_div(np.log(q), p, reduction="batchmean"), value, rtol=RTOL)
    # ours is w.r.t. log q: d/dq = d/dlog q / q
    np.testing.assert_allclose(L.kl_div_grad(np.log(q), p, reduction="batchmean") / q, grad_q, rtol=1e-9)
    # Keras clips both arguments to [1e-7, 1]: a zero in p becomes 1e-7
    p0 = np.eye(5)[:n]
    value0 = float(keras.losses.kld(p0, q).numpy().mean())
    pc, qc = np.clip(p0, 1e-7, 1), np.clip(q, 1e-7, 1)
    np.testing.assert_allclose(L.kl_div(np.log(qc), pc, reduction="batchmean"), value0, rtol=RTOL)


# ----------------------------------------------------------------------------------------------
# Hinge and focal loss
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 6])
def test_hinge_matches_torch_and_keras(n):
    x = np.array([2.0, 0.5, -0.3, 1.0 - 1e-3, -4.0, 0.0])[:n]
    t = np.array([1.0, 1.0, 1.0, 1.0, -1.0, -1.0])[:n]

    # torch: the binary hinge is the two-class multi_margin_loss on scores [0, f], times C = 2
    def torch_hinge(xt):
        scores = torch.stack([torch.zeros_like(xt), xt], dim=1)
        return 2 * F.multi_margin_loss(scores, torch.tensor((t > 0).astype(np.int64)), reduction="none")

    value, grad = torch_value_grad(torch_hinge, x)
    np.testing.assert_allclose(L.hinge_loss(x, t, reduction="none"), value, rtol=RTOL)
    np.testing.assert_allclose(L.hinge_loss_grad(x, t, reduction="none"), grad, rtol=RTOL)
    # Keras: y_true first; also accepts 0/1 labels and converts them to -1/+1
    value, grad = keras_value_grad(keras.losses.hinge, ((t + 1) / 2)[:, None], x[:, None])
    np.testing.assert_allclose(L.hinge_loss(x, t), value, rtol=RTOL)
    np.testing.assert_allclose(L.hinge_loss_grad(x, t), grad[:, 0], rtol=RTOL)


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, copied (torchvision is not installed here)."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [0.25, 0.9])
def test_focal_loss_matches_torch_formula(gamma, alpha):
    z, t = LOGITS, TARGETS
    value, grad = torch_value_grad(torchvision_sigmoid_focal_loss, z, t64(t), alpha=alpha, gamma=gamma)
    ours = L.sigmoid_focal_loss(z, t, alpha, gamma, reduction="none")
    ours_grad = L.sigmoid_focal_loss_grad(z, t, alpha, gamma, reduction="none")
    assert np.all(np.isfinite(ours_grad))
    np.testing.assert_allclose(ours, value, rtol=RTOL, atol=ATOL)
    # For gamma < 1, autograd through (1 - p_t)**gamma gives 0 * inf = NaN where p_t = 1 exactly
    # (logits of +-1e4); the true limit of the gradient there is 0, which is what we return.
    nan = np.isnan(grad)
    assert (not nan.any()) or gamma < 1
    np.testing.assert_array_equal(ours_grad[nan], 0.0)
    np.testing.assert_allclose(ours_grad[~nan], grad[~nan], rtol=1e-9, atol=ATOL)


def test_focal_loss_gamma_0_alpha_none_is_bce():
    np.testing.assert_allclose(
        L.sigmoid_focal_loss(LOGITS, TARGETS, alpha=None, gamma=0.0),
        L.binary_cross_entropy_with_logits(LOGITS, TARGETS),
        rtol=RTOL,
    )


def test_focal_loss_matches_keras_including_extreme_logits():
    # Keras' TF backend recovers the logits behind its sigmoid, so it stays exact at +-1e4 too.
    for z, t in ((LOGITS, TARGETS), (np.array([[-1e4]]), np.array([[1.0]]))):
        value, grad = keras_value_grad(
            keras.losses.binary_focal_crossentropy,
            t,
            z,
            from_logits=True,
            apply_class_balancing=True,
            alpha=0.25,
            gamma=2.0,
        )
        np.testing.assert_allclose(L.sigmoid_focal_loss(z, t), value, rtol=RTOL)
        np.testing.assert_allclose(L.sigmoid_focal_loss_grad(z, t), grad, rtol=1e-9, atol=ATOL)
    np.testing.assert_allclose(L.sigmoid_focal_loss(np.array([-1e4]), np.array([1.0])), 2500.0)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

BAD = [
    (L.mse_loss, (np.zeros(3), np.zeros((3, 1))), {}, "same shape"),
    (L.mse_loss_grad, (np.zeros(3), np.zeros(4)), {}, "same shape"),
    (L.l1_loss, (np.zeros(3), np.zeros(3)), {"reduction": "avg"}, "reduction"),
    (L.huber_loss, (np.zeros(3), np.zeros(3)), {"delta": 0.0}, "delta"),
    (L.binary_cross_entropy, (np.array([0.5, 1.2]), np.array([0.0, 1.0])), {}, r"\[0, 1\]"),
    (L.binary_cross_entropy, (np.array([0.5, 0.2]), np.array([0.0, 2.0])), {}, r"\[0, 1\]"),
    (L.binary_cross_entropy_grad, (np.array([-0.1]), np.array([0.0])), {}, "logits"),
    (L.binary_cross_entropy_with_logits, (np.zeros(2), np.array([0.0, -1.0])), {}, r"\[0, 1\]"),
    (L.binary_cross_entropy_with_logits, (np.zeros(2), np.zeros(2)), {"reduction": None}, "reduction"),
    (L.cross_entropy, (np.zeros((2, 3)), np.array([0, 3])), {}, r"\[0, 2\]"),
    (L.cross_entropy, (np.zeros((2, 3)), np.array([-1, 0])), {}, r"\[0, 2\]"),
    (L.cross_entropy, (np.zeros((2, 3)), np.eye(3)[[0, 1]]), {}, "one-hot"),
    (L.cross_entropy, (np.zeros(3), np.array([0])), {}, r"\(N, C\)"),
    (L.cross_entropy, (np.zeros((2, 3)), np.array([0.5, 1.0])), {}, "integer"),
    (L.cross_entropy, (np.zeros((2, 3)), np.array([0, 1])), {"weight": np.ones(2)}, "one entry per class"),
    (L.cross_entropy_grad, (np.zeros((2, 3)), np.array([0, 1])), {"label_smoothing": 1.5}, "label_smoothing"),
    (L.kl_div, (np.array([0.2, 0.8]), np.array([0.5, 0.5])), {}, "log-probabilities"),
    (L.kl_div, (np.log([0.2, 0.8]), np.array([0.5, 1.5])), {}, r"\[0, 1\]"),
    (L.kl_div_grad, (np.log([0.2, 0.8]), np.array([0.5, 0.5])), {"reduction": "batch"}, "reduction"),
    (L.hinge_loss, (np.zeros(2), np.array([0.0, 1.0])), {}, "-1 or"),
    (L.sigmoid_focal_loss, (np.zeros(2), np.array([0.0, 1.0])), {"gamma": -1.0}, "gamma"),
    (L.sigmoid_focal_loss_grad, (np.zeros(2), np.array([0.0, 1.0])), {"alpha": 2.0}, "alpha"),
    (L.logsumexp, (np.float64(3.0),), {}, "axis"),
    (L.mse_loss, ("abc", np.zeros(1)), {}, "numeric"),
    (L.mse_loss, (np.array([np.nan]), np.zeros(1)), {}, "NaN"),
]


@pytest.mark.parametrize("fn, args, kwargs, match", BAD)
def test_bad_input_raises_clear_value_error(fn, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(*args, **kwargs)


def test_reduction_none_keeps_shape_and_grad_is_of_the_sum():
    x, t = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    assert L.binary_cross_entropy_with_logits(x, t, reduction="none").shape == (4, 3)
    np.testing.assert_allclose(
        L.binary_cross_entropy_with_logits_grad(x, t, reduction="none"),
        L.binary_cross_entropy_with_logits_grad(x, t, reduction="sum"),
    )
    assert L.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="none").shape == (4,)
