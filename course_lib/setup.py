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
from course_lib.validation import integer

FRAMEWORKS = ("torch", "tensorflow")


@dataclass(frozen=True)
class SetupInfo:
    """What :func:`setup` did: the seed, the device and the framework versions it found.

    Introduced in chapter 0. ``device`` is ``"cuda"`` or ``"cpu"`` (:func:`pick_device`): pass it to
    PyTorch, ``model.to(info.device)``, ``torch.zeros(3, device=info.device)``, so that a chapter
    runs on Colab's GPU unchanged. ``versions`` maps each framework found to its version.
    """

    seed: int
    device: str
    versions: dict[str, str]

    def __str__(self) -> str:
        found = ", ".join(f"{k} {v}" for k, v in self.versions.items()) or "no frameworks"
        return f"seed={self.seed} | device={self.device} | {found}"


def running_on_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package is importable there only). Introduced in chapter 0."""
    return "google.colab" in sys.modules or importlib.util.find_spec("google.colab") is not None


def colab_install_command(repository_url: str = REPOSITORY_URL) -> list[str]:
    """The pip command that installs ``course_lib`` from the repository on Colab.

    ``course_lib`` declares no torch/TensorFlow dependency, so Colab's CUDA builds stay.

    Introduced in chapter 0.
    """
    if not repository_url.startswith(("https://", "git+")):
        raise ValueError(
            f"repository_url must be an https:// or git+ URL, got {repository_url!r}; "
            "set `repository.url` in _config.yml and run scripts/sync_repo_url.py."
        )
    url = repository_url if repository_url.startswith("git+") else f"git+{repository_url}"
    return [sys.executable, "-m", "pip", "install", "--quiet", f"course_lib @ {url}"]


@contextlib.contextmanager
def stderr_to_devnull() -> Iterator[None]:
    """Send file descriptor 2 (stderr) to ``/dev/null`` for the duration of a ``with`` block.

    Introduced in chapter 0; used around ``import tensorflow`` and, in chapter 4, around a
    TensorFlow call whose C++ runtime prints start-up lines. Those lines are written by C++
    straight to file descriptor 2, bypassing Python's ``sys.stderr``, so ``contextlib.redirect_stderr``
    cannot catch them. Wrap only the noisy call: everything it writes to stderr (a real error
    message included) is lost, while an exception it raises still propagates as usual::

        with stderr_to_devnull():
            import tensorflow as tf
    """
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
    """Silence TensorFlow's start-up noise, and only that (call before importing TF).

    Introduced in chapter 0. Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless already set) to hide the
    C++ runtime's INFO and WARNING lines (oneDNN, CPU instructions, CUDA probing) and lowers
    absl's logger, which TensorFlow uses for its start-up messages, to ERROR. Python warnings
    are left alone: a warning raised by Keras or TensorFlow (or your own code) while a chapter
    runs is still shown, as it should be. :func:`seed_everything` also imports TensorFlow under
    :func:`stderr_to_devnull` and ignores warnings *during that import only*.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide INFO and WARNING from C++
    logging.getLogger("absl").setLevel(logging.ERROR)


def seed_everything(seed: int, frameworks: tuple[str, ...] = FRAMEWORKS) -> dict[str, str]:
    """Seed Python, NumPy and the requested frameworks; turn on deterministic kernels.

    Returns ``{framework: version}`` for each framework that is installed.

    Introduced in chapter 0.
    """
    seed = integer("seed", seed, minimum=0, maximum=2**32 - 1, hint="NumPy accepts seeds below 2**32.")
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; choose from {FRAMEWORKS}")
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
        # Only the import is silenced: its C++ lines and import-time warnings. Errors and
        # warnings after it are shown as usual.
        with stderr_to_devnull(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import tensorflow as tf

        # In a Jupyter kernel TensorFlow's Python logger starts at INFO and prints to stdout
        # ("INFO:tensorflow:Using MirroredStrategy ..."); WARNING keeps every real warning.
        tf.get_logger().setLevel(logging.WARNING)
        tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF in one call
        tf.config.experimental.enable_op_determinism()
        versions["tensorflow"] = tf.__version__
    return versions


def pick_device() -> str:
    """``"cuda"`` when PyTorch sees a GPU, else ``"cpu"`` (also when torch is not installed).

    Introduced in chapter 0. The string works as ``torch.device(pick_device())`` and
    ``tensor.to(...)``; TensorFlow places operations on a visible GPU by itself.
    """
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

    Introduced in chapter 0.
    """
    if isinstance(frameworks, str):
        raise ValueError(f"frameworks must be a tuple such as ('torch',), not the string {frameworks!r}")
    versions = seed_everything(seed, tuple(frameworks))
    if style:
        from course_lib.plotting import use_style

        _inline_figures_in_notebooks()
        use_style()
    return SetupInfo(seed=int(seed), device=pick_device(), versions=versions)
