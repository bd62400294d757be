"""A tiny multilayer perceptron on :class:`course_lib.autograd.Value` scalars (chapter 3).

Follows micrograd's ``nn.py``: a :class:`Module` has ``parameters()`` and ``zero_grad()``;
a :class:`Neuron` computes ``act(w . x + b)``; a :class:`Layer` is a list of Neurons; an
:class:`MLP` is a list of Layers. It is slow (one Python object per number) and meant to be
read, not to train big models: chapter 3 trains one on a few hundred 2-D points.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from course_lib.autograd import Value, as_float
from course_lib.validation import positive_int

ACTIVATIONS = ("relu", "tanh", "linear")


class Module:
    """Anything with parameters: ``zero_grad()`` resets their gradients to 0. Introduced in chapter 3."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """``act(sum_i w_i x_i + b)`` for ``n_inputs`` inputs; weights ~ U(-1, 1) / sqrt(n_inputs), b = 0.

    Introduced in chapter 3.
    """

    def __init__(self, n_inputs: int, activation: str = "relu", rng: random.Random | None = None) -> None:
        n_inputs = positive_int("n_inputs", n_inputs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        rng = rng or random.Random(0)
        scale = n_inputs**-0.5
        self.w = [Value(rng.uniform(-1, 1) * scale) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        z = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        if self.activation == "relu":
            return z.relu()
        if self.activation == "tanh":
            return z.tanh()
        return z

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class Layer(Module):
    """``n_outputs`` neurons that all read the same ``n_inputs`` inputs. Introduced in chapter 3."""

    def __init__(
        self, n_inputs: int, n_outputs: int, activation: str = "relu", rng: random.Random | None = None
    ) -> None:
        n_outputs = positive_int("n_outputs", n_outputs)
        rng = rng or random.Random(0)
        self.neurons = [Neuron(n_inputs, activation, rng) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    """Layers of sizes ``n_inputs -> sizes[0] -> ... -> sizes[-1]``; the last layer is linear.

    ``MLP(2, [16, 16, 1])(x)`` returns a list of ``sizes[-1]`` Values for one example ``x``
    (a sequence of ``n_inputs`` numbers or Values).

    Introduced in chapter 3.
    """

    def __init__(self, n_inputs: int, sizes: Sequence[int], activation: str = "relu", seed: int = 0) -> None:
        if not isinstance(sizes, Sequence) or len(sizes) == 0:
            raise ValueError(f"sizes must be a non-empty list of layer widths such as [16, 1], got {sizes!r}")
        rng = random.Random(seed)
        dims = [n_inputs, *sizes]
        self.layers = [
            Layer(dims[i], dims[i + 1], activation if i < len(sizes) - 1 else "linear", rng) for i in range(len(sizes))
        ]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        out: list[Value] = [v if isinstance(v, Value) else Value(as_float(v, "an input")) for v in x]
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]
