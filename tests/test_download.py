"""The cached downloader against a real HTTP server on 127.0.0.1 (no mocks of the network)."""

import gzip
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from course_lib import download as dl

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves FILES; '/truncated/...' announces the full length but stops half-way;
    honours 'Range: bytes=N-' for resumable transfers; counts requests."""

    files: dict[str, bytes] = {}
    requests: list[str] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        name = self.path.removeprefix("/truncated")
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        chunk = body[start:]
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        if self.path.startswith("/truncated"):
            chunk = chunk[: len(chunk) // 2]
        self.wfile.write(chunk)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def files(tmp_path, monkeypatch):
    Handler.files = {"/good.bin": PAYLOAD}
    Handler.requests = []
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/good.bin"


def test_good_file_is_downloaded_verified_and_cached(server, tmp_path):
    dest = tmp_path / "good.bin"
    assert dl.download(server + "/good.bin", SHA, dest) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("good.bin.part").exists()
    dl.download(server + "/good.bin", SHA, dest)  # second call: served from the cache
    assert Handler.requests == ["/good.bin"]


def test_wrong_checksum_is_rejected_and_discarded(server, tmp_path):
    dest = tmp_path / "good.bin"
    with pytest.raises(dl.ChecksumError, match="SHA-256"):
        dl.download(server + "/good.bin", "0" * 64, dest)
    assert not dest.exists() and not dest.with_name("good.bin.part").exists()


def test_server_down_raises_download_error(tmp_path):
    with pytest.raises(dl.DownloadError):
        dl.download(closed_port_url(), SHA, tmp_path / "x.bin", timeout=5)
    assert not (tmp_path / "x.bin").exists()


def test_http_error_raises_download_error(server, tmp_path):
    with pytest.raises(dl.DownloadError, match="HTTP 404"):
        dl.download(server + "/missing.bin", SHA, tmp_path / "m.bin")


def test_truncated_transfer_is_never_used_then_resumed(server, tmp_path):
    dest = tmp_path / "good.bin"
    with pytest.raises(dl.DownloadError, match="cut short"):
        dl.download(server + "/truncated/good.bin", SHA, dest)
    part = dest.with_name("good.bin.part")
    assert not dest.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    dl.download(server + "/good.bin", SHA, dest)  # resumes with a Range request
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_corrupted_cache_is_replaced(server, tmp_path, capsys):
    dest = tmp_path / "good.bin"
    dest.write_bytes(b"corrupted")
    dl.download(server + "/good.bin", SHA, dest)
    assert dest.read_bytes() == PAYLOAD
    assert "corrupted" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, match", [({"sha256": "abc"}, "64 hexadecimal"), ({"url": "ftp://x/y"}, "http")])
def test_bad_arguments(tmp_path, kwargs, match):
    args = {"url": "http://127.0.0.1/x", "sha256": SHA, "dest": tmp_path / "x"} | kwargs
    with pytest.raises(ValueError, match=match):
        dl.download(**args)


def _idx(arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


def _serve_fake_mnist(server, monkeypatch, n_train=60_000, n_test=10_000):
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28)),
        rng.integers(0, 10, n_train),
        rng.integers(0, 256, (n_test, 28, 28)),
        rng.integers(0, 10, n_test),
    ]
    remote = []
    for i, arr in enumerate(arrays):
        body = _idx(arr)
        Handler.files[f"/mnist{i}.gz"] = body
        remote.append(dl.RemoteFile(f"{server}/mnist{i}.gz", hashlib.sha256(body).hexdigest(), f"m{i}.gz"))
    monkeypatch.setitem(dl.DATASETS, "mnist", tuple(remote))
    return arrays


def test_load_mnist_from_server(server, monkeypatch):
    arrays = _serve_fake_mnist(server, monkeypatch)
    s = dl.load_mnist()
    assert s.X_train.shape == (50_000, 784) and s.X_val.shape == (10_000, 784)
    assert s.X_test.shape == (10_000, 784) and s.X_train.dtype == np.float32
    np.testing.assert_array_equal(s.y_test, arrays[3])
    assert s.X_train.max() <= 1.0


def test_load_mnist_falls_back_offline_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(dl.DATASETS, "mnist", (dl.RemoteFile(closed_port_url(), SHA, "m.gz"),))
    s = dl.load_mnist(timeout=5)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "offline 5,000-image MNIST subset" in out[0]
    assert s.name == "mnist-subset-5000" and s.X_train.shape == (3000, 784)


def test_cifar_fallback_has_cifar_shapes(capsys):
    s = dl.load_cifar10(offline=True)
    assert s.X_train.shape == (3000, 32, 32, 3)
    assert "offline" in capsys.readouterr().out


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        dl.fetch_dataset("imagenet")


def test_read_idx_rejects_other_files(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(b"not an idx file"))
    with pytest.raises(ValueError, match="IDX"):
        dl.read_idx(p)
