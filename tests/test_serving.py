"""The chapter-13 server (serving/app.py), tested as it runs: a real uvicorn subprocess on a free port.

Checks that its answers equal onnxruntime run in-process on the same inputs, that every kind of
bad input gets its 4xx with a message (never a 5xx), and that a bounded load of 1,000 requests
from 8 concurrent clients completes without an error.
"""

import http.client
import json
import threading
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from course_lib.data import load_mnist_subset
from course_lib.deploy import ServerProcess, http_request, load_test

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "serving" / "digit_cnn.onnx"


@pytest.fixture(scope="module")
def server():
    with ServerProcess("serving.app:app", cwd=ROOT, timeout=90) as s:
        yield s
    assert s.returncode is not None, "the server did not stop"


@pytest.fixture(scope="module")
def images():
    return load_mnist_subset(images=True).X_test[:64].astype(np.float32)  # (64, 28, 28) in [0, 1]


def reference(images):
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {sess.get_inputs()[0].name: images[:, None]})[0].astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    return logits.argmax(1), p / p.sum(1, keepdims=True)


def test_health(server):
    status, body = http_request(server.url + "/health")
    assert status == 200
    assert body["status"] == "ok" and body["model_name"] == "digit_cnn"
    assert body["input_shape"] == [28, 28] and body["max_instances"] == 256
    assert body["model_version"].startswith("1+")


@pytest.mark.parametrize("shape", ["flat", "nested"])
def test_predictions_equal_in_process_onnxruntime(server, images, shape):
    inst = images.reshape(64, 784) if shape == "flat" else images
    status, body = http_request(server.url + "/predict", "POST", {"instances": inst.tolist()})
    assert status == 200, body
    classes, probs = reference(images)
    np.testing.assert_array_equal(body["predictions"], classes)
    np.testing.assert_allclose(body["probabilities"], probs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.sum(body["probabilities"], axis=1), 1.0, atol=1e-9)
    # the shipped model is the trained CNN, not a random one: most test digits are right
    assert (classes == load_mnist_subset(images=True).y_test[:64]).mean() > 0.9


def _flat(v=0.5, n=784):
    return [v] * n


BAD = {
    # name: (raw body, extra headers, expected status)
    "not JSON": (b"{instances: [0.5", {}, 400),
    "empty body": (b"", {}, 400),
    "not UTF-8": (b"\xff\xfe\x00{", {}, 400),
    "deeply nested JSON": (b"[" * 200_000 + b"]" * 200_000, {}, 400),
    "a JSON list, not an object": (json.dumps([_flat()]).encode(), {}, 422),
    "missing key": (b"{}", {}, 422),
    "wrong key": (json.dumps({"inputs": [_flat()]}).encode(), {}, 422),
    "extra key": (json.dumps({"instances": [_flat()], "signature": "x"}).encode(), {}, 422),
    "instances not a list": (b'{"instances": 3}', {}, 422),
    "instances null": (b'{"instances": null}', {}, 422),
    "empty list": (b'{"instances": []}', {}, 422),
    "783 values": (json.dumps({"instances": [_flat(n=783)]}).encode(), {}, 422),
    "785 values": (json.dumps({"instances": [_flat(n=785)]}).encode(), {}, 422),
    "28 x 27 grid": (json.dumps({"instances": [[[0.5] * 27] * 28]}).encode(), {}, 422),
    "27 x 28 grid": (json.dumps({"instances": [[[0.5] * 28] * 27]}).encode(), {}, 422),
    "a string value": (json.dumps({"instances": [["0.5"] * 784]}).encode(), {}, 422),
    "a boolean value": (json.dumps({"instances": [[True] + _flat(n=783)]}).encode(), {}, 422),
    "an instance that is an object": (b'{"instances": [{"x": 1}]}', {}, 422),
    "NaN": (b'{"instances": [[NaN' + b", 0.5" * 783 + b"]]}", {}, 422),
    "Infinity": (b'{"instances": [[Infinity' + b", 0.5" * 783 + b"]]}", {}, 422),
    "1e400 (overflows to inf)": (b'{"instances": [[1e400' + b", 0.5" * 783 + b"]]}", {}, 422),
    "above 1 (0-255 pixels)": (json.dumps({"instances": [_flat(255.0)]}).encode(), {}, 422),
    "below 0 (normalised pixels)": (json.dumps({"instances": [[-0.42] + _flat(n=783)]}).encode(), {}, 422),
    "257 instances": (json.dumps({"instances": [_flat(0)] * 257}).encode(), {}, 422),
    "body over 2 MB": (b'{"instances": [' + b"0.5," * 600_000 + b"0.5]}", {}, 413),
    # rejected by uvicorn's HTTP parser before the app sees it (plain-text message)
    "bad Content-Length": (b"{}", {"Content-Length": "abc"}, 400),
}


def _raw_post(server, body, headers):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        hdrs = {"Content-Type": "application/json", **headers}
        if "Content-Length" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        conn.putrequest("POST", "/predict")
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_gets_its_4xx_with_a_message(server, name):
    body, headers, want = BAD[name]
    status, raw = _raw_post(server, body, headers)
    assert 400 <= status < 500, f"{name}: got {status} {raw[:300]!r}"
    assert status == want, f"{name}: got {status}, expected {want}: {raw[:300]!r}"
    try:
        detail = json.loads(raw)["detail"]
    except ValueError:
        detail = raw.decode()  # only uvicorn's own protocol errors are plain text
        assert name == "bad Content-Length", raw[:300]
    assert isinstance(detail, str) and len(detail) > 10, detail


def test_chunked_body_over_2mb_is_refused(server):
    # no Content-Length: the server must count the bytes as they arrive
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        chunks = [b'{"instances": ['] + [b"0.5," * 50_000] * 12 + [b"0.5]}"]
        conn.request(
            "POST",
            "/predict",
            body=iter(chunks),
            encode_chunked=True,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )
        r = conn.getresponse()
        assert r.status == 413, r.read()[:300]
    except (ConnectionResetError, BrokenPipeError):
        pass  # closing the connection on an oversized upload is also a refusal, not a crash
    finally:
        conn.close()


def test_wrong_method_and_path(server):
    assert http_request(server.url + "/predict")[0] == 405
    assert http_request(server.url + "/nope")[0] == 404


def test_load_1000_requests_from_8_clients(server, images):
    local = threading.local()
    bodies = [json.dumps({"instances": [images[i % 64].ravel().tolist()]}).encode() for i in range(64)]
    classes, _ = reference(images)

    def send(i):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        local.conn.request("POST", "/predict", body=bodies[i % 64], headers={"Content-Type": "application/json"})
        r = local.conn.getresponse()
        raw = r.read()
        if r.status != 200:
            raise RuntimeError(f"status {r.status}: {raw[:200]!r}")
        if json.loads(raw)["predictions"] != [int(classes[i % 64])]:
            raise RuntimeError("wrong prediction under load")

    stats = load_test(send, n_requests=1000, concurrency=8)
    assert stats["errors"] == 0, stats["first_error"]
    assert stats["n"] == 1000 and stats["throughput_rps"] > 0 and stats["p99_ms"] >= stats["p50_ms"]
    # the server is still healthy and never logged a server error
    assert http_request(server.url + "/health")[0] == 200
    assert "Traceback" not in server.log and " 500" not in server.log, server.log[-2000:]
