"""Tests for course_lib.layers: activations, dropout and batch norm against PyTorch and Keras."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from course_lib import layers

RTOL = 1e-6
X = np.linspace(-6, 6, 101)


# ---------------------------------------------------------------------------- activations
def _torch_value_grad(fn, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def _tf_value_grad(fn, x):
    v = tf.Variable(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        y = fn(v)
    return y.numpy(), tape.gradient(y, v).numpy()


CASES = [
    ("sigmoid", {}, torch.sigmoid, tf.math.sigmoid),
    ("tanh", {}, torch.tanh, tf.math.tanh),
    ("relu", {}, torch.relu, tf.nn.relu),
    (
        "leaky_relu",
        {"negative_slope": 0.1},
        lambda t: torch.nn.functional.leaky_relu(t, 0.1),
        lambda v: tf.nn.leaky_relu(v, alpha=0.1),
    ),
    ("gelu", {}, torch.nn.functional.gelu, lambda v: keras.activations.gelu(v, approximate=False)),
    (
        "gelu",
        {"approximate": "tanh"},
        lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
        lambda v: keras.activations.gelu(v, approximate=True),
    ),
]


@pytest.mark.parametrize("name,kw,torch_fn,tf_fn", CASES)
def test_activation_and_derivative_match_torch_and_tf(name, kw, torch_fn, tf_fn):
    f, df = layers.activation(name)
    x = X + 1e-3  # avoid the kink of relu at exactly 0
    for ref_fn in (_torch_value_grad, _tf_value_grad):
        y_ref, g_ref = ref_fn(torch_fn if ref_fn is _torch_value_grad else tf_fn, x)
        np.testing.assert_allclose(f(x, **kw), y_ref, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(df(x, **kw), g_ref, rtol=RTOL, atol=1e-12)


def test_activations_do_not_overflow_and_saturate():
    big = np.array([-1000.0, 1000.0])
    assert np.all(np.isfinite(layers.sigmoid(big)))
    np.testing.assert_allclose(layers.sigmoid_grad(big), 0.0, atol=1e-300)
    assert layers.sigmoid_grad(0.0) == pytest.approx(0.25)
    assert layers.relu_grad(0.0) == 0.0


def test_activation_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        layers.activation("swishy")
    with pytest.raises(ValueError, match="numeric"):
        layers.relu(np.array(["a"]))
    with pytest.raises(ValueError, match="negative_slope"):
        layers.leaky_relu(X, negative_slope=-1)
    with pytest.raises(ValueError, match="approximate"):
        layers.gelu(X, approximate="fast")


# ---------------------------------------------------------------------------- dropout
def test_dropout_train_statistics_match_torch_and_keras():
    x = np.ones((200, 500), dtype=np.float32)
    rate = 0.3
    ours = layers.Dropout(rate, rng=0)(x)
    torch_out = torch.nn.Dropout(p=rate).train()(torch.from_numpy(x)).numpy()
    keras_out = keras.layers.Dropout(rate, seed=0)(x, training=True).numpy()
    for out in (ours, torch_out, keras_out):
        kept = out[out != 0]
        np.testing.assert_allclose(kept, 1 / (1 - rate), rtol=1e-6)  # survivors scaled up
        assert abs((out == 0).mean() - rate) < 0.01  # about `rate` dropped
        assert abs(out.mean() - 1.0) < 0.02  # expectation preserved


def test_dropout_eval_is_identity_like_torch_and_keras():
    x = np.random.default_rng(1).normal(size=(8, 5))
    d = layers.Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(d(x), x)
    np.testing.assert_array_equal(torch.nn.Dropout(0.5).eval()(torch.from_numpy(x)).numpy(), x)
    np.testing.assert_allclose(keras.layers.Dropout(0.5)(x, training=False).numpy(), x)
    np.testing.assert_array_equal(layers.Dropout(0.5, rng=0)(x, training=False), x)


def test_dropout_backward_uses_the_same_mask_as_torch_autograd():
    x = np.random.default_rng(2).normal(size=(6, 7))
    d = layers.Dropout(0.4, rng=3)
    y = d(x)
    g = np.random.default_rng(4).normal(size=x.shape)
    # torch autograd of x * mask with our mask
    xt = torch.tensor(x, requires_grad=True)
    (xt * torch.from_numpy(d.mask)).backward(torch.from_numpy(g))
    np.testing.assert_allclose(d.backward(g), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y, x * d.mask)


def test_dropout_errors():
    for bad in (-0.1, 1.0, "0.5"):
        with pytest.raises(ValueError, match="rate"):
            layers.Dropout(bad)
    with pytest.raises(ValueError, match="forward"):
        layers.Dropout(0.5).backward(np.ones(3))
    with pytest.raises(ValueError, match="rng"):
        layers.Dropout(0.5, rng="seed")


# ---------------------------------------------------------------------------- batch norm
def _batches(n_steps=5, n=16, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(loc=3.0, scale=2.0, size=(n, d)) for _ in range(n_steps)]


def test_batchnorm_torch_convention_matches_torch():
    batches = _batches()
    ours = layers.BatchNorm1d(4, convention="torch")
    ref = torch.nn.BatchNorm1d(4).double().train()
    ours.gamma = ref.weight.detach().numpy().copy() + 0.5
    ours.beta = ref.bias.detach().numpy().copy() - 0.25
    with torch.no_grad():
        ref.weight.add_(0.5)
        ref.bias.sub_(0.25)
    for xb in batches:
        np.testing.assert_allclose(ours(xb), ref(torch.from_numpy(xb)).detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), rtol=1e-10)
    ours.eval()
    ref.eval()
    x_test = _batches(1, n=3, seed=9)[0]
    np.testing.assert_allclose(ours(x_test), ref(torch.from_numpy(x_test)).detach().numpy(), rtol=1e-6, atol=1e-9)


def test_batchnorm_keras_convention_matches_keras():
    batches = _batches()
    ours = layers.BatchNorm1d(4, convention="keras")
    assert (ours.momentum, ours.eps) == (0.99, 1e-3)
    ref = keras.layers.BatchNormalization(dtype="float64")
    for xb in batches:
        np.testing.assert_allclose(ours(xb), ref(xb, training=True).numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.running_mean, ref.moving_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var, ref.moving_variance.numpy(), rtol=1e-10)
    x_test = _batches(1, n=3, seed=9)[0]
    np.testing.assert_allclose(ours.eval()(x_test), ref(x_test, training=False).numpy(), rtol=1e-6, atol=1e-9)


def test_batchnorm_momentum_conventions_are_opposite():
    # torch momentum 0.1 == keras momentum 0.9 for the running mean (the variance also differs
    # by PyTorch's unbiased N / (N - 1) correction)
    xb = _batches(1)[0]
    a = layers.BatchNorm1d(4, momentum=0.1, convention="torch")
    b = layers.BatchNorm1d(4, momentum=0.9, convention="keras")
    a(xb)
    b(xb)
    np.testing.assert_allclose(a.running_mean, b.running_mean)
    n = xb.shape[0]
    np.testing.assert_allclose(a.running_var - 0.9, (b.running_var - 0.9) * n / (n - 1))
    assert a.new_weight == pytest.approx(b.new_weight)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward_matches_torch_autograd(training):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(10, 3))
    g = rng.normal(size=(10, 3))
    ours = layers.BatchNorm1d(3)
    ours.gamma = rng.normal(size=3)
    ours.beta = rng.normal(size=3)
    ours.running_mean = rng.normal(size=3)
    ours.running_var = rng.uniform(0.5, 2, size=3)
    ref = torch.nn.BatchNorm1d(3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(ours.gamma))
        ref.bias.copy_(torch.from_numpy(ours.beta))
        ref.running_mean.copy_(torch.from_numpy(ours.running_mean))
        ref.running_var.copy_(torch.from_numpy(ours.running_var))
    ref.train(training)
    ours.train() if training else ours.eval()
    xt = torch.tensor(x, requires_grad=True)
    ref(xt).backward(torch.from_numpy(g))
    ours(x)
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.dgamma, ref.weight.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.dbeta, ref.bias.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="convention"):
        layers.BatchNorm1d(3, convention="jax")
    with pytest.raises(ValueError, match="num_features"):
        layers.BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum"):
        layers.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        layers.BatchNorm1d(3, eps=0)
    bn = layers.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        bn(np.ones((1, 3)))
    with pytest.raises(ValueError, match="forward"):
        layers.BatchNorm1d(3).backward(np.ones((2, 3)))
