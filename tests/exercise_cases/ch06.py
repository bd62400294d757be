"""Chapter 6 exercise answers (6a-6c): references, and wrong answers with their hint."""

import math

import keras
import numpy as np
import torch


# -- reference solutions -------------------------------------------------------------------------
def leaky_relu_gain(a):
    return math.sqrt(2.0 / (1.0 + a * a))


def uniform_bounds(fan_in, fan_out):
    return math.sqrt(6.0 / (fan_in + fan_out)), math.sqrt(6.0 / fan_in)


def gelu_grad(x):
    x = torch.as_tensor(np.asarray(x, dtype=np.float64)).requires_grad_()
    torch.nn.functional.gelu(x).sum().backward()  # an independent reference: PyTorch's autograd
    return x.grad.numpy()


def dropout_forward(x, u, rate):
    return np.where(u >= rate, x / (1.0 - rate), 0.0)


def bn_running_update(running_mean, running_var, batch, momentum):
    """PyTorch's convention: momentum weights the new batch statistic; the variance is unbiased."""
    n = batch.shape[0]
    mean, var = batch.mean(axis=0), batch.var(axis=0) * n / (n - 1)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def early_stopping(val_losses, patience):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1


def random_search_hit(n_trials, fraction):
    return 1.0 - (1.0 - fraction) ** n_trials


def pick_and_report(val_scores, test_scores):
    i = int(np.argmax(val_scores))
    return i, test_scores[i]


def step_learning_rates(initial_lr, epochs, steps_per_epoch, recompile):
    # an independent reference: Keras's own CosineDecay, evaluated at the optimizer's step counter
    schedule = keras.optimizers.schedules.CosineDecay(initial_lr, decay_steps=epochs * steps_per_epoch)
    steps = np.arange(epochs * steps_per_epoch)
    counter = steps % steps_per_epoch if recompile else steps
    return np.array([float(schedule(int(t))) for t in counter])


PASS = [
    ("ch06.leaky_relu_gain", leaky_relu_gain),
    ("ch06.uniform_bounds", uniform_bounds),
    ("ch06.gelu_grad", gelu_grad),
    ("ch06.dropout_forward", dropout_forward),
    ("ch06.bn_running_update", bn_running_update),
    ("ch06.early_stopping", early_stopping),
    ("ch06.random_search_hit", random_search_hit),
    ("ch06.pick_and_report", pick_and_report),
    ("ch06.step_learning_rates", step_learning_rates),
]

FAIL = [
    ("ch06.leaky_relu_gain", lambda a: 2.0 / (1.0 + a * a), "square root"),
    ("ch06.uniform_bounds", lambda i, o: (math.sqrt(2 / (i + o)), math.sqrt(2 / i)), "standard deviation"),
    ("ch06.uniform_bounds", lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(6 / o)), "fan_out"),
    ("ch06.uniform_bounds", lambda i, o: (math.sqrt(3 / i), math.sqrt(6 / i)), "averages"),
    ("ch06.gelu_grad", lambda x: 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x) / math.sqrt(2))), "product rule"),
    (
        "ch06.gelu_grad",
        lambda x: (
            gelu_grad(x)
            - np.asarray(x) * np.exp(-(np.asarray(x) ** 2) / 2) / math.sqrt(2 * math.pi)
            + np.asarray(x) * np.exp(-(np.asarray(x) ** 2) / 2)
        ),
        "normalizing constant",
    ),
    ("ch06.dropout_forward", lambda x, u, rate: np.where(u >= rate, x, 0.0), "rescale"),
    (
        "ch06.bn_running_update",
        lambda rm, rv, b, m: ((1 - m) * rm + m * b.mean(0), (1 - m) * rv + m * b.var(0)),
        "biased",
    ),
    (
        "ch06.bn_running_update",
        lambda rm, rv, b, m: (m * rm + (1 - m) * b.mean(0), m * rv + (1 - m) * b.var(0) * len(b) / (len(b) - 1)),
        "Keras's convention",
    ),
    ("ch06.early_stopping", lambda losses, patience: (int(np.argmin(losses)), len(losses) - 1), "expected"),
    ("ch06.random_search_hit", lambda n, f: f**n, "all"),
    ("ch06.pick_and_report", lambda v, t: (int(np.argmax(t)), max(t)), "test set"),
    ("ch06.pick_and_report", lambda v, t: (int(np.argmax(v)), max(v)), "validation"),
    ("ch06.pick_and_report", lambda v, t: (int(np.argmax(v)), max(t)), "even if another"),
    ("ch06.step_learning_rates", lambda lr, e, s, r: step_learning_rates(lr, e, s, False), "restarts"),
    (
        "ch06.step_learning_rates",  # restarts, but with a one-epoch cosine: decay_steps wrongly shortened
        lambda lr, e, s, r: (
            step_learning_rates(lr, 1, s, False).tolist() * e if r else step_learning_rates(lr, e, s, False)
        ),
        "decay_steps is still",
    ),
    (
        "ch06.step_learning_rates",
        lambda lr, e, s, r: (
            lr
            * 0.5
            * (1 + np.cos(np.pi * np.minimum((np.arange(e * s) % s if r else np.arange(e * s)) + 1, e * s) / (e * s)))
        ),
        "off by one",
    ),
]
