"""course_lib.autograd and course_lib.nn_scalar against PyTorch autograd (float64)."""

import math
import random

import numpy as np
import pytest
import torch

from course_lib.autograd import Value
from course_lib.nn_scalar import MLP, Layer, Neuron

UNARY = ("neg", "relu", "tanh", "exp", "log", "square", "inv_sqrt")
BINARY = ("add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv")


def _apply(op, a, b=None, lib="value"):
    """One operation, written the same way for Values and torch tensors."""
    if op == "neg":
        return -a
    if op == "relu":
        return a.relu()
    if op == "tanh":
        return a.tanh()
    if op == "exp":
        return a.exp()
    if op == "log":
        return a.log()
    if op == "square":
        return a**2
    if op == "inv_sqrt":
        return a**-0.5
    return {
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div": lambda: a / b,
        "radd": lambda: 1.5 + a,
        "rsub": lambda: 2.0 - a,
        "rmul": lambda: -3.0 * a,
        "rdiv": lambda: 2.0 / a,
    }[op]()


def _random_graph(seed, n_inputs=4, n_ops=25):
    """A random expression graph built on Values and, op for op, on torch float64 tensors."""
    rng = random.Random(seed)
    xs = [rng.uniform(-2, 2) for _ in range(n_inputs)]
    vals = [Value(x) for x in xs]
    tens = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    nodes_v, nodes_t = list(vals), list(tens)
    for _ in range(n_ops):
        i, j = rng.randrange(len(nodes_v)), rng.randrange(len(nodes_v))  # reuse: nodes feed several ops
        a_v, b_v, a_t, b_t = nodes_v[i], nodes_v[j], nodes_t[i], nodes_t[j]
        ops = [o for o in UNARY + BINARY if _valid(o, a_v.data, b_v.data)]
        op = rng.choice(ops)
        nodes_v.append(_apply(op, a_v, b_v))
        nodes_t.append(_apply(op, a_t, b_t))
    out_v = sum(nodes_v[-5:], Value(0.0))  # several outputs summed, so most of the graph matters
    out_t = sum(nodes_t[-5:])
    return vals, tens, out_v, out_t


def _valid(op, a, b):
    """Keep the random graph well defined and away from kinks and overflow."""
    if abs(a) > 30 or abs(b) > 30:  # squash large values back instead of letting them blow up
        return op == "tanh"
    if op == "log" or op == "inv_sqrt":
        return a > 1e-2
    if op == "rdiv":
        return abs(a) > 1e-2
    if op == "div":
        return abs(b) > 1e-2
    if op == "relu":
        return abs(a) > 1e-6
    if op == "exp":
        return a < 5
    return True


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_torch(seed):
    vals, tens, out_v, out_t = _random_graph(seed)
    out_v.backward()
    out_t.backward()
    assert math.isclose(out_v.data, out_t.item(), rel_tol=1e-12, abs_tol=1e-12)
    nonzero = 0
    for v, t in zip(vals, tens):
        want = 0.0 if t.grad is None else t.grad.item()
        assert math.isclose(v.grad, want, rel_tol=1e-10, abs_tol=1e-10), (seed, v.grad, want)
        nonzero += want != 0.0
    assert nonzero >= 1  # the comparison is not vacuous


def test_random_graphs_are_not_trivial():
    sizes = [len(_random_graph(seed)[2].topological_order()) for seed in range(10)]
    assert min(sizes) > 15


def test_micrograd_sanity_example():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xt = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert math.isclose(y.data, yt.item()) and math.isclose(x.grad, xt.grad.item())


def test_every_op_value_and_gradient():
    for op in UNARY + BINARY:
        a, b = Value(1.3), Value(-0.7)
        at = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
        out, out_t = _apply(op, a, b), _apply(op, at, bt)
        out.backward()
        out_t.backward()
        assert math.isclose(out.data, out_t.item(), rel_tol=1e-12), op
        assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12), op
        assert math.isclose(b.grad, 0.0 if bt.grad is None else bt.grad.item(), rel_tol=1e-12), op


def test_relu_kink_matches_torch():
    a = Value(0.0)
    a.relu().backward()
    t = torch.tensor(0.0, requires_grad=True)
    t.relu().backward()
    assert a.grad == t.grad.item() == 0.0


def test_deep_chain_has_no_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = (y * 1.0001).tanh() + 0.0
    y.backward()  # a recursive topological sort would raise RecursionError here
    assert math.isfinite(x.grad) and x.grad != 0.0
    assert len(y.topological_order()) > 40_000


def test_topological_order_puts_inputs_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    order = d.topological_order()
    pos = {id(v): i for i, v in enumerate(order)}
    assert pos[id(a)] < pos[id(c)] < pos[id(d)] and pos[id(b)] < pos[id(c)]
    assert len(order) == 4


def test_gradients_accumulate_like_torch():
    a = Value(3.0)
    (a * a).backward()
    (a * a).backward()
    assert a.grad == 12.0  # 6 + 6: reset grads between passes (zero_grad)


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], True, np.array([1.0, 2.0]), 1 + 2j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match="real number"):
        Value(bad)


def test_value_accepts_numpy_scalars():
    assert Value(np.float32(1.5)).data == 1.5 and Value(np.int64(2)).data == 2.0


def test_invalid_operations_raise_value_error():
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(ValueError, match="constant exponents"):
        a**b
    with pytest.raises(ValueError, match="constant exponents"):
        2**a
    with pytest.raises(ValueError, match="positive"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match="division"):
        a / Value(0.0)
    with pytest.raises(ValueError, match="overflows"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match="real number"):
        a + "1"


def test_repr_shows_label_data_and_grad():
    assert repr(Value(2.0, label="w")) == "Value(w: data=2, grad=0)"


def test_mlp_matches_torch():
    torch.manual_seed(0)
    model = MLP(3, [4, 4, 1], activation="tanh", seed=1)
    x = [0.5, -1.0, 2.0]
    out = model(x)[0]
    out.backward()
    # the same network in torch, weights copied
    h = torch.tensor(x, dtype=torch.float64)
    params = []
    for i, layer in enumerate(model.layers):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        params.append((W, b))
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = torch.tanh(h)
    h.sum().backward()
    assert math.isclose(out.data, h.item(), rel_tol=1e-12)
    for layer, (W, b) in zip(model.layers, params):
        np.testing.assert_allclose([[w.grad for w in n.w] for n in layer.neurons], W.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose([n.b.grad for n in layer.neurons], b.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mlp_parameters_and_zero_grad():
    model = MLP(2, [3, 1])
    assert len(model.parameters()) == (2 * 3 + 3) + (3 + 1)
    out = model([1.0, -1.0])[0]
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_mlp_is_deterministic_given_seed():
    a, b = MLP(2, [3, 1], seed=5), MLP(2, [3, 1], seed=5)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_nn_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="n_inputs"):
        Neuron(0)
    with pytest.raises(ValueError, match="activation"):
        Neuron(2, activation="sigmoidal")
    with pytest.raises(ValueError, match="n_outputs"):
        Layer(2, 0)
    with pytest.raises(ValueError, match="sizes"):
        MLP(2, [])
    with pytest.raises(ValueError, match="takes 2 inputs"):
        MLP(2, [1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="real number"):
        MLP(2, [1])(["a", 1.0])
