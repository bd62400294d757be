"""course_lib.mlp: loss and gradients equal PyTorch autograd and TensorFlow's GradientTape."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf
import torch

from course_lib import data, mlp

RTOL = 1e-10  # float64 everywhere: the three agree to rounding


def _problem(n=40, d=3, h=5, seed=0):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(d, h, seed=seed)
    params["b1"] = rng.normal(size=h)
    params["b2"] = rng.normal(size=1)
    return params, rng.normal(size=(n, d)), rng.integers(0, 2, n)


def _torch_loss_grads(params, X, y, activation):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda z: z}[activation]
    z2 = act(torch.from_numpy(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z2[:, 0], torch.tensor(y, dtype=torch.float64))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def _tf_loss_grads(params, X, y, activation):
    v = {k: tf.Variable(a) for k, a in params.items()}
    act = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid, "linear": lambda z: z}[activation]
    with tf.GradientTape() as tape:
        z2 = act(tf.constant(X) @ v["W1"] + v["b1"]) @ v["W2"] + v["b2"]
        loss = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(y, tf.float64), logits=z2[:, 0])
        )
    grads = tape.gradient(loss, v)
    return float(loss), {k: g.numpy() for k, g in grads.items()}


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("oracle", [_torch_loss_grads, _tf_loss_grads], ids=["torch", "tensorflow"])
def test_loss_and_gradients_match_frameworks(activation, oracle):
    params, X, y = _problem()
    loss, grads = mlp.loss_and_gradients(params, X, y, activation)
    want_loss, want_grads = oracle(params, X, y, activation)
    np.testing.assert_allclose(loss, want_loss, rtol=RTOL)
    assert set(grads) == set(want_grads)
    for k in grads:
        assert grads[k].shape == params[k].shape
        np.testing.assert_allclose(grads[k], want_grads[k], rtol=RTOL, atol=1e-14, err_msg=k)
    np.testing.assert_allclose(mlp.loss(params, X, y, activation), want_loss, rtol=RTOL)


def test_forward_shapes_and_probabilities():
    params, X, _ = _problem(n=7, d=2, h=4)
    cache = mlp.forward(params, X)
    assert cache["z1"].shape == cache["h1"].shape == (7, 4)
    assert cache["z2"].shape == (7, 1) and cache["p"].shape == (7,)
    assert np.all((cache["p"] > 0) & (cache["p"] < 1))


def test_loss_is_finite_for_huge_logits():
    params, X, y = _problem(n=10, d=2, h=3)
    params["W2"] *= 1e4
    loss, grads = mlp.loss_and_gradients(params, X, y)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())


def test_training_learns_moons_and_leaves_input_unchanged():
    ds = data.load_moons()
    params0 = mlp.init_params(2, 8, seed=0)
    before = {k: v.copy() for k, v in params0.items()}
    params, history = mlp.train(params0, ds.X_train, ds.y_train, lr=1.0, steps=600, X_val=ds.X_val, y_val=ds.y_val)
    assert len(history["train"]) == len(history["validation"]) == 600
    assert history["train"][-1] < 0.5 * history["train"][0]
    assert mlp.accuracy(params, ds.X_val, ds.y_val) > 0.93
    for k in before:
        np.testing.assert_array_equal(params0[k], before[k])


def test_linear_activation_is_one_linear_map():
    params, X, _ = _problem()
    W = params["W1"] @ params["W2"]
    b = params["b1"] @ params["W2"] + params["b2"]
    np.testing.assert_allclose(mlp.forward(params, X, "linear")["z2"], X @ W + b, rtol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p, X, y: mlp.forward(p, X[:, :2]), "X must have shape"),
        (lambda p, X, y: mlp.forward({"W1": p["W1"]}, X), "params must be a dict"),
        (lambda p, X, y: mlp.forward({**p, "W2": p["W2"].T}, X), "W2 must have shape"),
        (lambda p, X, y: mlp.forward(p, X, activation="swish!"), "unknown activation"),
        (lambda p, X, y: mlp.loss(p, X, y[:, None]), "y must have shape"),
        (lambda p, X, y: mlp.loss(p, X, y + 2), "only the labels 0 and 1"),
        (lambda p, X, y: mlp.train(p, X, y, lr=-1.0), "lr must be"),
        (lambda p, X, y: mlp.train(p, X, y, steps=0), "steps must be"),
        (lambda p, X, y: mlp.train(p, X, y, X_val=X), "both X_val and y_val"),
        (lambda p, X, y: mlp.init_params(0, 3), "n_in must be"),
        (lambda p, X, y: mlp.forward(p, X.astype(str)), "numeric"),
    ],
)
def test_bad_input_raises_helpful_value_error(call, match):
    params, X, y = _problem()
    with pytest.raises(ValueError, match=match):
        call(params, X, y)
