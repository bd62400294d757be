"""course_lib.gradcheck: central differences, the relative-error criterion, bad input."""

import numpy as np
import pytest

from course_lib.gradcheck import GradcheckReport, gradcheck, numerical_gradient, relative_error


def _loss(p):
    """A small smooth loss: mean((tanh(X W^T + b) - Y)^2) with fixed X, Y."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    return np.mean((np.tanh(X @ p["W"].T + p["b"]) - Y) ** 2)


def _grads(p, sign=1.0):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    H = np.tanh(X @ p["W"].T + p["b"])
    dZ = 2 * (H - Y) / H.size * (1 - H**2)
    return {"W": sign * dZ.T @ X, "b": dZ.sum(axis=0)}


PARAMS = {"W": np.random.default_rng(1).normal(size=(2, 3)), "b": np.array([0.1, -0.2])}


def test_numerical_gradient_of_a_quadratic_is_exact():
    p = {"x": np.array([1.0, -2.0, 3.0])}
    g = numerical_gradient(lambda q: float(np.sum(q["x"] ** 2)), p, "x")
    np.testing.assert_allclose(g, 2 * p["x"], rtol=1e-8)


def test_numerical_gradient_does_not_modify_params():
    p = {"x": np.array([1.0, 2.0])}
    before = p["x"].copy()
    numerical_gradient(lambda q: float(np.sum(q["x"] ** 3)), p, "x")
    np.testing.assert_array_equal(p["x"], before)


def test_correct_gradient_passes():
    report = gradcheck(_loss, PARAMS, _grads(PARAMS))
    assert report.passed and report.failed == []
    assert max(report.errors.values()) < 1e-7
    assert "PASSED" in str(report)


def test_sign_error_is_caught_and_located():
    report = gradcheck(_loss, PARAMS, _grads(PARAMS, sign=-1.0))
    assert not report.passed
    assert report.failed == ["W"]
    assert report.errors["W"] == pytest.approx(2.0, rel=1e-3)  # |a - (-a)| / |a| = 2
    assert "WRONG" in str(report) and "FAILED" in str(report)


def test_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    W = torch.tensor(PARAMS["W"], requires_grad=True)
    b = torch.tensor(PARAMS["b"], requires_grad=True)
    rng = np.random.default_rng(0)
    X, Y = (torch.tensor(a) for a in (rng.normal(size=(6, 3)), rng.normal(size=(6, 2))))
    torch.mean((torch.tanh(X @ W.T + b) - Y) ** 2).backward()
    report = gradcheck(_loss, PARAMS, {"W": W.grad.numpy(), "b": b.grad.numpy()})
    assert report.passed
    np.testing.assert_allclose(report.numeric["W"], W.grad.numpy(), rtol=1e-6)


def test_relative_error():
    np.testing.assert_allclose(relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])), [0.0, 0.0])
    np.testing.assert_allclose(relative_error(np.array([2.0]), np.array([-2.0])), [2.0])
    # both (almost) zero: the floor keeps noise from counting as an error
    assert relative_error(np.array([1e-12]), np.array([-1e-12]))[0] < 1e-5


def test_report_type():
    assert isinstance(gradcheck(_loss, PARAMS, _grads(PARAMS)), GradcheckReport)


@pytest.mark.parametrize(
    "params, analytic, match",
    [
        ({}, {}, "non-empty"),
        ([1.0], {"x": np.zeros(1)}, "non-empty dict"),
        ({"x": np.zeros(2, dtype=np.float32)}, {"x": np.zeros(2)}, "float64"),
        ({"x": np.zeros(2)}, {"y": np.zeros(2)}, "same names"),
        ({"x": np.zeros(2)}, {"x": np.zeros(3)}, "shape"),
        ({"x": np.array([np.nan, 1.0])}, {"x": np.zeros(2)}, "NaN"),
    ],
)
def test_bad_input_raises_value_error(params, analytic, match):
    with pytest.raises(ValueError, match=match):
        gradcheck(lambda p: 0.0, params, analytic)


@pytest.mark.parametrize("kw", [{"eps": 0.0}, {"eps": -1e-6}, {"tol": 0}, {"floor": -1.0}, {"eps": "1e-6"}])
def test_bad_settings_raise_value_error(kw):
    p = {"x": np.ones(2)}
    with pytest.raises(ValueError, match="positive"):
        gradcheck(lambda q: float(q["x"].sum()), p, {"x": np.ones(2)}, **kw)


def test_non_scalar_or_nan_loss_raises_value_error():
    p = {"x": np.ones(2)}
    with pytest.raises(ValueError, match="scalar"):
        gradcheck(lambda q: q["x"], p, {"x": np.ones(2)})
    with pytest.raises(ValueError, match="NaN"):
        gradcheck(lambda q: float("nan"), p, {"x": np.ones(2)})
    with pytest.raises(ValueError, match="number"):
        gradcheck(lambda q: "loss", p, {"x": np.ones(2)})


def test_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="no parameter"):
        numerical_gradient(lambda q: 0.0, {"x": np.ones(1)}, "y")


def test_relative_error_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.zeros(2), np.zeros(3))
