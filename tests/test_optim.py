"""course_lib.optim against torch.optim and tf.keras.optimizers, step for step in float64.

Every optimizer runs >= 100 steps on the same deterministic problem (the gradient depends on the
current parameters, so any difference compounds) and the whole trajectory is compared.
PyTorch is matched with ``variant="torch"`` (the default), Keras with ``variant="keras"`` and
Keras' own hyperparameter values; where the two frameworks differ the tests show that they do.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import inspect

import numpy as np
import pytest

from course_lib import optim

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = tf.keras

STEPS = 100
RTOL, ATOL = 1e-10, 1e-12
SHAPES = [(3, 4), (4,)]


def init_params() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=s) for s in SHAPES]


def grad_fn(ps: list[np.ndarray]) -> list[np.ndarray]:
    """A gradient that depends on the parameters (a stiff quadratic plus a wiggle) and changes sign."""
    out = []
    for k, p in enumerate(ps):
        scale = np.linspace(0.1, 10.0, p.size).reshape(p.shape)  # ill-conditioned: 0.1 .. 10
        out.append(scale * (p - 0.5 * k) + 0.3 * np.sin(3 * p))
    return out


def run_ours(make, lrs=None) -> np.ndarray:
    ps = init_params()
    opt = make(ps)
    traj = []
    for t in range(STEPS):
        if lrs is not None:
            opt.lr = lrs[t]
        opt.step(grad_fn(ps))
        traj.append(np.concatenate([p.ravel() for p in ps]))
    return np.array(traj)


def run_torch(make, lrs=None) -> np.ndarray:
    ps = [torch.tensor(p, requires_grad=True) for p in init_params()]
    opt = make(ps)
    traj = []
    for t in range(STEPS):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[t]
        for p, g in zip(ps, grad_fn([p.detach().numpy() for p in ps])):
            p.grad = torch.from_numpy(g)
        opt.step()
        traj.append(np.concatenate([p.detach().numpy().ravel() for p in ps]))
    return np.array(traj)


def run_keras(make, lrs=None) -> np.ndarray:
    # Keras keeps the learning rate in a variable of dtype floatx(): float64 here, so that a
    # learning rate such as 0.01 is not rounded to float32 (which alone gives ~1e-8 differences).
    floatx = keras.backend.floatx()
    keras.backend.set_floatx("float64")
    try:
        vs = [tf.Variable(p) for p in init_params()]  # float64 variables
        opt = make()

        @tf.function(autograph=False)  # traced once: ~2x faster than eager steps
        def apply(grads):
            opt.apply_gradients(zip(grads, vs))

        traj = []
        for t in range(STEPS):
            if lrs is not None:
                opt.learning_rate = lrs[t]  # assigns the (float64) learning-rate variable
            apply([tf.constant(g) for g in grad_fn([v.numpy() for v in vs])])
            traj.append(np.concatenate([v.numpy().ravel() for v in vs]))
    finally:
        keras.backend.set_floatx(floatx)
    return np.array(traj)


TORCH_CASES = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.01), lambda ps: torch.optim.SGD(ps, lr=0.01)),
    "sgd_momentum_dampening_wd": (
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9, dampening=0.2, weight_decay=0.05),
        lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, dampening=0.2, weight_decay=0.05),
    ),
    "sgd_nesterov": (
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
    ),
    "adagrad": (lambda ps: optim.Adagrad(ps, lr=0.1), lambda ps: torch.optim.Adagrad(ps, lr=0.1)),
    "adagrad_all": (
        lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6),
        lambda ps: torch.optim.Adagrad(
            ps, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6
        ),
    ),
    "rmsprop": (lambda ps: optim.RMSprop(ps, lr=0.01), lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
    "rmsprop_centered_momentum_wd": (
        lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
    ),
    "adam": (lambda ps: optim.Adam(ps, lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05)),
    "adam_amsgrad_l2": (
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1, amsgrad=True),
        lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1, amsgrad=True),
    ),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.05), lambda ps: torch.optim.AdamW(ps, lr=0.05)),
    "adamw_amsgrad": (
        lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.3, amsgrad=True),
        lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.3, amsgrad=True),
    ),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_matches_torch_step_for_step(case):
    ours, theirs = TORCH_CASES[case]
    np.testing.assert_allclose(run_ours(ours), run_torch(theirs), rtol=RTOL, atol=ATOL)


def test_defaults_are_torchs():
    import inspect

    for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW"):
        ours = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for p, par in ours.items():
            if p in ("params", "variant"):
                continue
            assert p in theirs, f"{name}: torch has no argument {p}"
            want = theirs[p].default
            if isinstance(want, torch.Tensor):
                want = want.item()
            assert par.default == want, f"{name}.{p}: ours {par.default!r}, torch {want!r}"


# Keras turns Python-float hyperparameters into float32 tensors before casting them to the
# variable's dtype (ops.cast(0.9, "float64") gives 0.8999999762), so in float64 its momentum,
# betas, rho, weight decay and initial accumulator carry float32 rounding. The comparison uses
# values that float32 represents exactly (0.875, 1 - 2**-10, 0.0625, 0.125); with Keras' defaults
# our variant agrees only to ~1e-6, the size of that rounding.
B2 = 1 - 2**-10  # 0.9990234375, close to the default 0.999
KERAS_CASES = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.01, variant="keras"), lambda: keras.optimizers.SGD(learning_rate=0.01)),
    "sgd_momentum": (
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.875, variant="keras"),
        lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.875),
    ),
    "sgd_nesterov_decay": (
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.875, nesterov=True, weight_decay=0.0625, variant="keras"),
        lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.875, nesterov=True, weight_decay=0.0625),
    ),
    "adagrad": (
        lambda ps: optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.125, eps=1e-7, variant="keras"),
        lambda: keras.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.125),
    ),
    "rmsprop": (
        lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.875, eps=1e-7, variant="keras"),
        lambda: keras.optimizers.RMSprop(learning_rate=0.01, rho=0.875),
    ),
    "rmsprop_centered_momentum": (
        lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.875, eps=1e-5, momentum=0.5, centered=True, variant="keras"),
        lambda: keras.optimizers.RMSprop(learning_rate=0.01, rho=0.875, epsilon=1e-5, momentum=0.5, centered=True),
    ),
    "adam": (
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.875, B2), eps=1e-7, variant="keras"),
        lambda: keras.optimizers.Adam(learning_rate=0.05, beta_1=0.875, beta_2=B2),
    ),
    "adam_amsgrad": (
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.75, 0.984375), eps=1e-3, amsgrad=True, variant="keras"),
        lambda: keras.optimizers.Adam(learning_rate=0.05, beta_1=0.75, beta_2=0.984375, epsilon=1e-3, amsgrad=True),
    ),
    "adamw": (
        lambda ps: optim.AdamW(ps, lr=0.05, betas=(0.875, B2), eps=1e-7, weight_decay=0.0625, variant="keras"),
        lambda: keras.optimizers.AdamW(learning_rate=0.05, beta_1=0.875, beta_2=B2, weight_decay=0.0625),
    ),
    "adam_weight_decay_is_decoupled": (
        lambda ps: optim.AdamW(ps, lr=0.05, betas=(0.875, B2), eps=1e-7, weight_decay=0.125, variant="keras"),
        lambda: keras.optimizers.Adam(learning_rate=0.05, beta_1=0.875, beta_2=B2, weight_decay=0.125),
    ),
}


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_matches_keras_step_for_step(case):
    ours, theirs = KERAS_CASES[case]
    np.testing.assert_allclose(run_ours(ours), run_keras(theirs), rtol=RTOL, atol=ATOL)


LRS = [0.02 * (0.97**t) for t in range(STEPS)]  # a changing learning rate (exponential decay)


@pytest.mark.parametrize("kind", ["sgd_momentum", "rmsprop_momentum"])
def test_changing_lr_separates_torch_and_keras_momentum(kind):
    """With a schedule, PyTorch (lr outside the velocity) and Keras (lr inside) differ; each is matched."""
    if kind == "sgd_momentum":
        ours = lambda v: lambda ps: optim.SGD(ps, lr=0.02, momentum=0.875, variant=v)  # noqa: E731
        t_make = lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.875)  # noqa: E731
        k_make = lambda: keras.optimizers.SGD(learning_rate=0.02, momentum=0.875)  # noqa: E731
    else:
        ours = lambda v: (
            lambda ps: optim.RMSprop(
                ps,
                lr=0.02,
                alpha=0.875,
                eps=1e-7,
                momentum=0.875,  # noqa: E731
                variant=v,
            )
        )
        t_make = lambda ps: torch.optim.RMSprop(ps, lr=0.02, alpha=0.875, eps=1e-7, momentum=0.875)  # noqa: E731
        k_make = lambda: keras.optimizers.RMSprop(learning_rate=0.02, rho=0.875, momentum=0.875)  # noqa: E731
    ours_t, ours_k = run_ours(ours("torch"), LRS), run_ours(ours("keras"), LRS)
    np.testing.assert_allclose(ours_t, run_torch(t_make, LRS), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_k, run_keras(k_make, LRS), rtol=RTOL, atol=ATOL)
    assert np.max(np.abs(ours_t - ours_k)) > 1e-4


def test_frameworks_differ_where_documented():
    """Same hyperparameters, different formulas: eps placement in Adam and Adagrad's accumulator."""
    adam = {v: run_ours(lambda ps, v=v: optim.Adam(ps, lr=0.05, eps=1e-2, variant=v)) for v in optim.VARIANTS}
    assert np.max(np.abs(adam["torch"] - adam["keras"])) > 1e-4
    torch_default = run_ours(lambda ps: optim.Adagrad(ps, lr=0.1))
    keras_default = run_keras(lambda: keras.optimizers.Adagrad(learning_rate=0.1))
    assert np.max(np.abs(torch_default - keras_default)) > 1e-3


def test_updates_in_place_and_lr_attribute():
    W = np.ones((2, 2))
    opt = optim.SGD([W], lr=0.5)
    opt.step([np.ones((2, 2))])
    np.testing.assert_allclose(W, 0.5)
    opt.lr = 0.25
    opt.step([np.ones((2, 2))])
    np.testing.assert_allclose(W, 0.25)
    assert opt.t == 2 and "SGD" in repr(opt)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), "lr must be a non-negative number"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), "momentum must be a non-negative number"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, variant="keras"), "no dampening"),
        (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), r"betas\[1\] must be a finite number >= 0 and < 1"),
        (lambda ps: optim.Adam(ps, betas=(-0.1, 0.999)), r"betas\[0\] must be a finite number >= 0"),
        (lambda ps: optim.Adam(ps, betas=0.9), "betas must be a pair"),
        (lambda ps: optim.AdamW(ps, eps=-1e-8), "eps must be a non-negative number"),
        (lambda ps: optim.Adagrad(ps, lr_decay=-1), "lr_decay must be a non-negative number"),
        (lambda ps: optim.RMSprop(ps, alpha=1.5), "alpha must be a finite number >= 0 and <= 1"),
        (
            lambda ps: optim.RMSprop(ps, weight_decay=float("nan")),
            "weight_decay must be a non-negative number, got nan",
        ),
        (lambda ps: optim.Adam(ps, lr="0.1"), "lr must be a non-negative number, got '0.1'"),
        (lambda ps: optim.Adam(ps, variant="jax"), "variant must be one of"),
        (lambda ps: optim.Adam(ps[0]), "params must be a list of NumPy arrays"),
        (lambda ps: optim.Adam([]), "params is an empty list"),
        (lambda ps: optim.Adam([[1.0, 2.0]]), "must be a NumPy array"),
        (lambda ps: optim.Adam([np.arange(3)]), "in-place updates need a float array"),
    ],
)
def test_bad_hyperparameters_raise_helpful_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make(init_params())


def test_bad_grads_raise_helpful_errors():
    ps = init_params()
    opt = optim.Adam(ps)
    with pytest.raises(ValueError, match="got 1 gradients for 2 parameters"):
        opt.step([np.zeros((3, 4))])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(4, 3\) but params\[0\] has shape \(3, 4\)"):
        opt.step([np.zeros((4, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match="one gradient array per parameter"):
        opt.step(np.zeros(4))
    with pytest.raises(ValueError, match="lr must be a non-negative number"):
        opt.lr = -1.0
    assert opt.t == 0, "a rejected step must not count"


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_repr_lists_every_constructor_hyperparameter_with_its_value(cls):
    opt = cls([np.zeros(3)], lr=0.125)
    text = repr(opt)
    assert text.startswith(f"{cls.__name__}(1 arrays, lr=0.125,")
    for name in inspect.signature(cls.__init__).parameters:
        if name not in ("self", "params"):
            assert f"{name}={getattr(opt, name)!r}" in text
