"""Collective operations in real processes (chapter 14a). Launch with torchrun, for example

    python -m torch.distributed.run --standalone --nproc-per-node=3 collectives.py verify out.json

Modes (rank 0 writes the results as JSON to the given path):

* ``verify``: the from-scratch naive and ring all-reduce (``course_lib.distributed``, built on
  ``send``/``recv``) against ``dist.all_reduce`` on several tensor sizes (sizes not divisible by
  the number of workers included); batch-norm statistics per replica vs synchronised; a loop
  over equal shards (padded like ``DistributedSampler``) that finishes.
* ``bench``: median time of ``dist.all_reduce`` over message sizes from 4 bytes to 4 MiB (and
  of the two from-scratch versions on a few sizes).
* ``hang``: unequal shards: rank 0 has one batch more than the others, so its last
  ``all_reduce`` has no partner. The process group's timeout (a few seconds) turns the hang
  into an error; the launcher's time limit is the second safety net.

The backend is gloo on CPU, NCCL when every rank has a GPU: the one switch below.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist

from course_lib.distributed import naive_allreduce, ring_allreduce, shard_indices

BACKEND = "nccl" if torch.cuda.is_available() else "gloo"


def verify() -> dict:
    rank, p = dist.get_rank(), dist.get_world_size()
    out: dict = {"world_size": p, "sizes": [], "ring_max_diff": 0.0, "naive_max_diff": 0.0}
    for n in (1, 2, 7, 1000, 100_003):
        g = torch.Generator().manual_seed(1000 * n + rank)
        x = torch.randn(n, dtype=torch.float64, generator=g)
        ref = x.clone()
        dist.all_reduce(ref)  # the library's answer
        ring, naive = ring_allreduce(x.clone()), naive_allreduce(x.clone())
        out["sizes"].append(n)
        out["ring_max_diff"] = max(out["ring_max_diff"], float((ring - ref).abs().max()))
        out["naive_max_diff"] = max(out["naive_max_diff"], float((naive - ref).abs().max()))

    # Batch-norm statistics: each replica sees a different slice of the data (here shifted by rank)
    g = torch.Generator().manual_seed(rank)
    local = torch.randn(16, 4, dtype=torch.float64, generator=g) + 2.0 * rank  # (B, features)
    local_mean = local.mean(0)
    stats = torch.cat([local.sum(0), (local**2).sum(0), torch.tensor([float(len(local))], dtype=torch.float64)])
    dist.all_reduce(stats)  # what SyncBatchNorm does: sum, sum of squares, count
    count = stats[-1]
    sync_mean = stats[:4] / count
    sync_var = stats[4:8] / count - sync_mean**2
    gathered = [torch.empty_like(local) for _ in range(p)]
    dist.all_gather(gathered, local)
    full = torch.cat(gathered)  # the global batch, for the check
    out["bn_local_mean_rank0"] = local_mean.tolist() if rank == 0 else None
    out["bn_local_vs_global"] = float((local_mean - full.mean(0)).abs().max())
    out["bn_sync_vs_global"] = max(
        float((sync_mean - full.mean(0)).abs().max()), float((sync_var - full.var(0, unbiased=False)).abs().max())
    )
    try:  # does the library's SyncBatchNorm run on this device?
        bn = torch.nn.SyncBatchNorm(4).double()
        bn.train()
        bn(local)
        out["syncbn_runs_here"] = True
    except Exception as e:  # noqa: BLE001 (the message is the point)
        out["syncbn_runs_here"] = False
        out["syncbn_error"] = str(e).splitlines()[0][:200]

    # Equal shards (padded, like DistributedSampler): every rank makes the same number of calls
    n_samples, batch = 10, 2
    mine = shard_indices(n_samples, rank, p)
    steps = 0
    for i in range(0, len(mine), batch):
        t = torch.tensor([float(sum(mine[i : i + batch]))], dtype=torch.float64)
        dist.all_reduce(t)
        steps += 1
    out["padded_shard_sizes"] = [len(shard_indices(n_samples, r, p)) for r in range(p)]
    out["padded_steps"] = steps
    return out


def bench() -> dict:
    sizes = [2**k for k in range(0, 21, 2)]  # float32 elements: 4 B .. 4 MiB
    out: dict = {"world_size": dist.get_world_size(), "bytes": [], "seconds": [], "scratch": {}}
    for n in sizes:
        x = torch.ones(n)
        reps = 30 if n <= 2**14 else 10
        for _ in range(3):
            dist.all_reduce(x)  # warm up
        times = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(x)
            times.append(time.perf_counter() - t0)
        t = torch.tensor([sorted(times)[len(times) // 2]])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)  # the slowest rank's median
        out["bytes"].append(4 * n)
        out["seconds"].append(float(t))
    # The three implementations on one 1 MiB message, in interleaved rounds so that load from other
    # processes hits all three alike; each keeps its fastest run (the cost of the work itself).
    fns = {"ring": ring_allreduce, "naive": naive_allreduce, "library": dist.all_reduce}
    times: dict[str, list[float]] = {name: [] for name in fns}
    x = torch.ones(2**20)
    for _ in range(9):
        for name, fn in fns.items():
            dist.barrier()
            t0 = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - t0)
    out["scratch"] = {name: min(t) for name, t in times.items()}
    return out


def hang() -> dict:
    rank = dist.get_rank()
    n_batches = 3 if rank == 0 else 2  # unequal shards: 5 samples, batch 1, no padding
    for _ in range(n_batches):
        t = torch.ones(1)
        dist.all_reduce(t)  # rank 0's third call has no partner
    if rank != 0:
        time.sleep(60)  # e.g. evaluating; the launcher kills us first
    return {"finished": True}


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    timeout = timedelta(seconds=float(os.environ.get("COLLECTIVE_TIMEOUT_S", "60")))
    dist.init_process_group(BACKEND, timeout=timeout)
    torch.set_num_threads(1)
    result = {"verify": verify, "bench": bench, "hang": hang}[mode]()
    if dist.get_rank() == 0:
        with open(path, "w") as f:
            json.dump(result, f)
    dist.destroy_process_group()
