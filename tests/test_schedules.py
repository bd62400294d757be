"""course_lib.schedules against torch.optim.lr_scheduler and keras.optimizers.schedules."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from course_lib import schedules

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = tf.keras

T = 60
RTOL = 1e-6  # Keras evaluates its schedules in float32


def torch_lrs(make_sched, lr0=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_sched(opt)
    out = []
    for _ in range(T):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def keras_lrs(sched):
    return np.array([float(sched(t)) for t in range(T)])


def ours(fn, **kw):
    return np.array([fn(t, **kw) for t in range(T)])


def test_step_decay():
    want_t = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=20, gamma=0.5))
    want_k = keras_lrs(keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.5, staircase=True))
    got = ours(schedules.step_decay, lr0=0.1, step_size=20, gamma=0.5)
    np.testing.assert_allclose(got, want_t, rtol=1e-12)
    np.testing.assert_allclose(got, want_k, rtol=RTOL)


def test_cosine():
    want_t = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50, eta_min=0.01))
    want_k = keras_lrs(keras.optimizers.schedules.CosineDecay(0.1, decay_steps=50, alpha=0.1))
    got = ours(schedules.cosine, lr0=0.1, total_steps=50, lr_min=0.01)
    np.testing.assert_allclose(got[:51], want_t[:51], rtol=1e-10)  # torch's recursion leaves T_max
    np.testing.assert_allclose(got, want_k, rtol=RTOL)


def test_warmup():
    want_t = torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=10))
    got = ours(schedules.linear_warmup, lr0=0.1, warmup_steps=10, start_factor=0.25)
    np.testing.assert_allclose(got, want_t, rtol=1e-12)


def test_warmup_cosine():
    want_k = keras_lrs(
        keras.optimizers.schedules.CosineDecay(0.0, decay_steps=40, warmup_target=0.1, warmup_steps=10, alpha=0.0)
    )
    got = ours(schedules.warmup_cosine, lr0=0.1, warmup_steps=10, total_steps=50)
    np.testing.assert_allclose(got, want_k, rtol=RTOL, atol=1e-8)  # float32 near 0


def test_exponential_ramp():
    got = ours(schedules.exponential_ramp, lr_start=1e-5, lr_end=1.0, num_steps=T)
    np.testing.assert_allclose(got[[0, -1]], [1e-5, 1.0])
    np.testing.assert_allclose(np.diff(np.log(got)), np.log(1e5) / (T - 1))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: schedules.step_decay(-1, 0.1, 10), "non-negative integer"),
        (lambda: schedules.step_decay(1.5, 0.1, 10), "non-negative integer"),
        (lambda: schedules.step_decay(1, -0.1, 10), "lr0 must be a positive number"),
        (lambda: schedules.step_decay(1, 0.1, 0), "step_size must be a positive integer"),
        (lambda: schedules.cosine(1, 0.1, 10, lr_min=0.5), "must not exceed lr0"),
        (lambda: schedules.linear_warmup(1, 0.1, 10, start_factor=2), "start_factor must be in"),
        (lambda: schedules.warmup_cosine(1, 0.1, 10, 10), "larger than warmup_steps"),
        (lambda: schedules.exponential_ramp(1, 1e-5, 1.0, 1), "at least 2"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
