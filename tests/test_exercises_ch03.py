"""Chapter 3 checkers: the reference answers pass; wrong, None, crashing and stub answers never raise."""

import math

import numpy as np
import pytest

from course_lib import exercises as ex
from course_lib.autograd import Value
from course_lib.exercises import check


def _stub(*args):
    raise NotImplementedError()


def _crash(*args):
    raise RuntimeError("boom")


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


def value_divide(a, b):
    out = Value(a.data / b.data, (a, b), "/")

    def _backward():
        a.grad += out.grad / b.data
        b.grad += -a.data / b.data**2 * out.grad

    out._backward = _backward
    return out


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


def value_sigmoid_composed(v):
    return 1 / (1 + (-v).exp())


def tanh_backward(Z, G):
    return G * (1 - np.tanh(Z) ** 2)


def fixed_backward(params, X, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = np.tanh(X @ W1.T + b1)
    dY = (H @ W2.T + b2 - y) / X.shape[0]
    dZ1 = (dY @ W2) * (1 - H**2)
    return {"W1": dZ1.T @ X, "b1": dZ1.sum(0), "W2": dY.T @ H, "b2": dY.sum(0)}


def softmax_ce_grad(Z, y):
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


REFERENCE = {
    "ch03.hand_gradients": hand_gradients,
    "ch03.value_sigmoid": value_sigmoid,
    "ch03.value_divide": value_divide,
    "ch03.tanh_backward": tanh_backward,
    "ch03.fixed_backward": fixed_backward,
    "ch03.softmax_ce_grad": softmax_ce_grad,
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    r = check(name, REFERENCE[name])
    assert r.passed, r


def test_composed_sigmoid_also_passes():
    assert check("ch03.value_sigmoid", value_sigmoid_composed).passed


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("answer, status", [
    (None, ex.NOT_ATTEMPTED), (..., ex.NOT_ATTEMPTED), (_stub, ex.NOT_ATTEMPTED),
    (_crash, ex.FAILED), (lambda *a: None, ex.FAILED), (lambda *a: float("nan"), ex.FAILED),
    (lambda *a: "text", ex.FAILED), (lambda *a: np.zeros((2, 2)), ex.FAILED), (3, ex.FAILED),
])
def test_broken_answers_never_raise(name, answer, status):
    r = check(name, answer)
    assert r.status == status, r
    assert r.message


def _overwriting_sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid")

    def _backward():
        v.grad = s * (1 - s) * out.grad   # overwrites instead of accumulating

    out._backward = _backward
    return out


def _bad_softmax(Z, y):   # forgets the 1/N
    return softmax_ce_grad(Z, y) * len(y)


def _unstable_softmax(Z, y):
    with np.errstate(all="ignore"):
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def _buggy_backward(params, X, y):
    from course_lib.exercises.ch03 import _net_forward_backward
    return _net_forward_backward(params, X, y, buggy=True)


@pytest.mark.parametrize("name, answer, fragment", [
    ("ch03.hand_gradients", lambda: (12.0, -18.0), "both paths"),
    ("ch03.hand_gradients", lambda: (6.0, 18.0), "dL/db"),
    ("ch03.hand_gradients", lambda: 6.0, "tuple"),
    ("ch03.hand_gradients", lambda: (-18.0, 6.0), "swapped"),
    ("ch03.value_sigmoid", lambda v: Value(1 / (1 + math.exp(-v.data))), "not connected"),
    ("ch03.value_sigmoid", lambda v: v.tanh(), "expected 1/(1+exp(-x))"),
    ("ch03.value_sigmoid", _overwriting_sigmoid, "+="),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: g * a / b**2), "wrong sign"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: 1 / b, lambda a, b, g: -a / b**2), "out.grad"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: 0.0), "denominator"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g * b, lambda a, b, g: -g * a / b**2), "1/b"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: -g / b**2), "-a/b**2"),
    ("ch03.value_divide", _divide_with(lambda a, b, g: g / b, lambda a, b, g: -g * a / b**2, overwrite=True), "+="),
    ("ch03.value_divide", lambda a, b: Value(a.data / b.data), "not connected"),
    ("ch03.value_divide", lambda a, b: a * b, "expected a / b"),
    ("ch03.value_divide", lambda a, b: a.data / b.data, "return a Value"),
    ("ch03.tanh_backward", lambda Z, G: G * (1 - Z**2), "1 - tanh(Z)**2"),
    ("ch03.tanh_backward", lambda Z, G: 1 - np.tanh(Z) ** 2, "upstream"),
    ("ch03.fixed_backward", _buggy_backward, "still the buggy one"),
    ("ch03.fixed_backward", lambda p, X, y: {"W1": 0}, "keys"),
    ("ch03.softmax_ce_grad", _bad_softmax, "dividing by N"),
    ("ch03.softmax_ce_grad", lambda Z, y: -softmax_ce_grad(Z, y), "sign"),
    ("ch03.softmax_ce_grad", _unstable_softmax, "maximum"),
])
def test_wrong_answers_get_helpful_messages(name, answer, fragment):
    r = check(name, answer)
    assert r.status == ex.FAILED, r
    assert fragment in r.message, r.message


def test_composed_divide_also_passes():
    assert check("ch03.value_divide", lambda a, b: a * b**-1).passed


def test_divide_with_crashing_backward_fails_cleanly():
    def divide(a, b):
        out = Value(a.data / b.data, (a, b), "/")

        def _backward():
            raise ValueError("oops")

        out._backward = _backward
        return out

    r = check("ch03.value_divide", divide)
    assert r.status == ex.FAILED and "raised ValueError" in r.message
