"""course_lib.models: the chapter-7 digit CNN, its shipped weights, and the Keras twin."""

import subprocess
import sys

import numpy as np
import pytest

from course_lib import models

torch = pytest.importorskip("torch")


def test_import_does_not_load_frameworks():
    code = (
        "import sys, course_lib.models; "
        "print('torch' in sys.modules, 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_architecture_shapes_and_parameter_count():
    model = models.digit_cnn()
    assert [name for name, _ in model.named_children()] == list(models.LAYER_NAMES)
    n = sum(p.numel() for p in model.parameters())
    assert n == models.digit_cnn_param_count() == 61_706  # LeNet-5's count (LeCun et al. 1998)
    assert models.digit_cnn_param_count((8, 16), (32, 16)) == sum(
        p.numel() for p in models.digit_cnn((8, 16), (32, 16)).parameters()
    )
    x = torch.zeros(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.pool2(model.relu2(model.conv2(model.pool1(model.relu1(model.conv1(x)))))).shape == (3, 16, 5, 5)


def test_seed_makes_initialisation_reproducible():
    a, b, c = models.digit_cnn(seed=1), models.digit_cnn(seed=1), models.digit_cnn(seed=2)
    assert torch.equal(a.conv1.weight, b.conv1.weight)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


@pytest.mark.parametrize("bad", [(6,), (6, 0), "6,16", (6.0, 16)])
def test_bad_widths_raise_value_error(bad):
    with pytest.raises(ValueError, match="pair of positive integers"):
        models.digit_cnn(channels=bad)


def test_shipped_weights_fit_the_architecture_and_reach_their_accuracy():
    cnn = models.load_digit_cnn()
    assert not cnn.model.training
    # the file holds exactly digit_cnn's tensors (load_state_dict(strict=True) already ran)
    assert models.WEIGHTS_PATH.stat().st_size < 400 * 1024
    # the normalisation statistics are those of the training split it was trained on
    mean, std = models.normalisation_stats(cnn.data.X_train)
    assert cnn.mean == pytest.approx(mean, abs=1e-6) and cnn.std == pytest.approx(std, abs=1e-6)
    val_acc = cnn.accuracy(cnn.data.X_val, cnn.data.y_val)
    test_acc = cnn.accuracy(cnn.data.X_test, cnn.data.y_test)
    assert val_acc == pytest.approx(cnn.info["val_acc"], abs=1e-3)  # recorded when the file was made
    assert test_acc == pytest.approx(cnn.info["test_acc"], abs=1e-3)
    assert test_acc > 0.95  # far above an MLP's ~0.92 here


def test_keras_twin_matches_torch():
    pytest.importorskip("keras")
    t, k = models.load_digit_cnn("torch"), models.load_digit_cnn("keras")
    assert k.model.count_params() == models.digit_cnn_param_count()
    images = t.data.X_test[:64]
    np.testing.assert_allclose(k.predict_logits(images), t.predict_logits(images), rtol=1e-4, atol=1e-4)


def test_preprocess_validates_and_normalises():
    cnn = models.load_digit_cnn()
    x = cnn.preprocess(cnn.data.X_train)
    assert tuple(x.shape) == (3000, 1, 28, 28)
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-4) and float(x.std()) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="normalise twice"):
        cnn.preprocess(x.numpy())
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        cnn.preprocess(np.zeros((28, 28)))


def test_load_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="framework"):
        models.load_digit_cnn("jax")
    with pytest.raises(ValueError, match="train_digit_cnn.py"):
        models.load_digit_cnn(path=tmp_path / "missing.npz")


def test_keras_weight_mapping_rejects_other_models():
    with pytest.raises(ValueError, match="digit_cnn"):
        models.keras_weights_from_torch({"weight": np.zeros(3)})


@pytest.mark.slow  # trains the CNN twice (about 20 s of CPU)
def test_training_is_deterministic_and_round_trips(tmp_path):
    torch.set_num_threads(1)
    m1, info1 = models.train_digit_cnn(epochs=1, seed=3)
    m2, info2 = models.train_digit_cnn(epochs=1, seed=3)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k
    assert info1["val_acc"] == info2["val_acc"] > 0.5
    path = models.save_digit_cnn(m1, info1, tmp_path / "cnn.npz")
    back = models.load_digit_cnn(path=path)
    assert back.info["val_acc"] == pytest.approx(info1["val_acc"])
    assert back.accuracy(back.data.X_val, back.data.y_val) == pytest.approx(info1["val_acc"], abs=1e-3)
