"""A Jupyter (IPython) kernel with resource limits, for running notebooks we do not trust.

The grader (:mod:`course_tools.grade`) starts every submission in this kernel::

    python -m course_tools.sandbox_kernel --memory-mb 4096 --file-mb 256 -- -f {connection_file}

Before ipykernel starts, the process

- limits its address space (``RLIMIT_AS``, soft = hard = ``--memory-mb``): an allocation beyond it
  raises ``MemoryError`` in the cell instead of exhausting the machine. It is a limit on *virtual*
  memory, which is larger than the memory really used: NumPy + IPython take about 0.6 GB of
  address space, PyTorch + TensorFlow about 2.1 GB;
- limits the size of any file it writes (``RLIMIT_FSIZE``) and disables core dumps;
- asks Linux to SIGKILL it when its parent (the grader's worker process) dies
  (``PR_SET_PDEATHSIG``), so a kernel stuck in a student's loop never outlives its grader.

Linux is the target (macOS does not enforce ``RLIMIT_AS``; Windows has no ``resource`` module).
A process running as root can raise its own hard limits again (``resource.setrlimit``); run the
grader as an ordinary user where that matters (the grader flags notebooks that call it).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

_PR_SET_PDEATHSIG = 1


def apply_limits(memory_mb: int | None, file_mb: int | None) -> None:
    """Limit this process (and its future children) to ``memory_mb`` of address space etc."""
    if memory_mb is not None:
        if memory_mb < 256:
            raise ValueError(f"--memory-mb {memory_mb} is too small for a Python kernel; use at least 256")
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if file_mb is not None:
        limit = file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def die_with_parent() -> None:
    """SIGKILL this process when its parent exits (Linux only; a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory-mb", type=int, help="address-space limit in MiB")
    parser.add_argument("--file-mb", type=int, help="largest file the kernel may write, in MiB")
    parser.add_argument("kernel_args", nargs=argparse.REMAINDER, help="after --: ipykernel's arguments")
    args = parser.parse_args(argv)
    kernel_args = args.kernel_args[1:] if args.kernel_args[:1] == ["--"] else args.kernel_args
    apply_limits(args.memory_mb, args.file_mb)
    die_with_parent()
    # As ipykernel_launcher does: drop the launch directory from sys.path while ipykernel loads;
    # IPython puts the working directory back for the user's code.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=kernel_args)


if __name__ == "__main__":
    main()
