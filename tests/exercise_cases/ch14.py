"""Chapter 14 exercise answers (14a-14b): references, and wrong answers with their hint."""

import json

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
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


def tf_config_as_json(addresses, index):
    """TF_CONFIG is read from the environment as a JSON string: returning the string is right too."""
    return json.dumps(tf_config(addresses, index))


# -- typical wrong answers -----------------------------------------------------------------------
def _shard_contiguous(n, rank, world_size, drop_last=False):
    size = -(-n // world_size)
    return [i % n for i in range(rank * size, (rank + 1) * size)]


def _shard_no_padding(n, rank, world_size, drop_last=False):
    return list(range(n))[rank::world_size]


def _tf_config_one_worker(addresses, index):
    return {"cluster": {"worker": addresses[:1]}, "task": {"type": "worker", "index": index}}


PASS = [
    ("ch14.ring_cost", ring_cost),
    ("ch14.shard", shard),
    ("ch14.scaled_lr", scaled_lr),
    ("ch14.shard_mean_gradient", shard_mean_gradient),
    ("ch14.replica_loss", replica_loss),
    ("ch14.tf_config", tf_config),
    ("ch14.tf_config", tf_config_as_json),
]

FAIL = [
    ("ch14.ring_cost", lambda p, n, a, b: 2 * (p - 1) * (a + n * b), "naive"),
    ("ch14.ring_cost", lambda p, n, a, b: (p - 1) * a + (p - 1) / p * n * b, "reduce-scatter half"),
    ("ch14.ring_cost", lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) * n * b, "n/p bytes"),
    ("ch14.ring_cost", lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) / p * n / b, "1 / bandwidth"),
    ("ch14.shard", _shard_contiguous, "interleaves"),
    ("ch14.shard", _shard_no_padding, "same number"),
    ("ch14.scaled_lr", lambda t, lr, b0, b, w: lr * b / b0, "without the warm-up"),
    ("ch14.scaled_lr", lambda t, lr, b0, b, w: lr * b / b0 * min(t, w) / w, "not from 0"),
    ("ch14.shard_mean_gradient", lambda X, y, w, p: p * shard_mean_gradient(X, y, w, p), "average"),
    ("ch14.shard_mean_gradient", lambda X, y, w, p: 2 * shard_mean_gradient(X, y, w, p), "no factor 2"),
    ("ch14.replica_loss", lambda losses, gb: np.mean(losses), "times too large"),
    ("ch14.tf_config", lambda a, i: tf_config(a, 0), "index"),
    ("ch14.tf_config", _tf_config_one_worker, "every worker"),
]
