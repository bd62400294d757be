"""Chapter 13 exercise answers (13a-13c): references, and wrong answers with their hint."""

import math

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def parity_ok(got, want, atol, rtol):
    return bool(np.all(np.abs(got - want) <= atol + rtol * np.abs(want)))


def model_bytes(shapes, bits):
    return sum(math.prod(s) for s in shapes) * bits // 8


def affine_quantize(x, scale, zero_point):
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def choose_format(table, budget_ms, max_acc_drop):
    """Written independently of the checker's own reference, so that a wrong reference shows."""
    base = max(r["accuracy"] for r in table if r["format"] == "float32")
    ok = [r for r in table if r["p95_ms"] <= budget_ms and base - r["accuracy"] <= max_acc_drop + 1e-12]
    return min(ok, key=lambda r: (r["size_kb"], r["p95_ms"]))["format"] if ok else None


def payload_problem(payload, refuse_bool=True, nan_safe=True):
    if not isinstance(payload, dict) or set(payload) != {"instances"}:
        return "the body must be an object with exactly one key, 'instances'"
    images = payload["instances"]
    if not isinstance(images, list) or not 1 <= len(images) <= 256:
        return "'instances' must be a list of 1 to 256 images"
    for image in images:
        if not isinstance(image, list) or len(image) != 784:
            return "each image must be a list of 784 pixels"
        for v in image:
            if (refuse_bool and isinstance(v, bool)) or not isinstance(v, (int, float)):
                return f"pixel {v!r} is not a number"
            if (nan_safe and not 0.0 <= v <= 1.0) or (not nan_safe and (v < 0.0 or v > 1.0)):
                return f"pixel {v!r} is not in [0, 1]"
    return None


def throughput(concurrency, latency_ms):
    return concurrency / latency_ms * 1000


# -- typical wrong answers -----------------------------------------------------------------------
def _payload_problem_checks_only_the_key(payload):
    return None if isinstance(payload, dict) and "instances" in payload else "bad"


def _choose_format_ignores_latency(table, budget_ms, max_acc_drop):
    return choose_format(table, float("inf"), max_acc_drop)


def _choose_format_never_none(table, budget_ms, max_acc_drop):
    return choose_format(table, budget_ms, max_acc_drop) or "float32"


PASS = [
    ("ch13.parity_ok", parity_ok),
    ("ch13.model_bytes", model_bytes),
    ("ch13.affine_quantize", affine_quantize),
    ("ch13.choose_format", choose_format),
    ("ch13.payload_problem", payload_problem),
    ("ch13.throughput", throughput),
]

FAIL = [
    ("ch13.parity_ok", lambda g, w, a, r: bool(np.all(np.abs(g - w) <= a)), "atol + rtol"),
    ("ch13.model_bytes", lambda shapes, bits: sum(math.prod(s) for s in shapes) * bits, "not bytes"),
    ("ch13.affine_quantize", lambda x, s, z: np.round(x / s) + z, "clipped"),
    ("ch13.choose_format", lambda t, b, d: min(t, key=lambda r: r["size_kb"])["format"], "accuracy"),
    ("ch13.payload_problem", _payload_problem_checks_only_the_key, "refused"),
    ("ch13.throughput", lambda c, lat: c / lat, "milliseconds"),
    # the checker's other hints
    ("ch13.parity_ok", lambda g, w, a, r: not np.any(np.abs(g - w) > a + r * np.abs(w)), "NaN is never close"),
    ("ch13.model_bytes", lambda shapes, bits: sum(math.prod(s) for s in shapes), "bytes per value"),
    ("ch13.affine_quantize", lambda x, s, z: np.clip(np.round(x / s), -128, 127), "zero point"),
    ("ch13.affine_quantize", lambda x, s, z: np.clip(np.floor(x / s) + z, -128, 127), "nearest"),
    ("ch13.affine_quantize", lambda x, s, z: np.clip(np.round(x * s) + z, -128, 127), "divide by the scale"),
    ("ch13.choose_format", _choose_format_ignores_latency, "latency budget"),
    ("ch13.choose_format", _choose_format_never_none, "return None"),
    ("ch13.choose_format", lambda t, b, d: "float32", "not the smallest"),
    ("ch13.payload_problem", lambda p: payload_problem(p, refuse_bool=False), "exclude bool"),
    ("ch13.payload_problem", lambda p: payload_problem(p, nan_safe=False), "NaN compares False"),
    ("ch13.payload_problem", lambda p: "bad", "is valid, return None"),
    ("ch13.throughput", lambda c, lat: 1000 / lat, "one client's rate"),
]
