"""The chapter 14 checkers: the reference passes; typical wrong answers fail with a specific hint;
None, raising, wrongly shaped and stub answers never crash."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check


def ring_cost(p, n, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * n * beta


def shard(n, rank, world_size, drop_last=False):
    idx = list(range(n))
    if drop_last:
        idx = idx[: n // world_size * world_size]
    else:
        total = -(-n // world_size) * world_size
        idx = (idx * (total // max(n, 1) + 1))[:total]
    return idx[rank::world_size]


def scaled_lr(t, base_lr, base_batch, batch, warmup_steps):
    k = batch / base_batch
    return base_lr * (1 + (k - 1) * min(t, warmup_steps) / warmup_steps)


def shard_mean_gradient(X, y, w, p):
    grads = [Xs.T @ (Xs @ w - ys) / len(Xs) for Xs, ys in zip(np.split(X, p), np.split(y, p))]
    return np.mean(grads, axis=0)


def replica_loss(per_example_losses, global_batch_size):
    return np.sum(per_example_losses) / global_batch_size


def tf_config(addresses, index):
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def stub(*args, **kwargs):
    raise NotImplementedError()


def crash(*args, **kwargs):
    raise ZeroDivisionError("oops")


REFERENCES = {
    "ch14.ring_cost": ring_cost,
    "ch14.shard": shard,
    "ch14.scaled_lr": scaled_lr,
    "ch14.shard_mean_gradient": shard_mean_gradient,
    "ch14.replica_loss": replica_loss,
    "ch14.tf_config": tf_config,
}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_reference_passes(name):
    result = check(name, REFERENCES[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize(
    "answer",
    [
        lambda *a, **k: None,
        crash,
        lambda *a, **k: np.nan,
        lambda *a, **k: "x",
        lambda *a, **k: np.zeros((2, 2)),
        lambda *a, **k: 2.5,
        lambda *a, **k: [0.5, "a"],
        None,
        42,
    ],
)
def test_bad_answers_fail_without_crashing(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    assert result.message


@pytest.mark.parametrize("name", list(REFERENCES))
def test_stub_is_not_attempted(name):
    assert check(name, stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda p, n, a, b: 2 * (p - 1) * (a + n * b), "naive"),
        (lambda p, n, a, b: (p - 1) * a + (p - 1) / p * n * b, "reduce-scatter half"),
        (lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) * n * b, "n/p bytes"),
        (lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) / p * n / b, "1 / bandwidth"),
    ],
)
def test_ring_cost_hints(answer, hint):
    result = check("ch14.ring_cost", answer)
    assert result.status == FAILED and hint in result.message, result.message


def test_shard_hints():
    def contiguous(n, rank, world_size, drop_last=False):
        size = -(-n // world_size)
        return [i % n for i in range(rank * size, (rank + 1) * size)]

    def no_padding(n, rank, world_size, drop_last=False):
        return list(range(n))[rank::world_size]

    for answer, hint in ((contiguous, "interleaves"), (no_padding, "same number")):
        result = check("ch14.shard", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_scaled_lr_hints():
    no_warmup = lambda t, lr, b0, b, w: lr * b / b0
    from_zero = lambda t, lr, b0, b, w: lr * b / b0 * min(t, w) / w
    for answer, hint in ((no_warmup, "without the warm-up"), (from_zero, "not from 0")):
        result = check("ch14.scaled_lr", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_shard_mean_gradient_hints():
    summed = lambda X, y, w, p: p * shard_mean_gradient(X, y, w, p)
    doubled = lambda X, y, w, p: 2 * shard_mean_gradient(X, y, w, p)
    for answer, hint in ((summed, "average"), (doubled, "no factor 2")):
        result = check("ch14.shard_mean_gradient", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_replica_loss_hints():
    result = check("ch14.replica_loss", lambda losses, gb: np.mean(losses))
    assert result.status == FAILED and "times too large" in result.message, result.message


def test_tf_config_hints():
    import json

    as_json = lambda a, i: json.dumps(tf_config(a, i))
    assert check("ch14.tf_config", as_json).status == PASSED
    wrong_index = lambda a, i: tf_config(a, 0)
    result = check("ch14.tf_config", wrong_index)
    assert result.status == FAILED and "index" in result.message, result.message
    result = check(
        "ch14.tf_config", lambda a, i: {"cluster": {"worker": a[:1]}, "task": {"type": "worker", "index": i}}
    )
    assert result.status == FAILED and "every worker" in result.message, result.message
