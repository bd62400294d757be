"""Chapter 2 exercise answers: references, and wrong answers with their hint."""

import numpy as np

from course_lib import mlp


# -- reference solutions -------------------------------------------------------------------------
def mlp_forward(X, W1, b1, W2, b2):
    return 1 / (1 + np.exp(-(np.tanh(X @ W1 + b1) @ W2 + b2)[:, 0]))


def grad_W1(X, y, W1, b1, W2, b2):
    A1 = np.tanh(X @ W1 + b1)
    y_hat = 1 / (1 + np.exp(-(A1 @ W2 + b2)[:, 0]))
    delta1 = ((y_hat - y)[:, None] @ W2.T) * (1 - A1**2)
    return X.T @ delta1 / X.shape[0]


def params_from_frameworks(torch_net, keras_net):
    p_torch = {
        "W1": torch_net[0].weight.detach().numpy().T,
        "b1": torch_net[0].bias.detach().numpy(),
        "W2": torch_net[2].weight.detach().numpy().T,
        "b2": torch_net[2].bias.detach().numpy(),
    }
    W1, b1, W2, b2 = keras_net.get_weights()
    return p_torch, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def train_from_zeros(X, y, n_hidden, steps, lr):
    zeros = {k: np.zeros_like(v) for k, v in mlp.init_params(X.shape[1], n_hidden).items()}
    return mlp.train(zeros, X, y, lr=lr, steps=steps)[0]


def tensors_kept(torch_net, keras_net):  # torch tensors instead of NumPy arrays: accepted
    _, p_keras = params_from_frameworks(torch_net, keras_net)
    p_torch = {"W1": torch_net[0].weight.T, "b1": torch_net[0].bias, "W2": torch_net[2].weight.T}
    return {**p_torch, "b2": torch_net[2].bias}, p_keras


# -- typical wrong answers -----------------------------------------------------------------------
def forward_column(X, W1, b1, W2, b2):
    return mlp_forward(X, W1, b1, W2, b2)[:, None]


def forward_logits(X, W1, b1, W2, b2):
    return (np.tanh(X @ W1 + b1) @ W2 + b2)[:, 0]


def forward_no_tanh(X, W1, b1, W2, b2):
    return 1 / (1 + np.exp(-((X @ W1 + b1) @ W2 + b2)[:, 0]))


def forward_nan(X, *args):
    return np.full(len(X), np.nan)


def grad_transposed(*args):
    return grad_W1(*args).T


def grad_not_mean(X, *args):
    return grad_W1(X, *args) * X.shape[0]


def grad_no_tanh_derivative(X, y, W1, b1, W2, b2):
    A1 = np.tanh(X @ W1 + b1)
    y_hat = 1 / (1 + np.exp(-(A1 @ W2 + b2)[:, 0]))
    return X.T @ ((y_hat - y)[:, None] @ W2.T) / X.shape[0]


def grad_wrong_sign(*args):
    return -grad_W1(*args)


def torch_not_transposed(torch_net, keras_net):
    p_torch, p_keras = params_from_frameworks(torch_net, keras_net)
    p_torch["W1"] = torch_net[0].weight.detach().numpy()
    return p_torch, p_keras


def torch_w2_not_transposed(torch_net, keras_net):
    p_torch, p_keras = params_from_frameworks(torch_net, keras_net)
    p_torch["W2"] = torch_net[2].weight.detach().numpy()
    return p_torch, p_keras


def keras_transposed(torch_net, keras_net):
    p_torch, p_keras = params_from_frameworks(torch_net, keras_net)
    p_keras["W1"] = p_keras["W1"].T
    return p_torch, p_keras


def torch_transposed_only_when_square(torch_net, keras_net):
    # right for D != H by reshaping instead of transposing: wrong values, caught on the square net
    p_torch, p_keras = params_from_frameworks(torch_net, keras_net)
    w = torch_net[0].weight.detach().numpy()
    p_torch["W1"] = w.reshape(w.shape[::-1])
    return p_torch, p_keras


def swapped_frameworks(torch_net, keras_net):
    p_torch, p_keras = params_from_frameworks(torch_net, keras_net)
    return p_keras, p_torch


def train_from_random(X, y, n_hidden, steps, lr):
    return mlp.train(mlp.init_params(X.shape[1], n_hidden), X, y, lr=lr, steps=steps)[0]


def train_returns_tuple(X, y, n_hidden, steps, lr):
    zeros = {k: np.zeros_like(v) for k, v in mlp.init_params(X.shape[1], n_hidden).items()}
    return mlp.train(zeros, X, y, lr=lr, steps=steps)


PASS = [
    ("ch02.forward", mlp_forward),
    ("ch02.grad_W1", grad_W1),
    ("ch02.params_from_frameworks", params_from_frameworks),
    ("ch02.params_from_frameworks", tensors_kept),
    ("ch02.train_from_zeros", train_from_zeros),
]

FAIL = [
    ("ch02.forward", forward_column, "1-D array"),
    ("ch02.forward", forward_logits, "logits"),
    ("ch02.forward", forward_no_tanh, "no tanh"),
    ("ch02.forward", forward_nan, "NaN"),
    ("ch02.grad_W1", grad_transposed, "transpose"),
    ("ch02.grad_W1", grad_not_mean, "divide by N"),
    ("ch02.grad_W1", grad_no_tanh_derivative, "tanh derivative"),
    ("ch02.grad_W1", grad_wrong_sign, "wrong sign"),
    ("ch02.params_from_frameworks", torch_not_transposed, "(out, in)"),
    ("ch02.params_from_frameworks", torch_w2_not_transposed, "(out, in)"),
    ("ch02.params_from_frameworks", keras_transposed, "do not transpose"),
    ("ch02.params_from_frameworks", torch_transposed_only_when_square, "reshaped"),
    ("ch02.params_from_frameworks", swapped_frameworks, "in that order"),
    ("ch02.params_from_frameworks", lambda t, k: params_from_frameworks(t, k)[0], "tuple"),
    ("ch02.params_from_frameworks", lambda t, k: ({"W1": 0}, {}), "keys"),
    ("ch02.train_from_zeros", train_from_random, "not zero"),
    ("ch02.train_from_zeros", train_returns_tuple, "dict with keys"),
]
