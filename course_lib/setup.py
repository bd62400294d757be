"""The notebook setup cell: seed everything, make runs deterministic, pick the device.

Introduced in chapter 0 ("How to use this course"); every chapter's setup cell calls
:func:`setup`. On Colab that cell first installs ``course_lib`` from the repository (see
:func:`colab_install_command`); everywhere else that step is a no-op.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import random
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from course_lib import REPOSITORY_URL

FRAMEWORKS = ("torch", "tensorflow")


@dataclass(frozen=True)
class SetupInfo:
    """What :func:`setup` did: the seed, the device and the framework versions it found."""

    seed: int
    device: str
    versions: dict[str, str]

    def __str__(self) -> str:
        found = ", ".join(f"{k} {v}" for k, v in self.versions.items()) or "no frameworks"
        return f"seed={self.seed} | device={self.device} | {found}"


def running_on_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package is importable there only)."""
    return "google.colab" in sys.modules or importlib.util.find_spec("google.colab") is not None


def colab_install_command(repository_url: str = REPOSITORY_URL) -> list[str]:
    """The pip command that installs ``course_lib`` from the repository on Colab.

    ``course_lib`` declares no torch/TensorFlow dependency, so Colab's CUDA builds stay.
    """
    if not repository_url.startswith(("https://", "git+")):
        raise ValueError(
            f"repository_url must be an https:// or git+ URL, got {repository_url!r}; "
            "set `repository.url` in _config.yml and run scripts/sync_repo_url.py."
        )
    url = repository_url if repository_url.startswith("git+") else f"git+{repository_url}"
    return [sys.executable, "-m", "pip", "install", "--quiet", f"course_lib @ {url}"]


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines bypass Python."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ and absl start-up messages (call before importing TF)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide INFO and WARNING from C++
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", module="tensorflow")


def seed_everything(seed: int, frameworks: tuple[str, ...] = FRAMEWORKS) -> dict[str, str]:
    """Seed Python, NumPy and the requested frameworks; turn on deterministic kernels.

    Returns ``{framework: version}`` for each framework that is installed.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; choose from {FRAMEWORKS}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    versions: dict[str, str] = {}
    if "torch" in frameworks and importlib.util.find_spec("torch") is not None:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed for determinism
        import torch

        torch.manual_seed(seed)  # also seeds every CUDA device
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        versions["torch"] = torch.__version__
    if "tensorflow" in frameworks and importlib.util.find_spec("tensorflow") is not None:
        quiet_tensorflow()
        with _stderr_to_devnull():  # only the import: errors after it are shown as usual
            import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF in one call
        tf.config.experimental.enable_op_determinism()
        versions["tensorflow"] = tf.__version__
    return versions


def pick_device() -> str:
    """``"cuda"`` when PyTorch sees a GPU, else ``"cpu"`` (also when torch is not installed)."""
    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _inline_figures_in_notebooks() -> None:
    """In a Jupyter kernel, show figures inline even if ``MPLBACKEND`` (e.g. ``Agg``) says otherwise.

    With a non-inline backend ``plt.show()`` draws nothing, and the executed notebook (and the
    site built from it) would silently have no figures.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is always there in a notebook
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:  # a Jupyter kernel, not a terminal
        shell.run_line_magic("matplotlib", "inline")


def setup(seed: int = 0, frameworks: tuple[str, ...] = FRAMEWORKS, style: bool = True) -> SetupInfo:
    """Everything a chapter's setup cell needs, in one call.

    Seeds Python/NumPy/PyTorch/TensorFlow with ``seed``, turns on deterministic kernels,
    silences TensorFlow's start-up noise, applies the course's plotting style and picks the
    device (CUDA when present, else CPU). Pass ``frameworks=("torch",)`` to skip importing
    TensorFlow in a chapter that does not use it.

    Returns a :class:`SetupInfo`; its ``device`` is a string usable as ``torch.device(info.device)``.
    """
    if isinstance(frameworks, str):
        raise ValueError(f"frameworks must be a tuple such as ('torch',), not the string {frameworks!r}")
    versions = seed_everything(seed, tuple(frameworks))
    if style:
        from course_lib.plotting import use_style

        _inline_figures_in_notebooks()
        use_style()
    return SetupInfo(seed=int(seed), device=pick_device(), versions=versions)
