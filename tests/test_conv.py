"""course_lib.conv against PyTorch (F.conv2d, pooling, autograd) and TensorFlow (tf.nn.conv2d, GradientTape).

Random configurations cover strides, paddings, dilations, groups and non-square kernels/images;
pooling inputs are rounded so that windows contain ties (the gradient must go to the first max).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import conv

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _random_config(rng: np.random.Generator) -> dict:
    G = int(rng.choice([1, 2, 3]))
    Cg, Og = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    cfg = {
        "stride": tuple(int(v) for v in rng.integers(1, 4, 2)),
        "padding": tuple(int(v) for v in rng.integers(0, 3, 2)),
        "dilation": tuple(int(v) for v in rng.integers(1, 3, 2)),
        "groups": G,
    }
    if rng.random() < 0.3:  # also exercise the plain-int form
        cfg.update(stride=cfg["stride"][0], padding=cfg["padding"][0], dilation=cfg["dilation"][0])
    H = int(rng.integers(max(kh, kw) * 2 + 1, 12))
    W = int(rng.integers(max(kh, kw) * 2 + 1, 12))
    x = rng.normal(size=(int(rng.integers(1, 4)), G * Cg, H, W))
    w = rng.normal(size=(G * Og, Cg, kh, kw))
    b = rng.normal(size=G * Og)
    return {"x": x, "w": w, "b": b, "cfg": cfg}


CONFIGS = [_random_config(np.random.default_rng(seed)) for seed in range(40)]


def _torch_conv(x, w, b, cfg, grad_out=None):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, **cfg)
    if grad_out is None:
        return out.detach().numpy()
    out.backward(torch.tensor(grad_out))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("case", range(len(CONFIGS)))
def test_conv2d_forward_and_backward_match_torch(case):
    c = CONFIGS[case]
    out = conv.conv2d(c["x"], c["w"], c["b"], **c["cfg"])
    grad_out = np.random.default_rng(100 + case).normal(size=out.shape)
    want, dx_t, dw_t, db_t = _torch_conv(c["x"], c["w"], c["b"], c["cfg"], grad_out)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10)
    dx, dw, db = conv.conv2d_backward(grad_out, c["x"], c["w"], **c["cfg"])
    np.testing.assert_allclose(dx, dx_t, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, dw_t, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, db_t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", range(0, len(CONFIGS), 4))
def test_loop_version_equals_im2col(case):
    c = CONFIGS[case]
    np.testing.assert_allclose(
        conv.conv2d_loop(c["x"], c["w"], c["b"], **c["cfg"]),
        conv.conv2d(c["x"], c["w"], c["b"], **c["cfg"]),
        rtol=1e-12,
        atol=1e-12,
    )


def test_no_bias_float32_and_depthwise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 9, 7)).astype(np.float32)
    w = rng.normal(size=(8, 1, 3, 3)).astype(np.float32)  # depthwise, channel multiplier 2
    out = conv.conv2d(x, w, stride=2, padding=1, groups=4)
    assert out.dtype == np.float32
    want = F.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1, groups=4).numpy()
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_conv_backward_matches_finite_differences():
    from course_lib.gradcheck import gradcheck

    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(1, 2, 6, 5)), rng.normal(size=(2, 1, 3, 2)), rng.normal(size=2)
    cfg = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    target = rng.normal(size=conv.conv2d(x, w, b, **cfg).shape)

    def loss(p):
        return 0.5 * float(np.sum((conv.conv2d(p["x"], p["w"], p["b"], **cfg) - target) ** 2))

    go = conv.conv2d(x, w, b, **cfg) - target
    dx, dw, db = conv.conv2d_backward(go, x, w, **cfg)
    report = gradcheck(loss, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db})
    assert report.passed, report


@pytest.mark.parametrize(
    "H, k, p, s, d",
    [
        (28, 5, 0, 1, 1),
        (28, 3, 1, 1, 1),
        (32, 3, 1, 2, 1),
        (7, 3, 0, 2, 2),
        (10, 4, 2, 3, 1),
        (5, 5, 0, 1, 1),
        (9, 2, 3, 4, 3),
    ],
)
def test_conv_output_size_matches_torch(H, k, p, s, d):
    out = F.conv2d(torch.zeros(1, 1, H, H), torch.zeros(1, 1, k, k), padding=p, stride=s, dilation=d)
    assert conv.conv_output_size(H, k, p, s, d) == out.shape[-1]


def _pool_cases():
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(25):
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        pad = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
        stride = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 3, 2))
        x = np.round(rng.normal(size=(2, 3, int(rng.integers(4, 9)), int(rng.integers(4, 9)))))  # many ties
        cases.append((x, k, stride, pad))
    return cases


@pytest.mark.parametrize("x, k, stride, pad", _pool_cases())
def test_pooling_forward_and_backward_match_torch(x, k, stride, pad):
    grad_out = np.random.default_rng(0).normal(size=conv.max_pool2d(x, k, stride, pad).shape)
    for ours, ours_bw, theirs in (
        (conv.max_pool2d, conv.max_pool2d_backward, F.max_pool2d),
        (conv.avg_pool2d, conv.avg_pool2d_backward, F.avg_pool2d),
    ):
        xt = torch.tensor(x, requires_grad=True)
        out = theirs(xt, k, stride, pad)
        out.backward(torch.tensor(grad_out))
        np.testing.assert_allclose(ours(x, k, stride, pad), out.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours_bw(grad_out, x, k, stride, pad), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_ties_go_to_the_first_max():
    x = np.ones((1, 1, 2, 2))
    dx = conv.max_pool2d_backward(np.array([[[[5.0]]]]), x, 2)
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0], [0.0, 0.0]]]])


def test_im2col_col2im_are_adjoint():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 7, 6))
    args = {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (1, 2)}
    cols = conv.im2col(x, **args)
    c = rng.normal(size=cols.shape)
    # <im2col(x), c> == <x, col2im(c)>: col2im is the transpose of the linear map im2col
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * conv.col2im(c, x.shape, **args)), rtol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: conv.conv2d(np.zeros((3, 8, 8)), np.zeros((2, 3, 3, 3))), r"x\[None\]"),
        (lambda: conv.conv2d(np.zeros((8, 8)), np.zeros((2, 1, 3, 3))), r"x\[None, None\]"),
        (lambda: conv.conv2d(np.zeros((1, 8, 8, 3)), np.zeros((2, 3, 3, 3))), "NHWC"),
        (lambda: conv.conv2d(np.zeros((1, 4, 8, 8)), np.zeros((2, 3, 3, 3))), "channel mismatch"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((3, 3, 3))), "OIHW"),
        (lambda: conv.conv2d(np.zeros((1, 3, 4, 4)), np.zeros((2, 3, 5, 5))), "smaller kernel"),
        (lambda: conv.conv2d(np.zeros((1, 3, 4, 4)), np.zeros((2, 3, 3, 3)), dilation=2), "dilation"),
        (lambda: conv.conv2d(np.zeros((1, 6, 8, 8)), np.zeros((3, 3, 3, 3)), groups=2), "divide"),
        (lambda: conv.conv2d(np.zeros((1, 6, 8, 8)), np.zeros((4, 3, 3, 3)), groups=0), "groups"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3)), stride=0), "stride must be positive"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3)), padding=-1), "padding"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3)), stride=(1, 2, 3)), "pair"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3)), stride=1.5), "int"),
        (lambda: conv.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3)), b=np.zeros(3)), "bias"),
        (
            lambda: conv.conv2d_backward(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 8, 8)), np.zeros((2, 3, 3, 3))),
            "same stride",
        ),
        (lambda: conv.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "half the kernel"),
        (lambda: conv.max_pool2d(np.zeros((1, 1, 4, 4)), 5), "smaller kernel"),
        (lambda: conv.max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2), "output shape"),
        (lambda: conv.conv_output_size(4, 5), "smaller kernel"),
        (lambda: conv.conv_output_size(4, 3, s=0), "positive"),
    ],
)
def test_bad_arguments_raise_helpful_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------------------------
# TensorFlow: NHWC / HWIO layouts. Importing TensorFlow costs seconds, hence the `slow` marker.
# ---------------------------------------------------------------------------------------------


def _tf_padding(cfg):
    """Pad explicitly, as tf.nn.conv2d's 'EXPLICIT' padding, in NHWC."""
    ph, pw = (cfg["padding"],) * 2 if isinstance(cfg["padding"], int) else cfg["padding"]
    return [[0, 0], [ph, ph], [pw, pw], [0, 0]]


def _pair(v):
    return (v, v) if isinstance(v, int) else v


TF_CASES = [c for c in CONFIGS if c["cfg"]["groups"] == 1][:8]


def _tf_conv(tf, x_nhwc, w_hwio, b, cfg):
    s, d = _pair(cfg["stride"]), _pair(cfg["dilation"])
    return tf.nn.conv2d(x_nhwc, w_hwio, strides=[1, *s, 1], padding=_tf_padding(cfg), dilations=[1, *d, 1]) + b


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(TF_CASES)))
def test_conv2d_forward_and_backward_match_tensorflow(case):
    tf = pytest.importorskip("tensorflow")
    c = TF_CASES[case]
    cfg = c["cfg"]
    x_nhwc = tf.Variable(c["x"].transpose(0, 2, 3, 1))  # NCHW -> NHWC
    w_hwio = tf.Variable(c["w"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
    if max(_pair(cfg["stride"])) == 1 or max(_pair(cfg["dilation"])) == 1:
        # tf.nn.conv2d rejects stride > 1 together with dilation > 1
        out = _tf_conv(tf, x_nhwc, w_hwio, c["b"], cfg)
        np.testing.assert_allclose(
            conv.conv2d(c["x"], c["w"], c["b"], **cfg), out.numpy().transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-10
        )
    # TensorFlow's CPU kernels have no backward pass for dilation > 1: compare gradients at dilation 1
    cfg = dict(cfg, dilation=1)
    with tf.GradientTape() as tape:
        out = _tf_conv(tf, x_nhwc, w_hwio, c["b"], cfg)
        grad_out = np.random.default_rng(case).normal(size=out.shape)
        loss = tf.reduce_sum(out * grad_out)
    dx_tf, dw_tf = tape.gradient(loss, [x_nhwc, w_hwio])
    np.testing.assert_allclose(
        conv.conv2d(c["x"], c["w"], c["b"], **cfg), out.numpy().transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-10
    )
    dx, dw, _ = conv.conv2d_backward(grad_out.transpose(0, 3, 1, 2), c["x"], c["w"], **cfg)
    np.testing.assert_allclose(dx, dx_tf.numpy().transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, dw_tf.numpy().transpose(3, 2, 0, 1), rtol=1e-10, atol=1e-10)


@pytest.mark.slow
def test_depthwise_and_pooling_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 8, 7))
    w = rng.normal(size=(6, 1, 3, 3))  # depthwise, multiplier 2: (C*M, 1, kh, kw)
    ours = conv.conv2d(x, w, padding=1, groups=3)
    w_tf = w.reshape(3, 2, 3, 3).transpose(2, 3, 0, 1)  # -> (kh, kw, C, M)
    theirs = tf.nn.depthwise_conv2d(x.transpose(0, 2, 3, 1), w_tf, [1, 1, 1, 1], [[0, 0], [1, 1], [1, 1], [0, 0]])
    np.testing.assert_allclose(ours, theirs.numpy().transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-10)
    xv = tf.Variable(x.transpose(0, 2, 3, 1))
    with tf.GradientTape() as tape:
        pooled = tf.nn.max_pool2d(xv, 2, 2, "VALID")
        g = rng.normal(size=pooled.shape)
        loss = tf.reduce_sum(pooled * g)
    np.testing.assert_allclose(conv.max_pool2d(x, 2), pooled.numpy().transpose(0, 3, 1, 2))
    np.testing.assert_allclose(
        conv.max_pool2d_backward(g.transpose(0, 3, 1, 2), x, 2),
        tape.gradient(loss, xv).numpy().transpose(0, 3, 1, 2),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        conv.avg_pool2d(x, 2, 1),
        tf.nn.avg_pool2d(x.transpose(0, 2, 3, 1), 2, 1, "VALID").numpy().transpose(0, 3, 1, 2),
        rtol=1e-12,
    )
