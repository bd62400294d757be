"""course_lib.attribution: each PyTorch method equals Captum's, each TensorFlow twin equals PyTorch's."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")

from course_lib import attribution as A
from course_lib.models import load_digit_cnn


@pytest.fixture(scope="module")
def cnn():
    torch.set_num_threads(1)
    return load_digit_cnn("torch")


@pytest.fixture(scope="module")
def keras_cnn():
    return load_digit_cnn("keras").model


@pytest.fixture(scope="module")
def batch(cnn):
    x = cnn.preprocess(cnn.data.X_val[:3])
    return x, cnn.data.y_val[:3].astype(np.int64)


def _cap(explainer, x, **kwargs):
    """Captum sets requires_grad on the input it is given: hand it a copy, return a plain array."""
    return explainer.attribute(x.clone(), **kwargs).detach().numpy()


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def test_saliency_and_input_x_gradient_match_captum(cnn, batch):
    x, y = batch
    t = torch.from_numpy(y)
    np.testing.assert_allclose(
        A.saliency(cnn.model, x, y), _cap(captum_attr.Saliency(cnn.model), x, target=t), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        A.input_x_gradient(cnn.model, x, y),
        _cap(captum_attr.InputXGradient(cnn.model), x, target=t),
        rtol=1e-6,
        atol=1e-7,
    )


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_right"])
def test_integrated_gradients_match_captum(cnn, batch, method):
    x, y = batch
    ours = A.integrated_gradients(cnn.model, x, y, steps=32, method=method)
    ref = _cap(captum_attr.IntegratedGradients(cnn.model), x, target=torch.from_numpy(y), n_steps=32, method=method)
    if method == "riemann_trapezoid":  # Captum's trapezoid weights sum to 1 - 1/steps (see ig_alphas)
        ours = ours * (32 - 1) / 32
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


def test_integrated_gradients_completeness_improves_with_steps(cnn, batch):
    x, y = batch
    gaps = [
        np.abs(A.completeness_gap(cnn.model, x, y, A.integrated_gradients(cnn.model, x, y, steps=s))).max()
        for s in (2, 64)
    ]
    assert gaps[1] < gaps[0]
    assert gaps[1] < 0.05


def test_ig_alphas_weights_sum_to_one_and_validate():
    for m in A.IG_METHODS:
        a, w = A.ig_alphas(8, m)
        assert a.shape == w.shape == (8,) and np.isclose(w.sum(), 1.0) and a.min() >= 0 and a.max() <= 1
    with pytest.raises(ValueError, match="method"):
        A.ig_alphas(8, "simpson")
    with pytest.raises(ValueError, match="steps"):
        A.ig_alphas(0)


def test_smoothgrad_matches_captum_noise_tunnel_on_average(cnn, batch):
    x, y = batch
    ours = A.smoothgrad(cnn.model, x, y, n_samples=200, stdev=0.3, seed=0)
    torch.manual_seed(1)
    ref = _cap(
        captum_attr.NoiseTunnel(captum_attr.Saliency(cnn.model)),
        x,
        target=torch.from_numpy(y),
        nt_type="smoothgrad",
        nt_samples=200,
        stdevs=0.3,
        abs=False,
    )
    # different random noise: the two Monte-Carlo means agree in shape of the map, not bit for bit
    corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(ours.numpy(), ref)]
    assert min(corr) > 0.9, corr
    # with the same noise, SmoothGrad is exactly the mean of the noisy gradients
    noise = 0.3 * torch.randn(4, *x.shape, generator=torch.Generator().manual_seed(0))
    want = torch.stack([A.logit_gradient(cnn.model, x + e, y) for e in noise]).mean(0)
    np.testing.assert_allclose(A.smoothgrad(cnn.model, x, y, noise=noise), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("window,stride", [(4, 2), (5, 3), (1, 1), (6, 4)])
def test_occlusion_matches_captum(cnn, batch, window, stride):
    x, y = batch
    ours = A.occlusion(cnn.model, x, y, window=window, stride=stride)
    ref = _cap(
        captum_attr.Occlusion(cnn.model),
        x,
        target=torch.from_numpy(y),
        sliding_window_shapes=(1, window, window),
        strides=(1, stride, stride),
        baselines=0.0,
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("relu", [False, True])
def test_grad_cam_matches_captum(cnn, batch, relu):
    x, y = batch
    ours = A.grad_cam(cnn.model, x, y, cnn.model.relu2, relu=relu)
    ref = _cap(
        captum_attr.LayerGradCam(cnn.model, cnn.model.relu2), x, target=torch.from_numpy(y), relu_attributions=relu
    )
    assert ours.shape == (3, 1, 10, 10)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_tensorflow_twins_equal_pytorch(cnn, keras_cnn, batch):
    x, y = batch
    xk = _nhwc(x)
    m = cnn.model
    np.testing.assert_allclose(A.tf_saliency(keras_cnn, xk, y), _nhwc(A.saliency(m, x, y)), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(
        A.tf_input_x_gradient(keras_cnn, xk, y), _nhwc(A.input_x_gradient(m, x, y)), rtol=1e-3, atol=1e-5
    )
    np.testing.assert_allclose(
        A.tf_integrated_gradients(keras_cnn, xk, y, steps=16),
        _nhwc(A.integrated_gradients(m, x, y, steps=16)),
        rtol=1e-3,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        A.tf_occlusion(keras_cnn, xk, y, window=5, stride=3),
        _nhwc(A.occlusion(m, x, y, window=5, stride=3)),
        rtol=1e-3,
        atol=1e-4,
    )
    noise = 0.2 * torch.randn(3, *x.shape, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(
        A.tf_smoothgrad(keras_cnn, xk, y, noise.numpy().transpose(0, 1, 3, 4, 2)),
        _nhwc(A.smoothgrad(m, x, y, noise=noise)),
        rtol=1e-3,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        A.tf_grad_cam(keras_cnn, xk, y, "conv2"), A.grad_cam(m, x, y, m.relu2)[:, 0].numpy(), rtol=1e-3, atol=1e-5
    )


def test_randomize_layers_changes_only_named_layers(cnn):
    r = A.randomize_layers(cnn.model, ["fc3", "fc2"], seed=0)
    assert not torch.equal(r.fc3.weight, cnn.model.fc3.weight)
    assert not torch.equal(r.fc2.weight, cnn.model.fc2.weight)
    assert torch.equal(r.fc1.weight, cnn.model.fc1.weight)
    with pytest.raises(ValueError, match="no layer"):
        A.randomize_layers(cnn.model, ["fc9"])
    with pytest.raises(ValueError, match="no weights"):
        A.randomize_layers(cnn.model, ["relu1"])


def test_rank_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 5, 5))
    np.testing.assert_allclose(A.rank_correlation(a, 3 * a), [1.0, 1.0])
    np.testing.assert_allclose(A.rank_correlation(a, -a), [1.0, 1.0])
    assert A.rank_correlation(a, -a, absolute=False).max() < -0.99
    with pytest.raises(ValueError, match="same shape"):
        A.rank_correlation(a, a[:1])


def test_deletion_and_insertion_curves_end_points(cnn, batch):
    x, y = batch
    order = np.argsort(-A.saliency(cnn.model, x, y).flatten(1).numpy(), axis=1)
    d = A.deletion_curve(cnn.model, x, y, order, steps=7)
    i = A.deletion_curve(cnn.model, x, y, order, steps=7, insertion=True)
    full, blank = (A.target_logits(cnn.model, x, y), A.target_logits(cnn.model, torch.zeros_like(x), y))
    assert d.shape == i.shape == (3, 8)
    np.testing.assert_allclose(d[:, 0], full, rtol=1e-5)
    np.testing.assert_allclose(d[:, -1], blank, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(i[:, 0], blank, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(i[:, -1], full, rtol=1e-5)
    np.testing.assert_allclose(A.curve_area(np.array([[0.0, 1.0], [1.0, 1.0]])), [0.5, 1.0])


def test_errors_teach(cnn, batch):
    x, y = batch
    with pytest.raises(ValueError, match=r"x\[None\]"):
        A.saliency(cnn.model, x[0], y[0])
    with pytest.raises(ValueError, match="one int or 3 ints"):
        A.saliency(cnn.model, x, [1, 2])
    with pytest.raises(ValueError, match="submodule"):
        A.grad_cam(cnn.model, x, y, torch.nn.ReLU())
    with pytest.raises(ValueError, match="window"):
        A.occlusion(cnn.model, x, y, window=40)


def test_rank_correlation_of_constant_map_is_nan():
    a = np.random.default_rng(0).normal(size=(2, 4, 4))
    b = a.copy()
    b[1] = 0.0
    r = A.rank_correlation(a, b)
    assert r[0] == pytest.approx(1.0) and np.isnan(r[1])
