"""course_lib.distributed: the launcher (time-outs kill the whole process group), the
from-scratch all-reduces against dist.all_reduce in real processes, the cost model, the sharding."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import time

import numpy as np
import pytest

from course_lib import distributed as D


def test_free_port_is_bindable():
    port = D.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_run_commands_collects_output_and_codes():
    r = D.run_commands(
        [[sys.executable, "-c", "print('hi')"], [sys.executable, "-c", "import sys; sys.exit(3)"]], timeout=30
    )
    assert r.returncodes == (0, 3) and "hi" in r.outputs[0] and not r.timed_out and not r.ok
    with pytest.raises(RuntimeError, match="failed"):
        r.check()


def test_run_commands_kills_the_process_group_on_timeout(tmp_path):
    # the parent starts a grandchild that would outlive it; both must be gone after the time-out
    pidfile = tmp_path / "child.pid"
    code = textwrap.dedent(f"""
        import subprocess, sys, time
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pidfile)!r}, "w").write(str(p.pid))
        time.sleep(60)
    """)
    r = D.run_commands([[sys.executable, "-c", code]], timeout=3)
    assert r.timed_out and not r.ok and r.seconds < 30
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5  # SIGKILL is delivered asynchronously: give the kernel a moment
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the grandchild survived the time-out"


def _alive(pid: int) -> bool:
    """Running (a zombie, killed but not yet reaped by init, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_run_commands_validates():
    with pytest.raises(ValueError):
        D.run_commands([], timeout=1)
    with pytest.raises(ValueError):
        D.run_commands([["true"]], timeout=0)
    with pytest.raises(ValueError):
        D.run_commands([["true"]], timeout=1, envs=[{}, {}])


def test_torchrun_command_shapes():
    one = D.torchrun_command("a.py", ["--x", 1], nproc_per_node=2)
    assert "--standalone" in one and one[-3:] == ["a.py", "--x", "1"]
    two = D.torchrun_command("a.py", nnodes=2, node_rank=1, port=1234)
    assert "--node-rank=1" in two and "--rdzv-endpoint=127.0.0.1:1234" in two
    with pytest.raises(ValueError, match="rendezvous port"):
        D.torchrun_command("a.py", nnodes=2)
    with pytest.raises(ValueError):
        D.torchrun_command("a.py", nnodes=2, node_rank=2, port=1)


WORKER = textwrap.dedent("""
    import json, sys, torch, torch.distributed as dist
    from course_lib.distributed import naive_allreduce, ring_allreduce
    dist.init_process_group("gloo")
    r = dist.get_rank()
    out = {}
    for n in (1, 5, 1001):
        x = torch.arange(n, dtype=torch.float64) * (r + 1) + r
        ref = x.clone(); dist.all_reduce(ref)
        out[n] = [float((ring_allreduce(x.clone()) - ref).abs().max()),
                  float((naive_allreduce(x.clone()) - ref).abs().max())]
    if r == 0:
        json.dump(out, open(sys.argv[1], "w"))
    dist.destroy_process_group()
""")


@pytest.mark.slow
def test_scratch_allreduce_matches_library_in_real_processes(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    D.run_torchrun(script, [tmp_path / "out.json"], nproc_per_node=3, timeout=120).check()
    diffs = json.loads((tmp_path / "out.json").read_text())
    assert set(diffs) == {"1", "5", "1001"}
    assert max(max(v) for v in diffs.values()) < 1e-12


def test_cost_models():
    assert D.ring_allreduce_time(1, 1e6, 1e-5, 1e-9) == 0
    np.testing.assert_allclose(D.ring_allreduce_time(4, 8e6, 1e-5, 1e-9), 6e-5 + 1.5 * 8e6 * 1e-9)
    np.testing.assert_allclose(D.naive_allreduce_time(4, 8e6, 1e-5, 1e-9), 6 * (1e-5 + 8e-3))
    with pytest.raises(ValueError):
        D.ring_allreduce_time(0, 1, 1, 1)
    with pytest.raises(ValueError):
        D.ring_allreduce_time(2.5, 1, 1, 1)


def test_fit_alpha_beta_recovers_the_model():
    n = np.logspace(0, 7, 12)
    t = D.ring_allreduce_time(2, n, 3e-4, 2e-9)
    a, b = D.fit_alpha_beta(n, t, p=2)
    np.testing.assert_allclose([a, b], [3e-4, 2e-9], rtol=1e-6)
    with pytest.raises(ValueError):
        D.fit_alpha_beta([1.0], [1.0])
    with pytest.raises(ValueError):
        D.fit_alpha_beta([1.0, 2.0], [1.0, -1.0])


@pytest.mark.parametrize("n, p, drop", [(10, 3, False), (10, 3, True), (12, 4, False), (3, 5, False), (1077, 2, False)])
def test_shard_indices_match_distributed_sampler(n, p, drop):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler

    ds = list(range(n))
    for r in range(p):
        ref = list(DistributedSampler(ds, num_replicas=p, rank=r, shuffle=False, drop_last=drop))
        assert D.shard_indices(n, r, p, drop_last=drop) == ref
    del torch


def test_shard_indices_validates():
    with pytest.raises(ValueError):
        D.shard_indices(10, 3, 3)
    with pytest.raises(ValueError):
        D.shard_indices(-1, 0, 1)
