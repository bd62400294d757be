"""Checkers for chapter 3, "Backpropagation" (chapters/03a_*.ipynb and 03b_*.ipynb)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy

# ------------------------------------------------------------------------------------------------
# 03a: scalar graphs and the Value engine
# ------------------------------------------------------------------------------------------------


@register("ch03.hand_gradients")
def _hand_gradients(hand_gradients: Any) -> str:
    """``hand_gradients()`` returns (dL/da, dL/db) for L = (a*b + a)**2 at a = 3, b = -2."""
    got = call(hand_gradients)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"return a tuple (dL_da, dL_db) of two numbers, got {got!r}.")
    try:
        da, db = (float(v) for v in got)
    except (TypeError, ValueError):
        raise CheckFailed(f"both entries must be numbers, got {got!r}.") from None
    if math.isclose(da, -18.0) and math.isclose(db, 6.0):
        raise CheckFailed(
            "your two numbers are right but swapped: you returned (dL/db, dL/da). Return "
            "(dL_da, dL_db), in that order: dL/da = 6 (a has two paths to L), dL/db = -18."
        )
    if math.isclose(da, 12.0) and math.isclose(db, -18.0):
        raise CheckFailed(
            "dL/db is right, but dL/da = 12 counts only the path through c = a*b; `a` also "
            "feeds d = c + a directly. Add the gradients of both paths."
        )
    if math.isclose(da, -6.0) and math.isclose(db, -18.0):
        raise CheckFailed(
            "dL/db is right, but dL/da = -6 counts only the direct path d = c + a; `a` also "
            "feeds c = a*b. Add the gradients of both paths."
        )
    if not math.isclose(db, -18.0, rel_tol=1e-9):
        raise CheckFailed(
            f"dL/db = {db:g} is not right. Start from dL/dd = 2d at d = -3, then dL/dc = dL/dd, then dL/db = dL/dc * a."
        )
    if not math.isclose(da, 6.0, rel_tol=1e-9):
        raise CheckFailed(
            f"dL/da = {da:g} is not right (dL/db is). `a` reaches L along two paths: "
            "through c = a*b (local derivative b) and directly into d (local derivative 1)."
        )
    return "dL/da = 6 (two paths: -6*b + -6*1) and dL/db = -18."


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@register("ch03.value_sigmoid")
def _value_sigmoid(sigmoid: Any) -> str:
    """``sigmoid(v)`` takes a Value and returns a Value connected to it, with the right backward."""
    from course_lib.autograd import Value

    for x in (0.0, 1.5, -2.0):
        v = Value(x)
        out = call(sigmoid, v)
        if not isinstance(out, Value):
            raise CheckFailed(f"sigmoid(Value({x})) returned a {type(out).__name__}; return a Value.")
        s = _sigmoid(x)
        if not math.isclose(out.data, s, rel_tol=1e-9, abs_tol=1e-12):
            raise CheckFailed(f"sigmoid(Value({x})).data = {out.data:.6g}, expected 1/(1+exp(-x)) = {s:.6g}.")
        loss = out * 3.0
        try:
            loss.backward()
        except Exception as e:  # the student's _backward closure crashed
            raise CheckFailed(f"backward() through your sigmoid raised {type(e).__name__}: {e}") from None
        want = 3.0 * s * (1.0 - s)
        if v.grad == 0.0:
            raise CheckFailed(
                "the input's gradient stayed 0: the output is not connected to the input. Create it "
                "with Value(s, (v,), 'sigmoid') and set out._backward."
            )
        if math.isclose(v.grad, s * (1.0 - s), rel_tol=1e-9):
            raise CheckFailed(
                "the local derivative s(1-s) is right but not multiplied by out.grad: the chain "
                "rule is v.grad += s * (1 - s) * out.grad."
            )
        if not math.isclose(v.grad, want, rel_tol=1e-7, abs_tol=1e-12):
            raise CheckFailed(
                f"d(3 sigmoid(x))/dx at x={x} is {want:.6g}, your backward gave {v.grad:.6g}. "
                "The derivative of the sigmoid is s * (1 - s) with s = sigmoid(x)."
            )
    v = Value(0.5)
    loss = call(sigmoid, v) + call(sigmoid, v)
    loss.backward()
    s = _sigmoid(0.5)
    if not math.isclose(v.grad, 2 * s * (1 - s), rel_tol=1e-7):
        raise CheckFailed(
            "sigmoid(v) + sigmoid(v) gives the wrong gradient for v: your backward must *add* "
            "to v.grad (+=), not overwrite it (=), because v can be used more than once."
        )
    return "value, local derivative s(1-s), chain rule and accumulation are all right."


def _backward_of(out: Any, what: str) -> None:
    try:
        out.backward()
    except Exception as e:  # noqa: BLE001  the student's _backward closure crashed
        raise CheckFailed(f"backward() through {what} raised {type(e).__name__}: {e}") from None


@register("ch03.value_divide")
def _value_divide(divide: Any) -> str:
    """``divide(a, b)`` takes two Values and returns a Value a/b connected to both, with its backward."""
    from course_lib.autograd import Value

    for x, y in ((3.0, 2.0), (-1.5, 0.5), (2.0, -4.0)):
        a, b = Value(x), Value(y)
        out = call(divide, a, b)
        if not isinstance(out, Value):
            raise CheckFailed(f"divide(Value({x}), Value({y})) returned a {type(out).__name__}; return a Value.")
        if not math.isclose(out.data, x / y, rel_tol=1e-12):
            raise CheckFailed(f"divide(Value({x}), Value({y})).data = {out.data:.6g}, expected a / b = {x / y:.6g}.")
        _backward_of(out * 5.0, "your divide")  # upstream gradient 5: tests the chain rule
        da, db = 5.0 / y, -5.0 * x / y**2
        if a.grad == 0.0 and b.grad == 0.0:
            raise CheckFailed(
                "both inputs' gradients stayed 0: the output is not connected to a and b. Create it "
                "with Value(a.data / b.data, (a, b), '/') and set out._backward."
            )
        if math.isclose(a.grad, 1 / y, rel_tol=1e-9) or (
            math.isclose(b.grad, -x / y**2, rel_tol=1e-9) and math.isclose(a.grad, da, rel_tol=1e-9)
        ):
            raise CheckFailed(
                "the local derivatives are not multiplied by out.grad: the chain rule is "
                "a.grad += (1 / b.data) * out.grad, and the same factor out.grad for b."
            )
        if not math.isclose(a.grad, da, rel_tol=1e-9):
            raise CheckFailed(
                f"d(a/b)/da should be 1/b; for a={x}, b={y} and upstream gradient 5 that gives "
                f"a.grad = {da:.6g}, your backward gave {a.grad:.6g}."
            )
        if b.grad == 0.0:
            raise CheckFailed(
                "b.grad stayed 0: the denominator is an input too and needs its own rule, d(a/b)/db = -a/b**2."
            )
        if math.isclose(b.grad, -db, rel_tol=1e-9):
            raise CheckFailed(
                f"b.grad = {b.grad:.6g} has the wrong sign: d(a/b)/db = -a/b**2 (the quotient rule; "
                "a larger denominator makes a/b smaller when a > 0)."
            )
        if not math.isclose(b.grad, db, rel_tol=1e-9):
            raise CheckFailed(
                f"d(a/b)/db should be -a/b**2; for a={x}, b={y} and upstream gradient 5 that gives "
                f"b.grad = {db:.6g}, your backward gave {b.grad:.6g}."
            )
    v = Value(2.0)
    out = call(divide, v, v)  # a node used twice: x / x = 1, derivative 0
    if not isinstance(out, Value):
        raise CheckFailed("divide(v, v) did not return a Value.")
    _backward_of(out, "divide(v, v)")
    if not math.isclose(v.grad, 0.0, abs_tol=1e-12):
        raise CheckFailed(
            f"divide(v, v) = 1 for every v, so its gradient is 0, but your backward gave {v.grad:.6g}: "
            "it must *add* to a.grad and b.grad (+=), not overwrite them (=), because a and b can "
            "be the same node."
        )
    return "value a/b, both local rules (1/b and -a/b**2), the chain rule and accumulation are right."


# ------------------------------------------------------------------------------------------------
# 03b: vectorized backward rules
# ------------------------------------------------------------------------------------------------


@register("ch03.tanh_backward")
def _tanh_backward(tanh_backward: Any) -> str:
    """``tanh_backward(Z, G)`` returns G * (1 - tanh(Z)**2), same shape as Z (N, D)."""
    rng = np.random.default_rng(3)
    for shape in ((4, 3), (1, 5), (7,)):
        Z, G = rng.normal(size=shape) * 2, rng.normal(size=shape)
        got = call(tanh_backward, Z.copy(), G.copy())
        want = G * (1 - np.tanh(Z) ** 2)
        try:
            expect_array(got, want, rtol=1e-7, atol=1e-12, what=f"tanh_backward for shape {shape}")
        except CheckFailed as e:
            arr = to_numpy(got)
            if arr.shape == want.shape:
                if np.allclose(arr, G * (1 - Z**2)):
                    raise CheckFailed(f"{e} You used 1 - Z**2: the derivative is 1 - tanh(Z)**2.") from None
                if np.allclose(arr, 1 - np.tanh(Z) ** 2):
                    raise CheckFailed(
                        f"{e} You returned the local derivative only: multiply it by the upstream "
                        "gradient G (the chain rule)."
                    ) from None
            raise
    return "G * (1 - tanh(Z)**2), elementwise, for every shape."


def _net_forward_backward(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, buggy: bool = False
) -> dict[str, np.ndarray]:
    """Reference backward pass of the 03b exercise network (see the notebook for the math)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    Z1 = X @ W1.T + b1  # (N, H)
    H = np.tanh(Z1)  # (N, H)
    Yhat = H @ W2.T + b2  # (N, 1)
    dY = (Yhat - y) / N  # (N, 1)  loss = 0.5 * mean((Yhat - y)**2)
    dW2 = dY.T @ H  # (1, H)
    db2 = dY.sum(axis=0)  # (1,)
    dH = dY @ W2  # (N, H)
    dZ1 = dH * (1 - (Z1 if buggy else H) ** 2)  # (N, H)
    dW1 = dZ1.T @ X  # (H, D)
    db1 = dZ1.sum(axis=0)  # (H,)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


@register("ch03.fixed_backward")
def _fixed_backward(fixed_backward: Any) -> str:
    """``fixed_backward(params, X, y)`` returns the correct gradients dict of the 03b exercise net."""
    rng = np.random.default_rng(4)
    for N, D, H in ((8, 3, 5), (1, 2, 4)):
        params = {
            "W1": rng.normal(size=(H, D)),
            "b1": rng.normal(size=H),
            "W2": rng.normal(size=(1, H)),
            "b2": rng.normal(size=1),
        }
        X, y = rng.normal(size=(N, D)), rng.normal(size=(N, 1))
        got = call(fixed_backward, {k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
        if not isinstance(got, dict):
            raise CheckFailed(
                f"return a dict {{'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}}, got {type(got).__name__}."
            )
        if set(got) != set(params):
            raise CheckFailed(f"the dict must have the keys {sorted(params)}, got {sorted(got)}.")
        want = _net_forward_backward(params, X, y)
        bug = _net_forward_backward(params, X, y, buggy=True)
        for k in ("W2", "b2", "W1", "b1"):
            if (
                to_numpy(got[k], f"gradient {k}").shape == want[k].shape
                and np.allclose(to_numpy(got[k]), bug[k])
                and not np.allclose(bug[k], want[k])
            ):
                raise CheckFailed(
                    f"the gradient of {k} is still the buggy one: run gradcheck on it and look at the "
                    "derivative of the activation."
                )
            expect_array(got[k], want[k], rtol=1e-7, atol=1e-10, what=f"gradient {k} (N={N}, D={D}, H={H})")
    return "all four gradients match, including with a single example (N = 1)."


def _softmax_ce_grad_reference(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1.0
    return P / len(y)


@register("ch03.softmax_ce_grad")
def _softmax_ce_grad(softmax_ce_grad: Any) -> str:
    """``softmax_ce_grad(Z, y)``: d mean-CE / dZ = (softmax(Z) - onehot(y)) / N, shape (N, K)."""
    rng = np.random.default_rng(5)
    cases = [
        (rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)),
        (rng.normal(size=(1, 3)), np.array([2])),
        (np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 1.0]]), np.array([1, 1])),
    ]
    for Z, y in cases:
        got = call(softmax_ce_grad, Z.copy(), y.copy())
        want = _softmax_ce_grad_reference(Z, y)
        what = f"softmax_ce_grad for Z of shape {Z.shape}" + (" with large logits" if np.abs(Z).max() > 100 else "")
        arr = to_numpy(got, what)
        if arr.shape == want.shape and np.all(np.isfinite(arr)):
            if np.allclose(arr, want * len(y)) and len(y) > 1:
                raise CheckFailed(
                    f"{what}: you return (softmax - onehot) without dividing by N; the loss is the "
                    "*mean* over the N examples."
                )
            if np.allclose(arr, -want):
                raise CheckFailed(f"{what}: the sign is flipped; it is softmax(Z) - onehot(y) (predicted minus true).")
        if arr.shape == want.shape and not np.all(np.isfinite(arr)):
            raise CheckFailed(
                f"{what} contains NaN or inf: exp overflows for large logits. Subtract each row's "
                "maximum from Z before exp (softmax does not change)."
            )
        expect_array(got, want, rtol=1e-7, atol=1e-12, what=what)
    return "(softmax(Z) - onehot(y)) / N, numerically stable."
