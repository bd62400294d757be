import random
import subprocess
import sys
import warnings

import numpy as np
import pytest

from course_lib import setup as cs


def run_python(code: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (nothing imported yet); fail with its stderr if it fails."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out


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
    import torch

    info = cs.setup(seed=0, frameworks=("torch",))
    assert info.device in ("cpu", "cuda")
    assert torch.zeros(1, device=info.device).device.type == info.device  # usable as a torch device
    assert "torch" in info.versions and "tensorflow" not in info.versions
    assert "seed=0" in str(info)


@pytest.mark.slow  # a fresh process that imports TensorFlow: about 10 s of CPU
def test_setup_seeds_tensorflow_is_quiet_and_leaves_real_warnings_visible():
    code = (
        "import warnings; from course_lib.setup import setup; info = setup(seed=7);"
        "import tensorflow as tf; a = float(tf.random.uniform(()));"
        "setup(seed=7); b = float(tf.random.uniform(())); assert a == b; print(info);"
        # INFO lines (Jupyter's default level for TF's logger) are hidden, TF's warnings are not
        "tf.get_logger().info('an INFO line'); tf.get_logger().warning('a TF warning');"
        "warnings.warn('a learner must see this warning');"
        "warnings.warn_explicit('and this one from keras', UserWarning, 'keras/src/layer.py', 1,"
        " module='keras.src.layer')"
    )
    out = run_python(code, timeout=300)
    assert "tensorflow" in out.stdout
    assert "oneDNN" not in out.stderr and "absl" not in out.stderr, out.stderr
    assert "an INFO line" not in out.stdout + out.stderr and "a TF warning" in out.stdout + out.stderr
    assert "a learner must see this warning" in out.stderr and "and this one from keras" in out.stderr, out.stderr


def test_quiet_tensorflow_adds_no_warning_filter():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        cs.quiet_tensorflow()
        assert warnings.filters == before, "quiet_tensorflow must not filter Python warnings"
        warnings.warn_explicit("a Keras warning", UserWarning, "keras/src/layer.py", 1, module="keras.src.layer")
        warnings.warn("a learner's warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["a Keras warning", "a learner's warning"]


def test_setup_leaves_warnings_visible():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cs.setup(seed=0, frameworks=("torch",), style=False)
        warnings.warn("still shown after setup()", UserWarning, stacklevel=1)
    assert "still shown after setup()" in [str(w.message) for w in seen]


def test_stderr_to_devnull_silences_file_descriptor_2_and_restores_it():
    code = (
        "import os, sys; from course_lib.setup import stderr_to_devnull\n"
        "with stderr_to_devnull():\n    os.write(2, b'hidden C++ line\\n')\n"
        "os.write(2, b'visible again\\n')"
    )
    out = run_python(code)
    assert "hidden" not in out.stderr and "visible again" in out.stderr


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


def test_import_course_lib_is_light():
    """``import course_lib`` (and the modules every setup cell imports) loads no framework.

    What makes the import slow is loading PyTorch or TensorFlow: test that, not seconds, which
    depend on how busy the machine is.
    """
    code = (
        "import sys; import course_lib, course_lib.exercises, course_lib.data, course_lib.setup, "
        "course_lib.glue, course_lib.validation, course_lib.activations; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax', 'sklearn', 'scipy', 'matplotlib.pyplot') "
        "if m in sys.modules))"
    )
    out = run_python(code)
    assert out.stdout.strip() == "[]", f"heavy modules imported by `import course_lib`: {out.stdout}"
