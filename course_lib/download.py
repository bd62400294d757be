"""Checksummed, cached downloads of the full datasets, with an offline fallback.

Introduced in chapter 0. ``load_mnist()`` fetches the 70,000-image MNIST once into the cache
(``$COURSE_DATA_DIR`` or ``~/.cache/course_lib``), verifies every file's SHA-256, and returns
:class:`course_lib.data.Splits`. With no network it prints one line saying so and returns the
offline 5,000-image subset instead, so every notebook still runs.

Guarantees of :func:`download`:

- a file is used only after its SHA-256 matches; a corrupted cached file is reported and
  downloaded again, never used;
- the transfer goes to ``<name>.part`` and is renamed into place only once verified (atomic),
  so no half-written file is ever used; an interrupted transfer is resumed with an HTTP
  ``Range`` request when the server supports it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib.data import Splits, load_mnist_subset

CHUNK = 1 << 20


class DownloadError(OSError):
    """The file could not be fetched (no network, server error, truncated transfer). Introduced in chapter 0."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not have the expected SHA-256. Introduced in chapter 0."""


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: where from, its expected SHA-256 and the name to cache it under. Introduced in chapter 0."""

    url: str
    sha256: str
    filename: str


_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# SHA-256 of the official files (the same values pinned by torchvision, tfds and Keras).
DATASETS: dict[str, tuple[RemoteFile, ...]] = {
    "mnist": (
        RemoteFile(
            _MNIST + "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "mnist-train-images.gz",
        ),
        RemoteFile(
            _MNIST + "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "mnist-train-labels.gz",
        ),
        RemoteFile(
            _MNIST + "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "mnist-test-images.gz",
        ),
        RemoteFile(
            _MNIST + "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "mnist-test-labels.gz",
        ),
    ),
    "fashion-mnist": (
        RemoteFile(
            _FASHION + "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "fashion-train-images.gz",
        ),
        RemoteFile(
            _FASHION + "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "fashion-train-labels.gz",
        ),
        RemoteFile(
            _FASHION + "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "fashion-test-images.gz",
        ),
        RemoteFile(
            _FASHION + "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "fashion-test-labels.gz",
        ),
    ),
    "cifar10": (
        RemoteFile(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            "cifar-10-python.tar.gz",
        ),
    ),
}


def cache_dir() -> Path:
    """Where downloads are kept: ``$COURSE_DATA_DIR`` if set, else ``~/.cache/course_lib``. Introduced in chapter 0."""
    return Path(os.environ.get("COURSE_DATA_DIR", Path.home() / ".cache" / "course_lib"))


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as lowercase hex. Introduced in chapter 0."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_sha(sha256: str) -> str:
    sha = sha256.lower() if isinstance(sha256, str) else ""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"sha256 must be 64 hexadecimal characters, got {sha256!r}")
    return sha


def download(url: str, sha256: str, dest: str | os.PathLike[str], timeout: float = 30.0, quiet: bool = False) -> Path:
    """Fetch ``url`` to ``dest`` unless a verified copy is already there; return ``dest``.

    Raises :class:`ChecksumError` if the bytes do not match ``sha256`` (the bad file is
    deleted) and :class:`DownloadError` if the transfer fails or is cut short.

    Introduced in chapter 0.
    """
    sha = _check_sha(sha256)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    dest = Path(dest)
    if dest.exists():
        if sha256_of(dest) == sha:
            return dest
        if not quiet:
            print(f"Cached {dest.name} is corrupted (SHA-256 mismatch); downloading it again.")
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, timeout)
    got = sha256_of(part)
    if got != sha:
        part.unlink()
        raise ChecksumError(f"{url}: SHA-256 is {got}, expected {sha}; the file was discarded.")
    os.replace(part, dest)  # atomic: dest is either absent or complete and verified
    return dest


def _fetch(url: str, part: Path, timeout: float) -> None:
    """Stream ``url`` into ``part``, resuming from its current size when the server allows."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = response.status == 206
            expected = response.length  # bytes still to come, if the server said
            with open(part, "ab" if resumed else "wb") as f:
                received = 0
                while block := response.read(CHUNK):
                    f.write(block)
                    received += len(block)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # range not satisfiable: the .part is stale; start over
            part.unlink()
            return _fetch(url, part, timeout)
        raise DownloadError(f"{url}: server answered HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(f"{url}: {getattr(e, 'reason', e)}") from e
    if expected is not None and received < expected:
        raise DownloadError(f"{url}: transfer cut short ({received} of {expected} bytes); run again to resume.")


def fetch_dataset(name: str, timeout: float = 30.0) -> list[Path]:
    """Download (or find in the cache) every file of dataset ``name``; see :data:`DATASETS`. Introduced in chapter 0."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}")
    return [download(f.url, f.sha256, cache_dir() / f.filename, timeout=timeout) for f in DATASETS[name]]


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST format) into a ``uint8`` array. Introduced in chapter 0."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _offline(name: str, reason: str, images: bool) -> Splits:
    print(f"{name}: no download ({reason}); using the offline 5,000-image MNIST subset instead.")
    return load_mnist_subset(images=images)


def _mnist_like(name: str, images: bool, timeout: float, offline: bool) -> Splits:
    if offline:
        return _offline(name, "offline=True", images)
    try:
        tr_x, tr_y, te_x, te_y = (read_idx(p) for p in fetch_dataset(name, timeout))
    except DownloadError as e:
        return _offline(name, str(e), images)
    X = np.concatenate([tr_x, te_x]).astype(np.float32) / 255.0
    y = np.concatenate([tr_y, te_y]).astype(np.int64)
    X = X if images else X.reshape(len(X), -1)
    n_fit, n_val = len(tr_x), 10_000  # the last 10,000 training images validate; the official test set tests
    n_train = n_fit - n_val
    return Splits(X[:n_train], y[:n_train], X[n_train:n_fit], y[n_train:n_fit], X[n_fit:], y[n_fit:], name=name)


def load_mnist(images: bool = False, timeout: float = 30.0, offline: bool = False) -> Splits:
    """Full MNIST: 50,000 train / 10,000 validation / 10,000 official test, scaled to [0, 1].

    ``X`` is ``(n, 784)`` float32 (``(n, 28, 28)`` with ``images=True``), ``y`` ``(n,)`` in 0..9.
    Without a network (or with ``offline=True``) returns :func:`course_lib.data.load_mnist_subset`.

    Introduced in chapter 0.
    """
    return _mnist_like("mnist", images, timeout, offline)


def load_fashion_mnist(images: bool = False, timeout: float = 30.0, offline: bool = False) -> Splits:
    """Full Fashion-MNIST, same shapes and splits as :func:`load_mnist`.

    There is no offline Fashion-MNIST: without a network this returns the MNIST subset (same
    shapes, 10 classes) and says so.

    Introduced in chapter 0.
    """
    return _mnist_like("fashion-mnist", images, timeout, offline)


def load_cifar10(timeout: float = 60.0, offline: bool = False) -> Splits:
    """CIFAR-10: ``X`` ``(n, 32, 32, 3)`` float32 in [0, 1], ``y`` ``(n,)`` in 0..9.

    45,000 train / 5,000 validation / 10,000 official test. Without a network this returns the
    MNIST subset padded to 32x32 and repeated over 3 channels (so code shapes still work), and says so.

    Introduced in chapter 0.
    """
    try:
        if offline:
            raise DownloadError("offline=True")
        (archive,) = fetch_dataset("cifar10", timeout)
    except DownloadError as e:
        s = _offline("cifar10", str(e), images=True)
        f = lambda X: np.repeat(np.pad(X, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=-1)  # noqa: E731
        return Splits(
            f(s.X_train), s.y_train, f(s.X_val), s.y_val, f(s.X_test), s.y_test, name="mnist-subset-as-cifar-shape"
        )
    xs, ys = [], []
    with tarfile.open(archive, "r:gz") as tar:
        names = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)] + ["cifar-10-batches-py/test_batch"]
        for member in names:
            handle = tar.extractfile(member)
            if handle is None:
                raise DownloadError(f"{archive} has no file {member}; delete it to download it again")
            batch = pickle.load(handle, encoding="bytes")  # noqa: S301 - verified archive
            xs.append(batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    X = np.concatenate(xs).astype(np.float32) / 255.0
    y = np.concatenate(ys)
    return Splits(X[:45_000], y[:45_000], X[45_000:50_000], y[45_000:50_000], X[50_000:], y[50_000:], name="cifar10")


__all__ = [
    "DATASETS",
    "ChecksumError",
    "DownloadError",
    "RemoteFile",
    "cache_dir",
    "download",
    "fetch_dataset",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "sha256_of",
]
