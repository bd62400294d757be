"""Chapter 1 exercise answers: references, and wrong answers with their hint."""

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def least_squares(X, y):
    theta, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    return theta[:-1], float(theta[-1])


def polynomial_features(x, degree):
    return np.asarray(x, dtype=float)[:, None] ** np.arange(degree + 1)


def param_count(n_in, width, depth, n_out):
    sizes = [n_in] + [width] * depth + [n_out]
    return sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:]))


# -- typical wrong answers -----------------------------------------------------------------------
def least_squares_no_bias(X, y):
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return w, 0.0


def least_squares_theta(X, y):
    theta, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    return theta, 0.0


def least_squares_not_a_pair(X, y):
    return np.zeros(X.shape[1])


def poly_no_constant(x, degree):
    return np.asarray(x, dtype=float)[:, None] ** np.arange(1, degree + 1)


def poly_nan(x, degree):
    return np.full((len(x), degree + 1), np.nan)


def param_count_no_bias(n_in, width, depth, n_out):
    sizes = [n_in] + [width] * depth + [n_out]
    return sum(m * n for m, n in zip(sizes[:-1], sizes[1:]))


def param_count_array(n_in, width, depth, n_out):
    return np.array([1, 2])


PASS = [
    ("ch01.least_squares", least_squares),
    ("ch01.polynomial_features", polynomial_features),
    ("ch01.param_count", param_count),
]

FAIL = [
    ("ch01.least_squares", least_squares_no_bias, "differs"),
    ("ch01.least_squares", least_squares_theta, "still contains the bias"),
    ("ch01.least_squares", least_squares_not_a_pair, "pair"),
    ("ch01.polynomial_features", poly_no_constant, "constant column"),
    ("ch01.polynomial_features", poly_nan, "NaN"),
    ("ch01.param_count", param_count_no_bias, "only the weights"),
    ("ch01.param_count", param_count_array, "should be a int"),
]
