"""A tiny scalar autograd engine: reverse-mode automatic differentiation, readable in one sitting.

Introduced in chapter 3 ("Backpropagation"). It follows the conventions of Karpathy's
*micrograd*: a :class:`Value` wraps one number (``.data``) and, after ``loss.backward()``,
holds the derivative of ``loss`` with respect to itself (``.grad``). Every operation builds a
new node that remembers its inputs (``_prev``), the operation (``_op``) and a small closure
``_backward`` that applies the chain rule *locally*: it adds ``local derivative * out.grad``
to each input's ``.grad``. :meth:`Value.backward` calls those closures in reverse topological
order, so each node's gradient is complete before it is passed on.

Two differences from micrograd: the topological sort is iterative (a chain of 100,000 nodes
does not hit Python's recursion limit), and bad input raises ``ValueError`` instead of failing
an ``assert``.

Example::

    a, b = Value(2.0), Value(-3.0)
    loss = (a * b + 1).tanh()
    loss.backward()
    a.grad, b.grad     # d loss / d a, d loss / d b
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, Union

Number = Union[int, float]


def as_float(x: Any, what: str) -> float:
    """``x`` as a Python float; ``ValueError`` for bools, strings, arrays, None... Introduced in chapter 3."""
    if type(x) is float:  # the common case, checked first: the ABC check below is slow
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(
            f"{what} must be a real number (int or float), got {type(x).__name__} {x!r}; "
            "wrap each number in its own Value, e.g. Value(float(x))."
        )
    return float(x)


class Value:
    """One scalar node of a computational graph: its value ``data`` and gradient ``grad``.

    ``Value(data)`` creates a leaf (an input or a parameter). Operations on Values (``+ - * /``,
    ``**`` by a constant, ``-v``, :meth:`relu`, :meth:`tanh`, :meth:`exp`, :meth:`log`) create
    new Values; plain numbers are accepted on either side (``2 * v``, ``1 - v``).

    Introduced in chapter 3.
    """

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        self.data = as_float(data, "Value data")
        self.grad = 0.0
        self.label = str(label)
        self._prev: tuple[Value, ...] = tuple(_children)
        self._op = _op
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # -- the operations: each builds `out` and its local chain rule ---------------------------
    def __add__(self, other: Value | Number) -> Value:
        other = _wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad  # d(a + b)/da = 1
            other.grad += out.grad  # d(a + b)/db = 1

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = _wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad  # d(a b)/da = b
            other.grad += self.data * out.grad  # d(a b)/db = a

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value):
            raise ValueError(
                "only constant exponents are supported (v ** 2, v ** -0.5); for a variable "
                "exponent write (y * x.log()).exp(), which is x ** y for x > 0."
            )
        k = as_float(exponent, "the exponent")
        if self.data == 0.0 and k < 1.0:
            raise ValueError(f"0 ** {k:g} has no finite derivative (or value); keep the base away from 0.")
        if self.data < 0.0 and not k.is_integer():
            raise ValueError(
                f"({self.data:g}) ** {k:g} is not a real number: a negative base needs an integer exponent."
            )
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward() -> None:
            self.grad += k * self.data ** (k - 1) * out.grad  # d(x^k)/dx = k x^(k-1)

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad  # 0 at the kink, like PyTorch

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - t * t) * out.grad  # d tanh(x)/dx = 1 - tanh(x)^2

        out._backward = _backward
        return out

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise ValueError(f"exp({self.data:g}) overflows a float; the input is far too large.") from None
        out = Value(e, (self,), "exp")

        def _backward() -> None:
            self.grad += e * out.grad  # d e^x/dx = e^x

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(
                f"log({self.data:g}) is undefined: log needs a positive input (clip probabilities away from 0 first)."
            )
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data  # d log(x)/dx = 1/x

        out._backward = _backward
        return out

    # -- derived operations: compositions of the ones above ------------------------------------
    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-_wrap(other))

    def __truediv__(self, other: Value | Number) -> Value:
        other = _wrap(other)
        if other.data == 0.0:
            raise ValueError("division by a Value whose data is 0")
        return self * other**-1

    def __radd__(self, other: Number) -> Value:  # 2 + v
        return self + other

    def __rsub__(self, other: Number) -> Value:  # 2 - v
        return _wrap(other) + (-self)

    def __rmul__(self, other: Number) -> Value:  # 2 * v
        return self * other

    def __rtruediv__(self, other: Number) -> Value:  # 2 / v
        return _wrap(other) / self

    def __rpow__(self, other: Number) -> Value:  # 2 ** v: a variable exponent
        raise ValueError("only constant exponents are supported; write 2 ** v as (v * math.log(2)).exp().")

    # -- reverse-mode differentiation ------------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node this Value depends on, inputs before the nodes computed from them.

        Iterative depth-first search (no recursion, so no recursion limit on deep graphs).
        """
        order: list[Value] = []
        visited: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)  # all of node's inputs are already in `order`
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))  # come back to `node` after its inputs
            stack.extend((child, False) for child in node._prev if id(child) not in visited)
        return order

    def backward(self) -> None:
        """Fill ``.grad`` of every node of the graph with d(self)/d(node).

        Seeds ``self.grad = 1`` and runs each node's local chain rule from the output back to
        the inputs. Gradients *accumulate* (``+=``), as in PyTorch: reset them to 0 before a
        second backward pass through the same leaves (``MLP.zero_grad()`` in
        :mod:`course_lib.nn_scalar`).
        """
        order = self.topological_order()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _wrap(x: Value | Number) -> Value:
    """A Value for ``x`` (a constant leaf if ``x`` is a plain number)."""
    return x if isinstance(x, Value) else Value(as_float(x, "the other operand"))
