import random
import subprocess
import sys

import numpy as np
import pytest

from course_lib import setup as cs


def test_seed_everything_makes_numpy_python_torch_repeatable():
    import torch

    cs.seed_everything(123, frameworks=("torch",))
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    cs.seed_everything(123, frameworks=("torch",))
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second
    cs.seed_everything(124, frameworks=("torch",))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != first


def test_setup_returns_device_and_versions():
    info = cs.setup(seed=0, frameworks=("torch",))
    assert info.device in ("cpu", "cuda")
    assert "torch" in info.versions and "tensorflow" not in info.versions
    assert "seed=0" in str(info)


def test_setup_seeds_tensorflow_and_is_quiet():
    code = (
        "from course_lib.setup import setup; info = setup(seed=7);"
        "import tensorflow as tf; a = float(tf.random.uniform(()));"
        "setup(seed=7); b = float(tf.random.uniform(())); assert a == b; print(info)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "tensorflow" in out.stdout
    assert "oneDNN" not in out.stderr and "absl" not in out.stderr, out.stderr


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, None])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed must be"):
        cs.seed_everything(seed)


def test_bad_frameworks_raise():
    with pytest.raises(ValueError, match="unknown frameworks"):
        cs.seed_everything(0, frameworks=("jax",))
    with pytest.raises(ValueError, match="tuple"):
        cs.setup(0, frameworks="torch")


def test_colab_install_command_uses_repository_url():
    import course_lib

    cmd = cs.colab_install_command()
    assert cmd[-1] == f"course_lib @ git+{course_lib.REPOSITORY_URL}"
    assert "torch" not in " ".join(cmd) and "tensorflow" not in " ".join(cmd)
    with pytest.raises(ValueError, match="https"):
        cs.colab_install_command("ftp://example.org/repo")


def test_not_on_colab_here():
    assert cs.running_on_colab() is False


def test_import_course_lib_is_fast_and_light():
    code = (
        "import time, sys; t = time.perf_counter(); import course_lib, course_lib.exercises, "
        "course_lib.data, course_lib.setup; dt = time.perf_counter() - t; "
        "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules, 'heavy import'; print(dt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 1.0
