"""Chapter 3 exercise answers: references, and wrong answers with their hint."""

import math

import numpy as np

from course_lib.autograd import Value


# -- reference solutions -------------------------------------------------------------------------
def hand_gradients():
    return (6.0, -18.0)


def value_sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid")

    def _backward():
        v.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


def value_sigmoid_composed(v):
    return 1 / (1 + (-v).exp())


def value_divide(a, b):
    out = Value(a.data / b.data, (a, b), "/")

    def _backward():
        a.grad += out.grad / b.data
        b.grad += -a.data / b.data**2 * out.grad

    out._backward = _backward
    return out


def tanh_backward(Z, G):
    return G * (1 - np.tanh(Z) ** 2)


def fixed_backward(params, X, y):
    return _backward_03b(params, X, y)


def softmax_ce_grad(Z, y):
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


# -- typical wrong answers -----------------------------------------------------------------------
def _backward_03b(params, X, y, buggy=False):
    """The 03b exercise network's backward pass; ``buggy=True`` is the notebook's bug (1 - Z**2)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = X @ W1.T + b1
    H = np.tanh(Z1)
    dY = (H @ W2.T + b2 - y) / X.shape[0]
    dZ1 = (dY @ W2) * (1 - (Z1 if buggy else H) ** 2)
    return {"W1": dZ1.T @ X, "b1": dZ1.sum(0), "W2": dY.T @ H, "b2": dY.sum(0)}


def buggy_backward(params, X, y):
    return _backward_03b(params, X, y, buggy=True)


def _divide_with(rule_a, rule_b, overwrite=False):
    """A divide whose backward uses rule_a(a, b, g) and rule_b(a, b, g) (the typical mistakes)."""

    def divide(a, b):
        out = Value(a.data / b.data, (a, b), "/")

        def _backward():
            if overwrite:
                a.grad = rule_a(a.data, b.data, out.grad)
                b.grad = rule_b(a.data, b.data, out.grad)
            else:
                a.grad += rule_a(a.data, b.data, out.grad)
                b.grad += rule_b(a.data, b.data, out.grad)

        out._backward = _backward
        return out

    return divide


def divide_with_crashing_backward(a, b):
    out = Value(a.data / b.data, (a, b), "/")

    def _backward():
        raise ValueError("oops")

    out._backward = _backward
    return out


def overwriting_sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid")

    def _backward():
        v.grad = s * (1 - s) * out.grad  # overwrites instead of accumulating

    out._backward = _backward
    return out


def softmax_not_mean(Z, y):  # forgets the 1/N
    return softmax_ce_grad(Z, y) * len(y)


def unstable_softmax(Z, y):
    with np.errstate(all="ignore"):
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


PASS = [
    ("ch03.hand_gradients", hand_gradients),
    ("ch03.value_sigmoid", value_sigmoid),
    ("ch03.value_sigmoid", value_sigmoid_composed),
    ("ch03.value_divide", value_divide),
    ("ch03.value_divide", lambda a, b: a * b**-1),  # composed from * and ** also passes
    ("ch03.tanh_backward", tanh_backward),
    ("ch03.fixed_backward", fixed_backward),
    ("ch03.softmax_ce_grad", softmax_ce_grad),
]

FAIL = [
    ("ch03.hand_gradients", lambda: (12.0, -18.0), "both paths"),
    ("ch03.hand_gradients", lambda: (6.0, 18.0), "dL/db"),
    ("ch03.hand_gradients", lambda: 6.0, "tuple"),
    ("ch03.hand_gradients", lambda: (-18.0, 6.0), "swapped"),
    ("ch03.value_sigmoid", lambda v: Value(1 / (1 + math.exp(-v.data))), "not connected"),
    ("ch03.value_sigmoid", lambda v: v.tanh(), "expected 1/(1+exp(-x))"),
    ("ch03.value_sigmoid", overwriting_sigmoid, "+="),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: g * a / b**2), "wrong sign"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: 1 / b, lambda a, b, g: -a / b**2), "out.grad"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: 0.0), "denominator"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g * b, lambda a, b, g: -g * a / b**2), "1/b"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: -g / b**2), "-a/b**2"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: -g * a / b**2, overwrite=True), "+="),
    ("ch03.value_divide", lambda a, b: Value(a.data / b.data), "not connected"),
    ("ch03.value_divide", lambda a, b: a * b, "expected a / b"),
    ("ch03.value_divide", lambda a, b: a.data / b.data, "return a Value"),
    ("ch03.value_divide", divide_with_crashing_backward, "raised ValueError"),
    ("ch03.tanh_backward", lambda Z, G: G * (1 - Z**2), "1 - tanh(Z)**2"),
    ("ch03.tanh_backward", lambda Z, G: 1 - np.tanh(Z) ** 2, "upstream"),
    ("ch03.fixed_backward", buggy_backward, "still the buggy one"),
    ("ch03.fixed_backward", lambda p, X, y: {"W1": 0}, "keys"),
    ("ch03.softmax_ce_grad", softmax_not_mean, "dividing by N"),
    ("ch03.softmax_ce_grad", lambda Z, y: -softmax_ce_grad(Z, y), "sign"),
    ("ch03.softmax_ce_grad", unstable_softmax, "maximum"),
]
