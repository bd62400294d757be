"""Tests for course_lib.rnn: RNN/LSTM/GRU forward passes and BPTT against PyTorch and Keras."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import torch

from course_lib import rnn

T, N, D, H = 6, 3, 4, 5
RTOL, ATOL = 1e-10, 1e-12  # float64 on both sides


def _weights(torch_layer):
    return [
        p.detach().numpy().copy()
        for p in (torch_layer.weight_ih_l0, torch_layer.weight_hh_l0, torch_layer.bias_ih_l0, torch_layer.bias_hh_l0)
    ]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, N, D)), rng.normal(size=(N, H)) * 0.5, rng.normal(size=(N, H)) * 0.5


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_forward_and_backward_match_torch_autograd(nonlinearity):
    torch.manual_seed(0)
    layer = torch.nn.RNN(D, H, nonlinearity=nonlinearity).double()
    x, h0, _ = _data()
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out_t, hT_t = layer(xt, h0t)
    g = np.random.default_rng(1).normal(size=(T, N, H))
    (out_t * torch.tensor(g)).sum().backward()

    w = _weights(layer)
    out, hT = rnn.rnn_forward(x, h0, *w, nonlinearity=nonlinearity)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(hT, hT_t[0].detach().numpy(), rtol=RTOL, atol=ATOL)

    grads = rnn.rnn_backward(g, x, h0, *w, nonlinearity=nonlinearity)
    assert set(grads) == {"x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"}
    ref = {
        "x": xt.grad.numpy(),
        "h0": h0t.grad[0].numpy(),
        "W_ih": layer.weight_ih_l0.grad.numpy(),
        "W_hh": layer.weight_hh_l0.grad.numpy(),
        "b_ih": layer.bias_ih_l0.grad.numpy(),
        "b_hh": layer.bias_hh_l0.grad.numpy(),
    }
    for k, v in ref.items():
        assert grads[k].shape == v.shape, k
        np.testing.assert_allclose(grads[k], v, rtol=1e-9, atol=1e-12, err_msg=k)


def test_rnn_backward_with_grad_h_T_matches_torch_on_last_state_loss():
    torch.manual_seed(1)
    layer = torch.nn.RNN(D, H).double()
    x, h0, _ = _data(2)
    xt = torch.tensor(x, requires_grad=True)
    _, hT_t = layer(xt, torch.tensor(h0[None]))
    gT = np.random.default_rng(3).normal(size=(N, H))
    (hT_t[0] * torch.tensor(gT)).sum().backward()
    grads = rnn.rnn_backward(np.zeros((T, N, H)), x, h0, *_weights(layer), grad_h_T=gT)
    np.testing.assert_allclose(grads["x"], xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["W_hh"], layer.weight_hh_l0.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_rnn_backward_matches_central_differences():
    rng = np.random.default_rng(4)
    x, h0, _ = _data(4)
    W_ih, W_hh = rng.normal(size=(H, D)) * 0.5, rng.normal(size=(H, H)) * 0.5
    b_ih, b_hh = rng.normal(size=H) * 0.1, rng.normal(size=H) * 0.1
    g = rng.normal(size=(T, N, H))

    def loss(W):
        return float(np.sum(rnn.rnn_forward(x, h0, W_ih, W, b_ih, b_hh)[0] * g))

    num = np.zeros_like(W_hh)
    eps = 1e-6
    for idx in np.ndindex(W_hh.shape):
        e = np.zeros_like(W_hh)
        e[idx] = eps
        num[idx] = (loss(W_hh + e) - loss(W_hh - e)) / (2 * eps)
    got = rnn.rnn_backward(g, x, h0, W_ih, W_hh, b_ih, b_hh)["W_hh"]
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def test_lstm_forward_matches_torch():
    torch.manual_seed(2)
    layer = torch.nn.LSTM(D, H).double()
    x, h0, c0 = _data(5)
    out_t, (hT_t, cT_t) = layer(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    out, (hT, cT) = rnn.lstm_forward(x, h0, c0, *_weights(layer))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(hT, hT_t[0].detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cT, cT_t[0].detach().numpy(), rtol=RTOL, atol=ATOL)


def test_gru_forward_matches_torch():
    torch.manual_seed(3)
    layer = torch.nn.GRU(D, H).double()
    x, h0, _ = _data(6)
    out_t, hT_t = layer(torch.tensor(x), torch.tensor(h0[None]))
    out, hT = rnn.gru_forward(x, h0, *_weights(layer))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(hT, hT_t[0].detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_forward_matches_keras_after_weight_mapping(kind):
    import keras

    torch.manual_seed(4)
    torch_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    w = _weights(torch_cls(D, H).double())
    x, _, _ = _data(7)
    h0 = np.zeros((N, H))
    layer_cls = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
    layer = layer_cls(H, return_sequences=True, dtype="float64")
    x_bt = x.transpose(1, 0, 2)  # Keras is batch-first: (N, T, D)
    layer.build(x_bt.shape)
    convert = {"rnn": rnn.torch_to_keras_rnn, "lstm": rnn.torch_to_keras_lstm, "gru": rnn.torch_to_keras_gru}[kind]
    layer.set_weights(convert(*w))
    got = np.asarray(layer(x_bt)).transpose(1, 0, 2)
    if kind == "rnn":
        want = rnn.rnn_forward(x, h0, *w)[0]
    elif kind == "lstm":
        want = rnn.lstm_forward(x, h0, h0, *w)[0]
    else:
        want = rnn.gru_forward(x, h0, *w)[0]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_keras_mappings_have_keras_shapes_and_gru_swaps_r_and_z():
    rng = np.random.default_rng(8)
    W_ih, W_hh = rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H))
    b_ih, b_hh = rng.normal(size=3 * H), rng.normal(size=3 * H)
    k, rk, b = rnn.torch_to_keras_gru(W_ih, W_hh, b_ih, b_hh)
    assert k.shape == (D, 3 * H) and rk.shape == (H, 3 * H) and b.shape == (2, 3 * H)
    np.testing.assert_array_equal(k[:, :H], W_ih[H : 2 * H].T)  # Keras z = PyTorch block 1
    np.testing.assert_array_equal(k[:, H : 2 * H], W_ih[:H].T)  # Keras r = PyTorch block 0
    np.testing.assert_array_equal(b[1, 2 * H :], b_hh[2 * H :])
    k, rk, b = rnn.torch_to_keras_lstm(
        rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), np.ones(4 * H), np.ones(4 * H)
    )
    assert k.shape == (D, 4 * H) and rk.shape == (H, 4 * H)
    np.testing.assert_array_equal(b, 2.0)


def test_lstm_num_params_matches_both_frameworks():
    assert rnn.lstm_num_params(D, H, "torch") == sum(p.numel() for p in torch.nn.LSTM(D, H).parameters())
    assert rnn.lstm_num_params(10, 128, "keras") == 4 * 128 * (10 + 128) + 4 * 128
    with pytest.raises(ValueError, match="framework"):
        rnn.lstm_num_params(3, 4, "jax")
    with pytest.raises(ValueError, match="positive integer"):
        rnn.lstm_num_params(0, 4)


@pytest.mark.slow
def test_lstm_num_params_matches_keras_count():
    import keras

    model = keras.Sequential([keras.Input((7, D)), keras.layers.LSTM(H)])
    assert rnn.lstm_num_params(D, H, "keras") == model.count_params()


def test_bad_shapes_raise_helpful_errors():
    x, h0, c0 = _data()
    W = [np.zeros((H, D)), np.zeros((H, H)), np.zeros(H), np.zeros(H)]
    with pytest.raises(ValueError, match=r"x\[:, None, :\]"):
        rnn.rnn_forward(x[:, 0], h0, *W)
    with pytest.raises(ValueError, match="transpose"):
        rnn.rnn_forward(x, h0, W[0].T, *W[1:])
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn.rnn_forward(x, h0[:, :2], *W)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn.rnn_forward(x, h0, *W, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="grad_out"):
        rnn.rnn_backward(np.zeros((T, N)), x, h0, *W)
    W4 = [np.zeros((4 * H, D)), np.zeros((4 * H, H)), np.zeros(4 * H), np.zeros(4 * H)]
    with pytest.raises(ValueError, match="b_ih \\+ b_hh"):
        rnn.lstm_forward(x, h0, c0, *W4[:3], np.zeros(3))
    with pytest.raises(ValueError, match="c0"):
        rnn.lstm_forward(x, h0, c0[:1], *W4)
    with pytest.raises(ValueError, match=r"\(3\*H, D\)"):
        rnn.gru_forward(x, h0, *W4)
    with pytest.raises(ValueError, match="numeric"):
        rnn.rnn_forward(np.array([["a"]]), h0, *W)
