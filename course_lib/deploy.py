"""Deployment helpers: affine int8 quantization, latency measurement, a served model in a subprocess.

Introduced in chapter 13, "Deployment" (13a export, 13b quantize and prune, 13c serve).

**Affine (asymmetric) quantization.** A float tensor ``x`` is stored as integers ``q`` in
``[qmin, qmax]`` (``[-128, 127]`` for int8) with a float ``scale`` ``s`` and an integer
``zero_point`` ``z`` {Jacob et al. 2018}::

    q     = clip(round(x / s) + z, qmin, qmax)          (same shape as x, integer)
    x_hat = s * (q - z)                                 (the dequantized approximation)
    s     = (max(x, 0) - min(x, 0)) / (qmax - qmin),    z = qmin - round(min(x, 0) / s)

The range is widened to include 0 so that 0 is represented exactly (zero padding, ReLU zeros).
For every ``x`` inside the range, ``|x - x_hat| <= s / 2`` (rounding to the nearest integer moves
at most half a step). *Per-tensor* quantization uses one ``(s, z)``; *per-channel* one pair per
slice along an axis (e.g. each output channel of a conv kernel), which keeps small channels
from being crushed by one large one. *Symmetric* quantization fixes ``z = 0`` and
``s = max|x| / 127``.

**Serving in a subprocess.** :func:`free_port` asks the OS for an unused TCP port on
127.0.0.1; :class:`ServerProcess` starts ``python -m uvicorn module:app`` on it, waits (with a
timeout) until ``GET /health`` answers, and stops it cleanly (terminate, then kill) when the
``with`` block ends, even after an error.

NumPy only at import time; nothing here imports PyTorch, TensorFlow or onnxruntime.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INT8_RANGE = (-128, 127)
UINT8_RANGE = (0, 255)


def _check_range(qmin: int, qmax: int) -> None:
    if not (isinstance(qmin, (int, np.integer)) and isinstance(qmax, (int, np.integer)) and qmin < qmax):
        raise ValueError(f"need integers qmin < qmax (e.g. -128, 127 for int8), got {qmin!r}, {qmax!r}")


def affine_qparams(
    x: Any, qmin: int = -128, qmax: int = 127, axis: int | None = None, symmetric: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Scale and zero point for ``x``: per tensor (``axis=None``: two scalars) or per channel.

    With ``axis=k`` the statistics are taken over every axis except ``k``, and ``scale`` and
    ``zero_point`` have shape ``(x.shape[k],)``. The range ``[min, max]`` is widened to contain 0;
    a constant-zero slice gets scale 1 (anything works, every value is 0). ``symmetric=True``
    gives ``zero_point = 0`` and ``scale = max|x| / qmax``.
    Returns ``(scale float64, zero_point int64)``.

    Introduced in chapter 13.
    """
    _check_range(qmin, qmax)
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("x is empty: there is nothing to take a range from")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf: a quantization range needs finite values")
    if axis is None:
        lo, hi = np.asarray(x.min()), np.asarray(x.max())
    else:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis {axis} is out of range for an array with {x.ndim} dimensions")
        others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
        lo, hi = x.min(axis=others), x.max(axis=others)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    if symmetric:
        amax = np.maximum(-lo, hi)
        scale = np.where(amax > 0, amax / qmax, 1.0)
        zero = np.zeros_like(scale, dtype=np.int64)
    else:
        scale = np.where(hi > lo, (hi - lo) / (qmax - qmin), 1.0)
        zero = np.clip(qmin - np.round(lo / scale), qmin, qmax).astype(np.int64)
    return scale.astype(np.float64), zero


def _broadcast(p: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    if axis is None or p.ndim == 0:
        return p
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return p.reshape(shape)


def quantize(
    x: Any, scale: Any, zero_point: Any, qmin: int = -128, qmax: int = 127, axis: int | None = None
) -> np.ndarray:
    """``q = clip(round(x / scale) + zero_point, qmin, qmax)`` as int64 (shape of ``x``).

    ``scale``/``zero_point`` are scalars, or vectors along ``axis`` (per channel). NumPy rounds
    halves to even, as onnxruntime's ``QuantizeLinear`` does.

    Introduced in chapter 13.
    """
    _check_range(qmin, qmax)
    x = np.asarray(x, dtype=np.float64)
    s = _broadcast(np.asarray(scale, dtype=np.float64), x.ndim, axis)
    z = _broadcast(np.asarray(zero_point, dtype=np.float64), x.ndim, axis)
    if np.any(s <= 0):
        raise ValueError("scale must be positive; compute it with affine_qparams")
    return np.clip(np.round(x / s) + z, qmin, qmax).astype(np.int64)


def dequantize(q: Any, scale: Any, zero_point: Any, axis: int | None = None) -> np.ndarray:
    """``x_hat = scale * (q - zero_point)`` as float64 (shape of ``q``).

    Introduced in chapter 13.
    """
    q = np.asarray(q, dtype=np.float64)
    s = _broadcast(np.asarray(scale, dtype=np.float64), q.ndim, axis)
    z = _broadcast(np.asarray(zero_point, dtype=np.float64), q.ndim, axis)
    return s * (q - z)


def fake_quantize(
    x: Any, qmin: int = -128, qmax: int = 127, axis: int | None = None, symmetric: bool = False
) -> np.ndarray:
    """Quantize then dequantize ``x`` with its own range: the float values int8 can represent.

    Introduced in chapter 13.
    """
    s, z = affine_qparams(x, qmin, qmax, axis=axis, symmetric=symmetric)
    return dequantize(quantize(x, s, z, qmin, qmax, axis=axis), s, z, axis=axis)


def tensor_bytes(shapes: Sequence[Sequence[int]], bits: int = 32) -> int:
    """Bytes to store tensors of these shapes at ``bits`` per value (no scales, no file header).

    Introduced in chapter 13.
    """
    if bits not in (1, 2, 4, 8, 16, 32, 64):
        raise ValueError(f"bits must be a power of two up to 64, got {bits!r}")
    n = sum(int(np.prod(s)) for s in shapes)
    return n * bits // 8


# ---------------------------------------------------------------------------------- timing
def latency_ms(fn: Callable[[], Any], n: int = 50, repeats: int = 3, warmup: int = 3) -> dict[str, float]:
    """Wall-clock latency of ``fn()`` in milliseconds: p50 and p95 of ``n`` calls, ``repeats`` times.

    Each repeat times ``n`` calls one by one (after ``warmup`` untimed calls) and takes their
    50th and 95th percentiles; the result is the **median over repeats** of each percentile,
    so one noisy repeat (another process grabbing the CPU) does not decide the number.
    Returns ``{"p50": ..., "p95": ..., "min": ...}``; ``min``, the fastest call of all, is the
    cost of the work itself (another process can only add time): compare two codes' ``min`` in a
    claim guard that must hold on a busy machine.

    Introduced in chapter 13.
    """
    if n < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"need n >= 1, repeats >= 1, warmup >= 0, got {n}, {repeats}, {warmup}")
    for _ in range(warmup):
        fn()
    p50s, p95s, fastest = [], [], np.inf
    for _ in range(repeats):
        times = np.empty(n)
        for i in range(n):
            t0 = time.perf_counter()
            fn()
            times[i] = time.perf_counter() - t0
        p50s.append(np.percentile(times, 50) * 1e3)
        p95s.append(np.percentile(times, 95) * 1e3)
        fastest = min(fastest, float(times.min()) * 1e3)
    return {"p50": float(np.median(p50s)), "p95": float(np.median(p95s)), "min": fastest}


# ---------------------------------------------------------------------------------- serving
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nobody listens on right now (the OS picks it).

    Another process could take it before you bind it; :class:`ServerProcess` reports that as a
    start failure with the server's own message.

    Introduced in chapter 13.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``python -m uvicorn <app>`` in a subprocess on ``host:port``, used as a context manager.

    ``app`` is the ``module:attribute`` of the ASGI application (e.g. ``"serving.app:app"``),
    ``cwd`` the directory to start in (the repository root), ``env`` extra environment variables
    (e.g. the model path). On entry it waits at most ``timeout`` seconds for
    ``GET {health_path}`` to return 200, and raises ``RuntimeError`` with the server's log if it
    does not (or if the process dies). On exit it sends SIGTERM, waits ``stop_timeout`` seconds,
    then SIGKILL; ``returncode`` and ``log`` stay readable afterwards.

    Introduced in chapter 13.
    """

    app: str
    cwd: str | Path = "."
    port: int | None = None
    host: str = "127.0.0.1"
    env: dict[str, str] | None = None
    timeout: float = 60.0
    stop_timeout: float = 10.0
    health_path: str = "/health"

    def __post_init__(self) -> None:
        if ":" not in self.app:
            raise ValueError(f"app must look like 'package.module:app', got {self.app!r}")
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self._log_path: Path | None = None
        self._log_text: str | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        if self._log_text is not None:
            return self._log_text
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def start(self) -> ServerProcess:
        """Start the subprocess and wait until it answers its health check (see the class doc)."""
        import tempfile

        if self.proc is not None:
            raise ValueError("this server is already started; make a new ServerProcess")
        if self.port is None:
            self.port = free_port(self.host)
        env = {**os.environ, **(self.env or {})}
        root = str(Path(self.cwd).resolve())
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        fd, name = tempfile.mkstemp(prefix="uvicorn-", suffix=".log")
        self._log_path = Path(name)
        with os.fdopen(fd, "wb") as logf:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    self.app,
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=root,
                env=env,
                stdout=logf,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()  # records the exit code and keeps the log
                raise RuntimeError(f"the server exited with code {self.returncode} before answering:\n{self.log}")
            try:
                with urllib.request.urlopen(self.url + self.health_path, timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer {self.health_path} within {self.timeout} s:\n{self.log}")

    def stop(self) -> int | None:
        """Terminate (then kill if needed) the subprocess; returns its exit code."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(self.stop_timeout)
        self.returncode = self.proc.returncode
        # keep the log in memory and remove the temporary file
        if self._log_path is not None and self._log_path.exists():
            self._log_text = self._log_path.read_text(errors="replace")
            self._log_path.unlink()
        return self.returncode

    def __enter__(self) -> ServerProcess:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def http_request(
    url: str,
    method: str = "GET",
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One HTTP request with the standard library; returns ``(status, parsed JSON or text)``.

    ``body`` may be raw bytes (sent as is), a string (UTF-8) or a JSON-able object (serialised,
    with ``Content-Type: application/json``). 4xx/5xx answers are returned, not raised.

    Introduced in chapter 13.
    """
    import json

    data: bytes | None
    hdrs = dict(headers or {})
    if body is None or isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def load_test(send: Callable[[int], Any], n_requests: int = 1000, concurrency: int = 8) -> dict[str, Any]:
    """Call ``send(i)`` for ``i < n_requests`` from ``concurrency`` threads; time each call.

    ``send`` does one request and returns anything (raise to count an error). Returns a dict
    with ``n``, ``errors``, ``p50_ms``, ``p99_ms``, ``throughput_rps``, ``wall_s``,
    ``first_error`` and ``latencies_ms`` (every successful request's latency, an array);
    latencies are per request, throughput is completed requests per wall-clock second.

    Introduced in chapter 13.
    """
    from concurrent.futures import ThreadPoolExecutor

    if n_requests < 1 or concurrency < 1:
        raise ValueError(f"need n_requests >= 1 and concurrency >= 1, got {n_requests}, {concurrency}")
    latencies = np.full(n_requests, np.nan)
    errors: list[str] = []

    def one(i: int) -> None:
        t0 = time.perf_counter()
        try:
            send(i)
        except Exception as e:  # noqa: BLE001 - every failure is counted and reported
            errors.append(f"request {i}: {type(e).__name__}: {e}")
            return
        latencies[i] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n_requests)))
    wall = time.perf_counter() - t0
    ok = latencies[np.isfinite(latencies)]
    return {
        "n": n_requests,
        "errors": len(errors),
        "p50_ms": float(np.percentile(ok, 50) * 1e3) if ok.size else float("nan"),
        "p99_ms": float(np.percentile(ok, 99) * 1e3) if ok.size else float("nan"),
        "throughput_rps": float(ok.size / wall),
        "wall_s": float(wall),
        "first_error": errors[0] if errors else None,
        "latencies_ms": ok * 1e3,
    }
