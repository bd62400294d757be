"""Tests for course_lib.init: distribution statistics and bounds against torch.nn.init and Keras."""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import scipy.stats
import torch

from course_lib import init

FAN_IN, FAN_OUT = 300, 500  # 150,000 samples: sample std within ~0.5 % of the target


def _torch(fn, **kw):
    torch.manual_seed(0)
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)  # nn.Linear layout (out, in)
    fn(w, **kw)
    return w.numpy().T  # -> (in, out)


def _keras(initializer):
    return np.asarray(initializer(shape=(FAN_IN, FAN_OUT)), dtype=np.float64)  # Dense kernel (in, out)


def _assert_same_distribution(ours, *refs, std, bound=None, uniform=False):
    assert ours.shape == (FAN_IN, FAN_OUT)
    for w in (ours, *refs):
        assert w.shape == (FAN_IN, FAN_OUT)
        assert abs(w.mean()) < 0.02 * std
        np.testing.assert_allclose(w.std(), std, rtol=0.02)
        if bound is not None:
            assert np.abs(w).max() <= bound * (1 + 1e-6)
            if uniform:  # a uniform sample comes close to its bound
                assert np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(ours.std(), refs[0].std(), rtol=0.02)


def test_zeros():
    np.testing.assert_array_equal(init.zeros(3, 2), np.zeros((3, 2)))
    np.testing.assert_array_equal(_torch(torch.nn.init.zeros_), init.zeros(FAN_IN, FAN_OUT))
    np.testing.assert_array_equal(_keras(keras.initializers.Zeros()), init.zeros(FAN_IN, FAN_OUT))


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_matches_torch_and_keras(gain):
    std = gain * math.sqrt(2 / (FAN_IN + FAN_OUT))
    bound = gain * math.sqrt(6 / (FAN_IN + FAN_OUT))
    refs = [_torch(torch.nn.init.xavier_uniform_, gain=gain)]
    if gain == 1.0:
        refs.append(_keras(keras.initializers.GlorotUniform(seed=0)))
    ours = init.xavier_uniform(FAN_IN, FAN_OUT, gain=gain, rng=0)
    _assert_same_distribution(ours, *refs, std=std, bound=bound, uniform=True)


def test_xavier_normal_matches_torch_plain_and_keras_truncated():
    std = math.sqrt(2 / (FAN_IN + FAN_OUT))
    _assert_same_distribution(init.xavier_normal(FAN_IN, FAN_OUT, rng=0), _torch(torch.nn.init.xavier_normal_), std=std)
    bound = 2 * std / init.TRUNCATED_STD
    _assert_same_distribution(
        init.xavier_normal(FAN_IN, FAN_OUT, rng=0, truncated=True),
        _keras(keras.initializers.GlorotNormal(seed=0)),
        std=std,
        bound=bound,
    )
    # torch's plain normal goes beyond the truncation bound; Keras's does not
    assert np.abs(_torch(torch.nn.init.xavier_normal_)).max() > bound


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_uniform_matches_torch_and_keras(mode):
    fan = FAN_IN if mode == "fan_in" else FAN_OUT
    bound = math.sqrt(6 / fan)
    refs = [_torch(torch.nn.init.kaiming_uniform_, mode=mode, nonlinearity="relu")]
    if mode == "fan_in":
        refs.append(_keras(keras.initializers.HeUniform(seed=0)))
    _assert_same_distribution(
        init.he_uniform(FAN_IN, FAN_OUT, mode=mode, rng=0), *refs, std=math.sqrt(2 / fan), bound=bound, uniform=True
    )


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_normal_matches_torch_plain_and_keras_truncated(mode):
    fan = FAN_IN if mode == "fan_in" else FAN_OUT
    std = math.sqrt(2 / fan)
    _assert_same_distribution(
        init.he_normal(FAN_IN, FAN_OUT, mode=mode, rng=0),
        _torch(torch.nn.init.kaiming_normal_, mode=mode, nonlinearity="relu"),
        std=std,
    )
    if mode == "fan_in":
        _assert_same_distribution(
            init.he_normal(FAN_IN, FAN_OUT, rng=0, truncated=True),
            _keras(keras.initializers.HeNormal(seed=0)),
            std=std,
            bound=2 * std / init.TRUNCATED_STD,
        )


def test_calculate_gain_matches_torch():
    for name in ("linear", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for a in (None, 0.2):
        assert init.calculate_gain("leaky_relu", a) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", a))


def test_seeded_rng_is_reproducible_and_aliases():
    np.testing.assert_array_equal(init.he_normal(4, 3, rng=7), init.he_normal(4, 3, rng=7))
    g = np.random.default_rng(7)
    assert not np.array_equal(init.xavier_uniform(4, 3, rng=g), init.xavier_uniform(4, 3, rng=g))
    assert init.glorot_uniform is init.xavier_uniform and init.kaiming_normal is init.he_normal


def test_errors():
    with pytest.raises(ValueError, match="fan_in"):
        init.xavier_uniform(0, 3)
    with pytest.raises(ValueError, match="fan_out"):
        init.he_normal(3, 2.5)
    with pytest.raises(ValueError, match="gain"):
        init.xavier_normal(3, 3, gain=-1)
    with pytest.raises(ValueError, match="mode"):
        init.he_uniform(3, 3, mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="rng"):
        init.he_normal(3, 3, rng="zero")
    with pytest.raises(ValueError, match="std"):
        init.truncated_normal((2,), std=-1.0)


def _ks_pvalue(w, dist):
    return scipy.stats.kstest(np.ravel(w), dist.cdf).pvalue


@pytest.mark.parametrize("truncated", [False, True])
def test_normal_initializers_have_the_intended_distribution(truncated):
    # The std alone cannot tell a plain normal from a truncated one: a Kolmogorov-Smirnov test can.
    std = math.sqrt(2 / FAN_IN)
    plain, trunc = scipy.stats.norm(scale=std), scipy.stats.truncnorm(-2, 2, scale=std / init.TRUNCATED_STD)
    w = init.he_normal(FAN_IN, FAN_OUT, rng=0, truncated=truncated)
    assert _ks_pvalue(w, trunc if truncated else plain) > 1e-3
    assert _ks_pvalue(w, plain if truncated else trunc) < 1e-6  # and it rejects the other one
    if truncated:
        assert np.abs(w).max() <= 2 * std / init.TRUNCATED_STD
        assert _ks_pvalue(_keras(keras.initializers.HeNormal(seed=0)), trunc) > 1e-3
    else:
        assert _ks_pvalue(_torch(torch.nn.init.kaiming_normal_, nonlinearity="relu"), plain) > 1e-3


def test_uniform_initializers_have_the_intended_distribution():
    a = math.sqrt(6 / (FAN_IN + FAN_OUT))
    uniform = scipy.stats.uniform(loc=-a, scale=2 * a)
    for w in (
        init.xavier_uniform(FAN_IN, FAN_OUT, rng=0),
        _torch(torch.nn.init.xavier_uniform_),
        _keras(keras.initializers.GlorotUniform(seed=0)),
    ):
        assert _ks_pvalue(w, uniform) > 1e-3
    # a normal with the same std is rejected
    assert _ks_pvalue(init.xavier_normal(FAN_IN, FAN_OUT, rng=0), uniform) < 1e-6


def test_truncated_normal_respects_its_bound_and_std():
    w = init.truncated_normal((200_000,), std=0.5, rng=3)
    assert np.abs(w).max() <= 2 * 0.5 / init.TRUNCATED_STD
    np.testing.assert_allclose(w.std(), 0.5, rtol=0.01)
