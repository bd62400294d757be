"""Checkers for chapter 14, "Distributed training" (chapters/14a_*, 14b_*).

References come from :mod:`course_lib.distributed` (the ring cost model, DistributedSampler's
sharding) and :mod:`course_lib.schedules` (the warm-up of chapter 5); each checker recognises
the typical wrong answers and says what to change.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import distributed, schedules
from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy


def _as_float(x: Any, what: str) -> float:
    arr = to_numpy(x, what)
    if arr.size != 1:
        raise CheckFailed(f"{what} should be a single number, got an array of shape {arr.shape}.")
    value = float(arr.reshape(()))
    if not math.isfinite(value):
        raise CheckFailed(f"{what} is {value}; look for a division by zero (p = 1?).")
    return value


_RING_CASES = [
    (2, 1e6, 1e-5, 1e-9),
    (4, 4e8, 5e-6, 1e-10),
    (8, 1e3, 2e-5, 4e-10),
    (16, 1e8, 1e-6, 2e-11),
    (3, 12345.0, 3e-5, 1e-9),
    (1, 1e6, 1e-5, 1e-9),
]

_RING_WRONG = [  # (formula, hint)
    (
        lambda p, n, a, b: 2 * (p - 1) * (a + n * b),
        "that is the naive all-reduce (every full message through one root); the ring sends chunks of n/p bytes",
    ),
    (
        lambda p, n, a, b: (p - 1) * a + (p - 1) / p * n * b,
        "that is only the reduce-scatter half; the all-gather sends the same amount again (factor 2)",
    ),
    (
        lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) * n * b,
        "each of the 2(p - 1) messages carries one chunk, n/p bytes, not the whole n",
    ),
    (
        lambda p, n, a, b: 2 * p * a + 2 * n * b,
        "there are p - 1 steps per phase, not p (a worker never sends to itself)",
    ),
    (
        lambda p, n, a, b: 2 * (p - 1) * a + 2 * (p - 1) / p * n / b,
        "beta is seconds per byte (1 / bandwidth): multiply the bytes by beta, do not divide",
    ),
]


@register("ch14.ring_cost")
def _ring_cost(ring_cost: Any) -> str:
    """``ring_cost(p, n, alpha, beta)``: modelled seconds of a ring all-reduce of n bytes."""
    for p, n, a, b in _RING_CASES:
        got = _as_float(call(ring_cost, p, n, a, b), f"ring_cost(p={p}, n={n:g}, alpha={a:g}, beta={b:g})")
        want = float(distributed.ring_allreduce_time(p, n, a, b))
        if not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-15):
            hint = next(
                (h for f, h in _RING_WRONG if math.isclose(got, f(p, n, a, b), rel_tol=1e-6)),
                "count the messages (2(p - 1): reduce-scatter, then all-gather) and their size (n/p bytes)",
            )
            if p == 1:
                hint = "with one worker there is nothing to send: the cost is 0"
            raise CheckFailed(
                f"for p={p}, n={n:g} B, alpha={a:g} s, beta={b:g} s/B you returned {got:.4g} s, "
                f"expected {want:.4g} s: {hint}."
            )
    return "2(p - 1) alpha + 2(p - 1)/p n beta: the bandwidth term hardly grows with p, which is why the ring scales."


_SHARD_CASES = [
    (10, 3, False),
    (10, 3, True),
    (12, 4, False),
    (5, 8, False),
    (5, 8, True),
    (1077, 2, False),
    (7, 1, False),
    (9, 2, True),
]


@register("ch14.shard")
def _shard(shard: Any) -> str:
    """``shard(n, rank, world_size, drop_last)``: DistributedSampler's indices, no shuffling."""
    for n, p, drop in _SHARD_CASES:
        for r in range(p):
            got = call(shard, n, r, p, drop)
            what = f"shard(n={n}, rank={r}, world_size={p}, drop_last={drop})"
            if got is None:
                raise CheckFailed(f"{what} is None; did your function forget to `return` the list?")
            try:
                got_list = [int(i) for i in list(got)]
            except (TypeError, ValueError):
                raise CheckFailed(f"{what} should be a list of integer indices, got {type(got).__name__}.") from None
            want = distributed.shard_indices(n, r, p, drop_last=drop)
            if got_list == want:
                continue
            size = -(-n // p) if not drop else n // p
            if len(got_list) != len(want):
                hint = f"every rank must get the same number of indices, {size} here: " + (
                    "drop the tail so that n becomes a multiple of world_size"
                    if drop
                    else "pad by wrapping around to the start of the list (ceil(n / world_size) each)"
                )
            elif sorted(got_list) == list(range(r * size, (r + 1) * size)):
                hint = (
                    "DistributedSampler interleaves: rank r takes indices r, r + p, r + 2p, ..., not a contiguous block"
                )
            else:
                hint = "rank r takes every world_size-th index starting at r, from the padded (or trimmed) list"
            raise CheckFailed(
                f"{what} returned {got_list[:12]}{' ...' if len(got_list) > 12 else ''}, "
                f"expected {want[:12]}{' ...' if len(want) > 12 else ''}: {hint}."
            )
    return "same indices as DistributedSampler(shuffle=False), padding and drop_last included."


_LR_CASES = [  # (t, base_lr, base_batch, batch, warmup_steps)
    (0, 0.1, 256, 8192, 100),
    (50, 0.1, 256, 8192, 100),
    (100, 0.1, 256, 8192, 100),
    (500, 0.1, 256, 8192, 100),
    (3, 0.05, 32, 64, 10),
    (10, 0.05, 32, 64, 10),
    (0, 0.01, 64, 64, 5),
    (7, 0.2, 128, 512, 20),
]


def _lr_reference(t: int, base_lr: float, base_batch: int, batch: int, warmup_steps: int) -> float:
    k = batch / base_batch
    return schedules.linear_warmup(t, k * base_lr, warmup_steps, start_factor=1 / k)


@register("ch14.scaled_lr")
def _scaled_lr(scaled_lr: Any) -> str:
    """``scaled_lr(t, base_lr, base_batch, batch, warmup_steps)``: linear scaling with gradual warm-up."""
    for t, lr, b0, b, w in _LR_CASES:
        what = f"scaled_lr(t={t}, base_lr={lr}, base_batch={b0}, batch={b}, warmup_steps={w})"
        got = _as_float(call(scaled_lr, t, lr, b0, b, w), what)
        want = _lr_reference(t, lr, b0, b, w)
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        k = b / b0
        if math.isclose(got, k * lr, rel_tol=1e-9):
            hint = "that is the scaled rate without the warm-up: start at base_lr and reach k * base_lr at warmup_steps"
        elif math.isclose(got, schedules.linear_warmup(t, k * lr, w), rel_tol=1e-9):
            hint = "Goyal et al.'s gradual warm-up starts from base_lr (the small-batch rate), not from 0"
        elif math.isclose(got, schedules.linear_warmup(t, math.sqrt(k) * lr, w, 1 / math.sqrt(k)), rel_tol=1e-9):
            hint = "that is square-root scaling; the linear rule multiplies the rate by k = batch / base_batch"
        else:
            hint = (
                "with k = batch / base_batch the rate grows linearly from base_lr at t = 0 to k * base_lr "
                "at t = warmup_steps and stays there"
            )
        raise CheckFailed(f"{what} returned {got:.6g}, expected {want:.6g}: {hint}.")
    return "linear scaling (k = batch / base_batch) with a gradual warm-up from base_lr, as in Goyal et al. (2017)."


def _full_gradient(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    return X.T @ (X @ w - y) / len(X)


@register("ch14.shard_mean_gradient")
def _shard_mean_gradient(shard_mean_gradient: Any) -> str:
    """``shard_mean_gradient(X, y, w, p)``: average of the p equal shards' mean-squared-error gradients."""
    rng = np.random.default_rng(14)
    for n, d, p in ((12, 3, 3), (40, 5, 4), (8, 2, 1), (30, 4, 5)):
        X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
        got = call(shard_mean_gradient, X.copy(), y.copy(), w.copy(), p)
        want = _full_gradient(X, y, w)
        what = f"shard_mean_gradient on X of shape {X.shape} with p={p}"
        g = to_numpy(got, what)
        if g.shape == want.shape and p > 1 and np.allclose(g, p * want):
            raise CheckFailed(
                f"{what} is p = {p} times the full-batch gradient: average the shard "
                "gradients (divide their sum by p), as DDP does, instead of summing them."
            )
        if g.shape == want.shape and np.allclose(g, 2 * want):
            raise CheckFailed(
                f"{what} is twice the expected gradient: the loss is (1 / 2n) ||Xw - y||^2, "
                "whose gradient is X^T (Xw - y) / n, with no factor 2."
            )
        expect_array(g, want, rtol=1e-8, atol=1e-10, what=what)
    return "the mean of equal shards' gradients is the full-batch gradient (to rounding)."


@register("ch14.replica_loss")
def _replica_loss(replica_loss: Any) -> str:
    """``replica_loss(per_example_losses, global_batch_size)``: one replica's share of the mean loss."""
    rng = np.random.default_rng(141)
    for local, replicas in ((8, 2), (5, 4), (16, 1), (3, 8)):
        per_example = rng.uniform(0.1, 3.0, size=local)
        gb = local * replicas
        what = f"replica_loss(per_example_losses of shape ({local},), global_batch_size={gb})"
        got = _as_float(call(replica_loss, per_example.copy(), gb), what)
        want = float(per_example.sum() / gb)
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        if replicas > 1 and math.isclose(got, float(per_example.mean()), rel_tol=1e-6):
            hint = (
                f"that is the replica's own mean: the gradients of the {replicas} replicas are *summed*, so "
                f"the step would be {replicas} times too large; divide by the global batch size"
            )
        elif math.isclose(got, float(per_example.sum()), rel_tol=1e-6):
            hint = "divide the sum by the global batch size"
        else:
            hint = "sum the replica's per-example losses and divide by the global batch size"
        raise CheckFailed(f"{what} returned {got:.6g}, expected {want:.6g}: {hint}.")
    return "sum / global batch size: the replicas' summed gradients are the global batch's mean-loss gradient."


@register("ch14.tf_config")
def _tf_config(tf_config: Any) -> str:
    """``tf_config(addresses, index)``: the TF_CONFIG dict of worker ``index``."""
    import json

    addresses = ["127.0.0.1:12345", "127.0.0.1:12346", "10.0.0.7:2222"]
    for index in range(len(addresses)):
        what = f"tf_config({addresses}, {index})"
        got = call(tf_config, list(addresses), index)
        if isinstance(got, str):
            try:
                got = json.loads(got)
            except ValueError:
                raise CheckFailed(f"{what} returned a string that is not JSON: {got[:80]!r}.") from None
        if not isinstance(got, dict):
            raise CheckFailed(f"{what} should return a dict (or its JSON string), got {type(got).__name__}.")
        cluster, task = got.get("cluster"), got.get("task")
        if not isinstance(cluster, dict) or not isinstance(task, dict):
            raise CheckFailed(f"{what} needs two keys, 'cluster' (a dict) and 'task' (a dict); got keys {sorted(got)}.")
        if cluster.get("worker") != addresses:
            raise CheckFailed(
                f"{what}: cluster['worker'] should list every worker's 'host:port', in the same order "
                f"on all workers; got {cluster.get('worker')!r}."
            )
        if task.get("type") != "worker" or task.get("index") != index:
            raise CheckFailed(
                f"{what}: task should be {{'type': 'worker', 'index': {index}}} (this worker's position "
                f"in the list); got {task!r}."
            )
        try:
            json.dumps(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"{what} is not JSON-serialisable; TF_CONFIG is a JSON string.") from None
    return "the same cluster on every worker, a different task index on each."
