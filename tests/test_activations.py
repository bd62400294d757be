"""Tests for course_lib.activations, the one home of sigmoid, softplus and the other activations.

Their values and derivatives are checked against PyTorch and TensorFlow in tests/test_layers.py
(``layers`` re-exports them); here: the properties the other modules rely on, and the layering
of the library (a chapter's module never imports a later chapter's).
"""

import subprocess
import sys

import numpy as np
import pytest

from course_lib import activations, layers, losses, mlp

Z = np.concatenate([np.linspace(-50, 50, 2001), [-1e4, -745.0, 0.0, 745.0, 1e4]])


def test_sigmoid_is_stable_and_matches_the_textbook_formula_where_that_is_finite():
    s = activations.sigmoid(Z)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    small = np.abs(Z) < 30
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(s[small], 1 / (1 + np.exp(-Z[small])), rtol=1e-12, atol=0)
    np.testing.assert_allclose(activations.sigmoid(Z) + activations.sigmoid(-Z), 1.0, rtol=0, atol=1e-15)
    assert activations.sigmoid(-40.0) == pytest.approx(np.exp(-40.0), rel=1e-12)  # no cancellation in the left tail


def test_softplus_is_log1p_exp_without_overflow():
    sp = activations.softplus(Z)
    assert np.all(np.isfinite(sp))
    np.testing.assert_allclose(sp, np.logaddexp(0.0, Z), rtol=1e-12, atol=1e-300)
    assert activations.softplus(1e4) == 1e4


def test_one_home_every_module_uses_the_same_functions():
    assert losses.sigmoid is activations.sigmoid
    assert layers.sigmoid is activations.sigmoid and layers.sigmoid_grad is activations.sigmoid_grad
    assert layers.activation is activations.activation and layers.ACTIVATIONS is activations.ACTIVATIONS


def test_float_dtype_is_kept_and_integers_become_float64():
    assert activations.sigmoid(np.zeros(3, np.float32)).dtype == np.float32
    assert activations.relu(np.arange(3)).dtype == np.float64
    with pytest.raises(ValueError, match="numeric"):
        activations.sigmoid(np.array(["a"]))
    with pytest.raises(ValueError, match="negative_slope must be a non-negative number"):
        activations.leaky_relu(Z, negative_slope=-0.1)


def test_mlp_probabilities_and_loss_use_the_stable_primitives():
    rng = np.random.default_rng(0)
    params = mlp.init_params(2, 4, seed=0)
    params["W2"] *= 1e3  # logits of order 1e3: exp(-z) would overflow without the stable forms
    X, y = rng.normal(size=(50, 2)), rng.integers(0, 2, 50)
    cache = mlp.forward(params, X)
    z = cache["z2"][:, 0]
    np.testing.assert_array_equal(cache["p"], activations.sigmoid(z))
    assert mlp.loss(params, X, y) == pytest.approx(np.mean(np.logaddexp(0.0, z) - y * z), rel=1e-12)


def test_earlier_chapters_modules_do_not_import_later_chapters_modules():
    code = (
        "import sys, course_lib.mlp, course_lib.activations, course_lib.losses; "
        "print(sorted(m for m in sys.modules if m.startswith('course_lib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout
    for later in ("course_lib.layers", "course_lib.init", "course_lib.optim"):
        assert f"'{later}'" not in loaded, f"chapter 2/4 modules import {later} (chapter 5/6): {loaded}"
