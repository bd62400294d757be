"""Chapter 0 exercise answers (chapters/00_how_to_use.ipynb): references, and wrong answers with their hint."""

import numpy as np


def double(x):
    return 2 * x


def mse_grad(X, w, y):
    return 2.0 / X.shape[0] * X.T @ (X @ w - y)


def _shape(value):
    return lambda: value


PASS = [
    ("ch00.double", double),
    ("ch00.mse_grad", mse_grad),
    ("ch00.broadcast_shape", _shape((4, 4))),
    ("ch00.broadcast_shape", _shape((np.int64(4), 4))),  # NumPy integers are whole numbers too
]

FAIL = [
    ("ch00.mse_grad", lambda X, w, y: -mse_grad(X, w, y), "wrong sign"),  # y - Xw instead of Xw - y
    ("ch00.mse_grad", lambda X, w, y: 2.0 / X.shape[0] * X.T @ (y - X @ w), "not y - Xw"),
    ("ch00.mse_grad", lambda X, w, y: -0.5 * mse_grad(X, w, y), "the sign is wrong"),  # sign and the factor 2
    ("ch00.mse_grad", lambda X, w, y: 0.5 * mse_grad(X, w, y), "factor 2"),
    ("ch00.mse_grad", lambda X, w, y: X.shape[0] * mse_grad(X, w, y), "division by N"),
    ("ch00.broadcast_shape", _shape((4.7, 4)), "whole numbers"),
    ("ch00.broadcast_shape", _shape((4.0, 4.0)), "whole numbers"),
    ("ch00.broadcast_shape", _shape((4, "4")), "whole numbers"),
    ("ch00.broadcast_shape", _shape((True, 4)), "whole numbers"),
    ("ch00.broadcast_shape", _shape((4, 1)), "not right"),
    ("ch00.broadcast_shape", _shape([4, 4]), "tuple"),
    ("ch00.broadcast_shape", _shape((4,)), "not right"),
]
