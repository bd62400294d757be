"""course_lib.deploy: affine quantization against its definition and the frameworks, timing, servers."""

import socket

import numpy as np
import pytest

from course_lib import deploy


def test_qparams_per_tensor_map_range_ends_and_zero_exactly():
    x = np.array([-1.0, 0.0, 0.5, 3.0])
    s, z = deploy.affine_qparams(x)
    assert s.shape == () and z.shape == ()
    np.testing.assert_allclose(s, 4.0 / 255)
    q = deploy.quantize(x, s, z)
    assert q.min() == -128 and q.max() == 127
    assert deploy.dequantize(deploy.quantize(0.0, s, z), s, z) == 0.0  # zero is exact


def test_rounding_error_is_at_most_half_a_step():
    rng = np.random.default_rng(0)
    for axis in (None, 0, 1):
        x = rng.normal(size=(16, 50)) * rng.uniform(0.01, 10, size=(16, 1))
        s, _ = deploy.affine_qparams(x, axis=axis)
        err = np.abs(deploy.fake_quantize(x, axis=axis) - x)
        bound = s / 2 if axis is None else np.expand_dims(s, 1 - axis) / 2
        assert np.all(err <= bound * (1 + 1e-12))


def test_per_channel_beats_per_tensor_when_channels_differ_in_scale():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(8, 100)) * np.logspace(-3, 0, 8)[:, None]
    e_tensor = np.abs(deploy.fake_quantize(w) - w)[0].max()
    e_channel = np.abs(deploy.fake_quantize(w, axis=0) - w)[0].max()
    assert e_channel < e_tensor / 10


def test_symmetric_has_zero_zero_point_and_uint8_range():
    s, z = deploy.affine_qparams([-2.0, 1.0], symmetric=True)
    assert z == 0 and np.isclose(s, 2.0 / 127)
    s8, z8 = deploy.affine_qparams([0.0, 1.0], 0, 255)
    assert z8 == 0 and np.isclose(s8, 1 / 255)
    assert deploy.quantize([0.0, 1.0], s8, z8, 0, 255).tolist() == [0, 255]


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_matches_torch_quantize_per_tensor():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=1000)
    s, z = deploy.affine_qparams(x)
    t = torch.quantize_per_tensor(torch.from_numpy(x).float(), float(s), int(z), torch.qint8)
    np.testing.assert_array_equal(t.int_repr().numpy(), deploy.quantize(x.astype(np.float32), s, z))


def test_matches_tensorflow_fake_quant():
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(3).uniform(-1, 2, size=500).astype(np.float32)
    s, z = deploy.affine_qparams(x, 0, 255)
    lo, hi = float(s * (0 - z)), float(s * (255 - z))
    got = tf.quantization.fake_quant_with_min_max_args(x, min=lo, max=hi, num_bits=8).numpy()
    np.testing.assert_allclose(got, deploy.fake_quantize(x, 0, 255), atol=float(s) * 0.501)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="empty"):
        deploy.affine_qparams([])
    with pytest.raises(ValueError, match="NaN"):
        deploy.affine_qparams([np.nan, 1.0])
    with pytest.raises(ValueError, match="qmin < qmax"):
        deploy.affine_qparams([1.0], 5, 5)
    with pytest.raises(ValueError, match="axis"):
        deploy.affine_qparams(np.ones((2, 2)), axis=3)
    with pytest.raises(ValueError, match="scale must be positive"):
        deploy.quantize([1.0], 0.0, 0)


def test_tensor_bytes():
    assert deploy.tensor_bytes([(10, 10), (10,)], 32) == 440
    assert deploy.tensor_bytes([(10, 10), (10,)], 8) == 110
    with pytest.raises(ValueError):
        deploy.tensor_bytes([(1,)], 3)


def test_latency_ms_returns_ordered_percentiles():
    r = deploy.latency_ms(lambda: sum(range(1000)), n=20, repeats=3)
    assert 0 < r["min"] <= r["p50"] <= r["p95"]
    with pytest.raises(ValueError):
        deploy.latency_ms(lambda: None, n=0)


def test_free_port_is_bindable():
    port = deploy.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_load_test_counts_errors():
    r = deploy.load_test(lambda i: 1 / (i % 10), n_requests=50, concurrency=4)
    assert r["n"] == 50 and r["errors"] == 5 and "ZeroDivisionError" in r["first_error"]
    assert r["p50_ms"] <= r["p99_ms"]


def test_server_that_cannot_start_reports_its_log(tmp_path):
    (tmp_path / "broken_app.py").write_text("raise RuntimeError('no model here')\n")
    srv = deploy.ServerProcess("broken_app:app", cwd=tmp_path, timeout=30)
    with pytest.raises(RuntimeError, match="no model here"):
        srv.start()
    assert srv.returncode not in (None, 0)
    with pytest.raises(ValueError, match="package.module:app"):
        deploy.ServerProcess("no_colon")


def test_server_starts_answers_and_stops(tmp_path):
    pytest.importorskip("fastapi")
    (tmp_path / "tiny_app.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/health')\ndef h():\n    return {'ok': 1}\n"
    )
    with deploy.ServerProcess("tiny_app:app", cwd=tmp_path, timeout=60) as srv:
        assert deploy.http_request(srv.url + "/health") == (200, {"ok": 1})
        assert deploy.http_request(srv.url + "/x")[0] == 404
    assert srv.proc.poll() is not None
