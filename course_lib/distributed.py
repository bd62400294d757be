"""Distributed training helpers: launch worker processes safely, all-reduce from scratch, cost model.

Introduced in chapter 14 ("Distributed training"). Three concerns, all small:

* **Launching** (:func:`free_port`, :func:`run_torchrun`, :func:`run_commands`): start real
  worker processes (``python -m torch.distributed.run`` = ``torchrun``) from a notebook or a
  test, always with a time limit; on time-out the whole process group is killed, so no orphan
  worker survives and a deadlocked job can never hang the book build. Ports are chosen free at
  run time on 127.0.0.1.
* **All-reduce from scratch** (:func:`naive_allreduce`, :func:`ring_allreduce`): written with
  ``torch.distributed`` point-to-point ``send``/``recv`` only, to be called *inside* worker
  processes (a notebook cell cannot host them: ``mp.spawn`` needs the worker in a file). PyTorch
  is imported lazily, inside the functions, so importing this module stays cheap.
* **The alpha-beta cost model** (:func:`ring_allreduce_time`, :func:`naive_allreduce_time`,
  :func:`fit_alpha_beta`): time = latency + bytes / bandwidth per message. For ``p`` workers and
  a message of ``n`` bytes the ring sends ``2(p - 1)`` messages of ``n / p`` bytes per worker,

      T_ring(p, n) = 2(p - 1) alpha + 2(p - 1)/p * n * beta,

  while the naive all-reduce (everyone sends to rank 0, rank 0 sends the sum back) serialises
  ``2(p - 1)`` full messages at the root: ``T_naive = 2(p - 1)(alpha + n beta)``.

And :func:`shard_indices`, the index arithmetic of ``torch.utils.data.DistributedSampler``
(padding by wrapping around, or dropping the tail) without shuffling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# One home for free_port (chapter 13, deployment); re-exported here for the launchers.
from course_lib.deploy import free_port as free_port

_REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# Launching worker processes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchResult:
    """The outcome of a launch: one return code and output per command, and the wall time.

    Introduced in chapter 14.
    """

    returncodes: tuple[int | None, ...]
    outputs: tuple[str, ...]
    seconds: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return not self.timed_out and all(rc == 0 for rc in self.returncodes)

    def check(self) -> LaunchResult:
        """Return ``self`` if every command succeeded, else raise ``RuntimeError`` with the output."""
        if not self.ok:
            what = "timed out" if self.timed_out else f"failed (return codes {self.returncodes})"
            tails = "\n---\n".join(o[-3000:] for o in self.outputs)
            raise RuntimeError(f"the launch {what}; output:\n{tails}")
        return self


def _child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment for worker processes: ours, plus this repository on PYTHONPATH."""
    out = dict(os.environ)
    out.update(env or {})
    paths = [str(_REPO_ROOT)] + [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
    out["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    out.setdefault("OMP_NUM_THREADS", "1")  # one thread per worker: the workers share the cores
    out.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return out


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc``'s whole process group (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


def run_commands(
    commands: Sequence[Sequence[str]],
    timeout: float,
    env: Mapping[str, str] | None = None,
    envs: Sequence[Mapping[str, str] | None] | None = None,
    cwd: str | Path | None = None,
) -> LaunchResult:
    """Run several commands *concurrently*, each in its own process group, within ``timeout`` s.

    ``env`` is added to every command's environment, ``envs[i]`` to command ``i``'s only. If any
    command is still running when the time is up, every group is killed (SIGKILL to the group,
    so ``torchrun``'s workers die with it) and ``timed_out`` is True; nothing is left behind.
    Output (stdout and stderr merged) is returned per command.

    Introduced in chapter 14.
    """
    if not commands or any(not c for c in commands):
        raise ValueError("commands must be a non-empty list of non-empty argument lists")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if envs is not None and len(envs) != len(commands):
        raise ValueError(f"envs has {len(envs)} entries for {len(commands)} commands; give one per command")
    start = time.perf_counter()
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for i, cmd in enumerate(commands):
            extra = dict(env or {})
            extra.update((envs[i] if envs is not None else None) or {})
            log = open(_tmp_log(), "w+")  # noqa: SIM115 (closed below)
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [str(c) for c in cmd],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_child_env(extra),
                    cwd=cwd,
                    start_new_session=True,
                )
            )
        deadline = start + timeout
        timed_out = False
        for p in procs:
            try:
                p.wait(timeout=max(deadline - time.perf_counter(), 0.01))
            except subprocess.TimeoutExpired:
                timed_out = True
                break
    finally:
        for p in procs:
            if p.poll() is None:
                _kill_group(p)
                p.wait()
            else:  # the launcher exited; make sure no worker of its group outlives it
                _kill_group(p)
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
        os.unlink(log.name)
    return LaunchResult(tuple(p.returncode for p in procs), tuple(outputs), time.perf_counter() - start, timed_out)


def _tmp_log():
    import tempfile

    fd, name = tempfile.mkstemp(prefix="course_launch_", suffix=".log")
    os.close(fd)
    return name


def torchrun_command(
    script: str | Path,
    args: Sequence[Any] = (),
    nproc_per_node: int = 2,
    nnodes: int = 1,
    node_rank: int = 0,
    port: int | None = None,
    host: str = "127.0.0.1",
) -> list[str]:
    """The ``torchrun`` command line (as ``python -m torch.distributed.run``) for one node.

    One node (``nnodes=1``) uses ``--standalone``; several nodes rendezvous at
    ``host:port`` (``--rdzv-backend=c10d``), each node started with its own ``node_rank``.

    Introduced in chapter 14.
    """
    if nproc_per_node < 1 or nnodes < 1 or not 0 <= node_rank < nnodes:
        raise ValueError(
            f"need nproc_per_node >= 1, nnodes >= 1 and 0 <= node_rank < nnodes; got "
            f"{nproc_per_node}, {nnodes}, {node_rank}"
        )
    cmd = [sys.executable, "-m", "torch.distributed.run"]
    if nnodes == 1:
        cmd += ["--standalone", f"--nproc-per-node={nproc_per_node}"]
    else:
        if port is None:
            raise ValueError("several nodes need a rendezvous port: pass port=free_port() (the same for every node)")
        cmd += [
            f"--nnodes={nnodes}",
            f"--node-rank={node_rank}",
            f"--nproc-per-node={nproc_per_node}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={host}:{port}",
            "--rdzv-id=course",
        ]
    return cmd + [str(script)] + [str(a) for a in args]


def run_torchrun(
    script: str | Path,
    args: Sequence[Any] = (),
    nproc_per_node: int = 2,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> LaunchResult:
    """Launch ``script`` on this machine with ``torchrun --standalone`` within ``timeout`` s.

    Returns a :class:`LaunchResult`; call ``.check()`` on it to raise on failure or time-out.

    Introduced in chapter 14.
    """
    if not Path(script).is_file() and not (cwd and (Path(cwd) / script).is_file()):
        raise ValueError(f"no such script: {script}; give a path to a .py file (workers must live in a file)")
    return run_commands([torchrun_command(script, args, nproc_per_node)], timeout, env=env, cwd=cwd)


# --------------------------------------------------------------------------------------------
# All-reduce from scratch (call inside worker processes, after init_process_group)
# --------------------------------------------------------------------------------------------
def naive_allreduce(tensor: Any) -> Any:
    """Sum ``tensor`` over all ranks, in place, the naive way; returns it.

    Every rank sends its whole tensor to rank 0, which adds them up and sends the sum back to
    each rank: ``2(p - 1)`` full-size messages, all through rank 0 (its link is the bottleneck).

    Introduced in chapter 14.
    """
    import torch.distributed as dist

    rank, p = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        buf = tensor.clone()
        for src in range(1, p):
            dist.recv(buf, src=src)
            tensor += buf
        for dst in range(1, p):
            dist.send(tensor, dst=dst)
    else:
        dist.send(tensor, dst=0)
        dist.recv(tensor, src=0)
    return tensor


def ring_allreduce(tensor: Any) -> Any:
    """Sum ``tensor`` over all ranks, in place, with the ring algorithm; returns it.

    The flattened tensor is cut into ``p`` chunks (``torch.tensor_split``: sizes differ by at
    most one). **Reduce-scatter**: in step ``s = 0 .. p-2`` rank ``r`` sends chunk ``(r - s) % p``
    to its right neighbour and adds the chunk ``(r - s - 1) % p`` it receives from its left one;
    afterwards rank ``r`` holds the full sum of chunk ``(r + 1) % p``. **All-gather**: in
    ``p - 1`` more steps each rank passes on the finished chunks. Every rank sends ``2(p - 1)``
    messages of ``n / p`` elements. Sends and receives are paired with ``isend``/``recv`` so
    that no two neighbours wait on each other.

    Introduced in chapter 14.
    """
    import torch.distributed as dist

    rank, p = dist.get_rank(), dist.get_world_size()
    if p == 1:
        return tensor
    flat = tensor.view(-1)  # shares memory with ``tensor`` (must be contiguous)
    chunks = list(flat.tensor_split(p))
    right, left = (rank + 1) % p, (rank - 1) % p
    for s in range(p - 1):  # reduce-scatter
        send_c, recv_c = (rank - s) % p, (rank - s - 1) % p
        req = dist.isend(chunks[send_c].clone(), dst=right)
        buf = chunks[recv_c].clone()
        dist.recv(buf, src=left)
        chunks[recv_c] += buf
        req.wait()  # type: ignore[union-attr]  # isend always returns a Work handle
    for s in range(p - 1):  # all-gather
        send_c, recv_c = (rank + 1 - s) % p, (rank - s) % p
        req = dist.isend(chunks[send_c].clone(), dst=right)
        buf = chunks[recv_c].clone()
        dist.recv(buf, src=left)
        chunks[recv_c].copy_(buf)
        req.wait()  # type: ignore[union-attr]  # isend always returns a Work handle
    return tensor


# --------------------------------------------------------------------------------------------
# The alpha-beta cost model
# --------------------------------------------------------------------------------------------
def _check_p_n(p: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    p_arr, n_arr = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    if np.any(p_arr < 1) or np.any(p_arr != np.round(p_arr)):
        raise ValueError(f"p is the number of workers, a whole number >= 1; got {p!r}")
    if np.any(n_arr < 0):
        raise ValueError(f"n is a message size in bytes, >= 0; got {n!r}")
    return p_arr, n_arr


def ring_allreduce_time(p: Any, n: Any, alpha: float, beta: float) -> Any:
    """Model time (s) of a ring all-reduce of ``n`` bytes over ``p`` workers.

    ``alpha``: latency per message (s); ``beta``: seconds per byte (1 / bandwidth).
    ``T = 2(p - 1) alpha + 2(p - 1)/p * n * beta``; broadcasts over arrays of ``p`` and ``n``.

    Introduced in chapter 14.
    """
    p_arr, n_arr = _check_p_n(p, n)
    return 2 * (p_arr - 1) * alpha + 2 * (p_arr - 1) / p_arr * n_arr * beta


def naive_allreduce_time(p: Any, n: Any, alpha: float, beta: float) -> Any:
    """Model time (s) of the naive (gather to rank 0, send back) all-reduce: ``2(p - 1)(alpha + n beta)``.

    Introduced in chapter 14.
    """
    p_arr, n_arr = _check_p_n(p, n)
    return 2 * (p_arr - 1) * (alpha + n_arr * beta)


def fit_alpha_beta(n_bytes: Sequence[float], seconds: Sequence[float], p: int = 2) -> tuple[float, float]:
    """Fit ``alpha`` (s per message) and ``beta`` (s per byte) of the ring model to measurements.

    ``n_bytes`` and ``seconds`` (shape ``(m,)``, ``m >= 2``) are measured all-reduce times of
    messages of ``n_bytes`` over ``p`` workers. Least squares with relative errors (each row
    divided by its time), so small and large messages weigh alike.

    Introduced in chapter 14.
    """
    n = np.asarray(n_bytes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if n.shape != t.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError(f"need two 1-D arrays of equal length >= 2, got shapes {n.shape} and {t.shape}")
    if np.any(t <= 0):
        raise ValueError("times must be positive (seconds)")
    _check_p_n(p, n)
    if p < 2:
        raise ValueError("with p = 1 there is no communication to fit; use p >= 2")
    A = np.stack([np.full_like(n, 2 * (p - 1)), 2 * (p - 1) / p * n], axis=1) / t[:, None]
    (alpha, beta), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    return float(alpha), float(beta)


# --------------------------------------------------------------------------------------------
# Sharding a dataset like DistributedSampler
# --------------------------------------------------------------------------------------------
def shard_indices(n: int, rank: int, world_size: int, drop_last: bool = False) -> list[int]:
    """The indices ``DistributedSampler(shuffle=False)`` gives ``rank`` of ``world_size``.

    Without ``drop_last`` the index list ``0 .. n-1`` is padded by wrapping around to a multiple
    of ``world_size`` (some samples are seen twice, every rank gets ``ceil(n / p)``); with it the
    tail is dropped (every rank gets ``floor(n / p)``). Rank ``r`` takes every ``p``-th index
    starting at ``r``. Equal shard sizes are what keep the ranks' collective calls in step.

    Introduced in chapter 14.
    """
    if not (isinstance(n, (int, np.integer)) and n >= 0):
        raise ValueError(f"n (dataset size) must be an int >= 0, got {n!r}")
    if not (isinstance(world_size, (int, np.integer)) and world_size >= 1):
        raise ValueError(f"world_size must be an int >= 1, got {world_size!r}")
    if not (isinstance(rank, (int, np.integer)) and 0 <= rank < world_size):
        raise ValueError(f"rank must be an int in [0, {world_size}), got {rank!r}")
    idx = list(range(n))
    if drop_last:
        total = (n // world_size) * world_size
        idx = idx[:total]
    else:
        total = -(-n // world_size) * world_size
        while len(idx) < total and n > 0:
            idx += idx[: total - len(idx)]
    return idx[rank:total:world_size]
