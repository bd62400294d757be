"""Tests for course_lib.gan (chapter 10)."""

import numpy as np
import pytest

from course_lib import gan


def test_frechet_distance_closed_form_diagonal():
    # for commuting (here diagonal) covariances the trace term is sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    want = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert gan.frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(want, rel=1e-10)


def test_frechet_distance_symmetric_and_matches_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    S1, S2 = A @ A.T, B @ B.T + np.eye(4)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    ref = np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.real(scipy_linalg.sqrtm(S1 @ S2)))
    assert gan.frechet_distance(m1, S1, m2, S2) == pytest.approx(ref, rel=1e-7)
    assert gan.frechet_distance(m2, S2, m1, S1) == pytest.approx(ref, rel=1e-7)
    assert gan.frechet_distance(m1, S1, m1, S1) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_samples_shrinks_with_n():
    rng = np.random.default_rng(1)
    small = gan.frechet_distance_samples(rng.normal(size=(50, 3)), rng.normal(size=(50, 3)))
    large = gan.frechet_distance_samples(rng.normal(size=(5000, 3)), rng.normal(size=(5000, 3)))
    assert 0 < large < small
    with pytest.raises(ValueError):
        gan.frechet_distance_samples(np.zeros((5, 2)), np.zeros((5, 3)))


def test_ring_and_mode_stats():
    x = gan.ring_of_gaussians(4000, k=8, radius=2.0, sd=0.05, seed=0)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    st = gan.mode_stats(x, gan.ring_centers(8, 2.0), sd=0.05)
    assert st["modes"] == 8 and st["high_quality"] > 0.98 and st["counts"].sum() <= 4000
    # all samples at one centre: one mode, full quality
    one = np.repeat(gan.ring_centers(8, 2.0)[:1], 100, axis=0)
    st1 = gan.mode_stats(one, gan.ring_centers(8, 2.0), sd=0.05)
    assert st1["modes"] == 1 and st1["high_quality"] == 1.0
    # samples at the origin: no quality, no modes
    st0 = gan.mode_stats(np.zeros((100, 2)), gan.ring_centers(8, 2.0), sd=0.05)
    assert st0["modes"] == 0 and st0["high_quality"] == 0.0
    with pytest.raises(ValueError):
        gan.mode_stats(x, gan.ring_centers(8), sd=-1)


def test_optimal_discriminator_and_js_identity():
    x = np.linspace(-20, 20, 40001)
    dx = x[1] - x[0]
    p = np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi)
    q = np.exp(-0.5 * (x / 2) ** 2) / (2 * np.sqrt(2 * np.pi))
    d = gan.optimal_discriminator(p, q)
    value = np.sum(p * np.log(d) + q * np.log(1 - d)) * dx
    assert value == pytest.approx(2 * gan.js_divergence(p, q, dx) - np.log(4), abs=1e-7)
    assert gan.js_divergence(p, p, dx) == pytest.approx(0.0, abs=1e-12)
    assert gan.optimal_discriminator(np.zeros(2), np.zeros(2)).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("args", [(7, 4, 2, 1, 0), (4, 3, 1, 0, 0), (5, 3, 2, 1, 1), (3, 5, 3, 2, 2)])
def test_conv_transpose_output_size_matches_torch(args):
    torch = pytest.importorskip("torch")
    n, k, s, p, op = args
    layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
    assert layer(torch.zeros(1, 1, n, n)).shape[-1] == gan.conv_transpose_output_size(n, k, s, p, op)


def test_conv_transpose_output_size_errors():
    with pytest.raises(ValueError):
        gan.conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError):
        gan.conv_transpose_output_size(0, 3)
