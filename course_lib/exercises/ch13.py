"""Checkers for chapter 13, "Deployment" (chapters/13a-13c)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import deploy
from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register, to_numpy


# ---------------------------------------------------------------------------- 13a
@register("ch13.parity_ok")
def _parity_ok(parity_ok: Any) -> str:
    """``parity_ok(got, want, atol, rtol)``: True iff every ``|got - want| <= atol + rtol * |want|``."""
    want = np.array([1.0, -2.0, 1000.0])
    cases = [
        (want + np.array([1e-6, 0, 0]), 1e-5, 0.0, True),
        (want + np.array([0, 0, 0.05]), 1e-5, 1e-4, True),  # passes only through rtol * |want|
        (want + np.array([0, 2e-5, 0]), 1e-5, 1e-6, False),
        (want[::-1].copy(), 1e-3, 1e-3, False),
        (want + np.array([0, 0, 0.05]), 1e-5, 0.0, False),
        (np.array([np.nan, -2.0, 1000.0]), 1.0, 1.0, False),
    ]
    for got, atol, rtol, expected in cases:
        ans = call(parity_ok, got.copy(), want.copy(), atol, rtol)
        if not isinstance(ans, (bool, np.bool_)):
            raise CheckFailed(f"return True or False, got {type(ans).__name__} ({ans!r}).")
        if bool(ans) != expected:
            hint = ""
            if np.isnan(got).any():
                hint = " A NaN is never close to anything: NaN <= tol is False, so a check must fail on NaN."
            elif expected and rtol > 0:
                hint = " The tolerance is atol + rtol * |want| per entry: large values get a larger tolerance."
            elif not expected and atol < 1e-4 and rtol == 0:
                hint = " With rtol = 0 only atol counts."
            raise CheckFailed(
                f"parity_ok(got={got.tolist()}, want={want.tolist()}, atol={atol}, rtol={rtol}) "
                f"returned {bool(ans)}, expected {expected}.{hint}"
            )
    return "the same rule as np.testing.assert_allclose (NaN fails)."


@register("ch13.model_bytes")
def _model_bytes(model_bytes: Any) -> str:
    """``model_bytes(shapes, bits)``: bytes to store tensors of these shapes at ``bits`` per value."""
    cnn = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
    for shapes, bits in ((cnn, 32), (cnn, 8), ([(3, 4)], 16), ([(10,)], 4)):
        got = call(model_bytes, list(shapes), bits)
        want = deploy.tensor_bytes(shapes, bits)
        n = sum(math.prod(s) for s in shapes)
        if to_numpy(got, "model_bytes").shape != ():
            raise CheckFailed("return one number (bytes).")
        if float(got) == n * bits:
            raise CheckFailed(
                f"model_bytes(..., bits={bits}) returned {float(got):g}: that is bits, not bytes (divide by 8)."
            )
        if float(got) == n and bits != 8:
            raise CheckFailed(
                f"model_bytes(..., bits={bits}) returned the number of values, {n}: multiply by the bytes per value."
            )
        expect_array(got, want, rtol=0, atol=0.5, what=f"model_bytes(shapes, bits={bits})")
    return "61,706 parameters: 246,824 bytes as float32, 61,706 as int8 (plus a few scales)."


# ---------------------------------------------------------------------------- 13b
@register("ch13.affine_quantize")
def _affine_quantize(affine_quantize: Any) -> str:
    """``affine_quantize(x, scale, zero_point)`` -> int8 values ``clip(round(x / s) + z, -128, 127)``."""
    rng = np.random.default_rng(0)
    for lo, hi in ((-1.0, 3.0), (0.0, 6.0), (-0.2, 0.1)):
        x = rng.uniform(lo, hi, size=50)
        s, z = deploy.affine_qparams(x)
        x = np.concatenate([x, [hi * 2, lo * 2 - 1]])  # two values outside the range: must clip
        got = to_numpy(call(affine_quantize, x.copy(), float(s), int(z)), "affine_quantize(x, s, z)")
        want = deploy.quantize(x, s, z)
        if got.shape != want.shape:
            raise CheckFailed(
                f"affine_quantize returned shape {got.shape}, expected {want.shape} (one integer per value)."
            )
        if not np.allclose(got, want):
            raw = np.round(x / s) + z
            if np.allclose(got[:-2], want[:-2]) and np.allclose(got, raw):
                raise CheckFailed("values outside the range are not clipped to [-128, 127]: int8 cannot hold them.")
            if np.allclose(got, np.clip(np.round(x / s), -128, 127)) and z != 0:
                raise CheckFailed("you forgot the zero point: q = round(x / scale) + zero_point.")
            if np.allclose(got, np.clip(np.floor(x / s) + z, -128, 127)) or np.allclose(
                got, np.clip(np.trunc(x / s) + z, -128, 127)
            ):
                raise CheckFailed(
                    "round to the nearest integer (np.round), not down (floor / int()): the "
                    "error bound s / 2 needs nearest rounding."
                )
            if np.allclose(got, np.clip(np.round(x * s) + z, -128, 127)):
                raise CheckFailed("divide by the scale (x / s), do not multiply.")
            expect_array(got, want, rtol=0, atol=0, what=f"affine_quantize on data in [{lo}, {hi}]")
    return "round to nearest, add the zero point, clip to [-128, 127]."


def _choose_format_reference(table: list[dict[str, Any]], budget_ms: float, max_acc_drop: float) -> str | None:
    base = max(r["accuracy"] for r in table if r["format"] == "float32")
    ok = [r for r in table if r["p95_ms"] <= budget_ms and base - r["accuracy"] <= max_acc_drop + 1e-12]
    if not ok:
        return None
    return min(ok, key=lambda r: (r["size_kb"], r["p95_ms"]))["format"]


CHOOSE_TABLES: list[list[dict[str, Any]]] = [
    [
        {"format": "float32", "size_kb": 250, "p95_ms": 0.30, "accuracy": 0.960},
        {"format": "int8 dynamic", "size_kb": 80, "p95_ms": 0.45, "accuracy": 0.959},
        {"format": "int8 static", "size_kb": 75, "p95_ms": 0.25, "accuracy": 0.955},
        {"format": "int8 static, bad calibration", "size_kb": 75, "p95_ms": 0.25, "accuracy": 0.80},
    ]
]


@register("ch13.choose_format")
def _choose_format(choose_format: Any) -> str:
    """``choose_format(table, budget_ms, max_acc_drop)``: the smallest format within both budgets."""
    t = CHOOSE_TABLES[0]
    for budget, drop in ((1.0, 0.002), (1.0, 0.01), (0.28, 0.01), (0.4, 0.002), (0.1, 0.5), (1.0, 0.5)):
        got = call(choose_format, [dict(r) for r in t], budget, drop)
        want = _choose_format_reference(t, budget, drop)
        if want is None:
            if got is not None:
                raise CheckFailed(f"with budget_ms={budget} no format is fast enough: return None, got {got!r}.")
            continue
        if got == "int8 static, bad calibration":
            raise CheckFailed(
                "you picked a format that loses 16 points of accuracy: compare each accuracy "
                "with the float32 model's and keep only those within max_acc_drop."
            )
        row = next((r for r in t if r["format"] == got), None)
        if row is not None and row["p95_ms"] > budget:
            raise CheckFailed(f"budget_ms={budget}: {got!r} has p95 {row['p95_ms']} ms, over the latency budget.")
        if row is not None and 0.960 - row["accuracy"] > drop + 1e-12:
            raise CheckFailed(
                f"max_acc_drop={drop}: {got!r} loses {0.960 - row['accuracy']:.3f} of accuracy "
                "against float32, more than allowed."
            )
        if got == "float32" and want != "float32":
            raise CheckFailed(
                f"budget_ms={budget}, max_acc_drop={drop}: float32 qualifies but is not the smallest file that does."
            )
        expect_equal(got, want, what=f"choose_format(table, budget_ms={budget}, max_acc_drop={drop})")
    return "latency budget first, then accuracy, then the smallest file."


# ---------------------------------------------------------------------------- 13c
def _payload_problem_reference(payload: Any) -> bool:
    if not isinstance(payload, dict) or set(payload) != {"instances"}:
        return True
    inst = payload["instances"]
    if not isinstance(inst, list) or not 1 <= len(inst) <= 256:
        return True
    for im in inst:
        if not isinstance(im, list) or len(im) != 784:
            return True
        for v in im:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 <= v <= 1.0):
                return True
    return False


def _payloads() -> list[tuple[str, Any]]:
    ok = [0.5] * 784
    return [
        ("a valid request", {"instances": [ok]}),
        ("two valid images, integer pixels", {"instances": [[0] * 784, [1] * 784]}),
        ("a list instead of an object", [ok]),
        ("a missing key", {}),
        ("an extra key", {"instances": [ok], "extra": 1}),
        ("783 pixels", {"instances": [ok[:-1]]}),
        ("an empty batch", {"instances": []}),
        ("257 images", {"instances": [ok] * 257}),
        ("a string pixel", {"instances": [["0.5"] + ok[1:]]}),
        ("a boolean pixel", {"instances": [[True] + ok[1:]]}),
        ("a NaN pixel", {"instances": [[float("nan")] + ok[1:]]}),
        ("an infinite pixel", {"instances": [[float("inf")] + ok[1:]]}),
        ("a pixel of 255", {"instances": [[255.0] + ok[1:]]}),
        ("a negative pixel", {"instances": [[-0.1] + ok[1:]]}),
        ("instances is a number", {"instances": 3}),
    ]


@register("ch13.payload_problem")
def _payload_problem(payload_problem: Any) -> str:
    """``payload_problem(payload)``: a message (str) saying what is wrong, or None for a valid payload."""
    for name, payload in _payloads():
        got = call(payload_problem, payload)
        bad = _payload_problem_reference(payload)
        if bad and not (isinstance(got, str) and got.strip()):
            hint = (
                " (NaN compares False with everything: test 0 <= v <= 1 rather than v < 0 or v > 1)"
                if "NaN" in name
                else ""
            )
            hint += " (True is an int in Python: exclude bool explicitly)" if "boolean" in name else ""
            raise CheckFailed(f"{name}: should be refused with a message (a non-empty string), got {got!r}{hint}.")
        if not bad and got is not None:
            raise CheckFailed(f"{name}: is valid, return None; got {got!r}.")
    return "every bad payload refused with a message, valid ones accepted."


@register("ch13.throughput")
def _throughput(throughput: Any) -> str:
    """``throughput(concurrency, latency_ms)``: requests per second at steady state (Little's law)."""
    for c, lat in ((1, 10.0), (8, 4.0), (8, 20.0), (32, 2.5)):
        got = call(throughput, c, lat)
        want = c / (lat / 1000.0)
        if to_numpy(got, "throughput").shape == () and math.isclose(float(got), c / lat, rel_tol=1e-6):
            raise CheckFailed("the latency is in milliseconds: convert to seconds (divide by 1000) first.")
        if to_numpy(got).shape == () and math.isclose(float(got), 1000.0 / lat, rel_tol=1e-6) and c > 1:
            raise CheckFailed(
                "that is one client's rate: with c clients in flight the server completes c requests per latency."
            )
        expect_array(got, want, rtol=1e-6, what=f"throughput({c}, {lat})")
    return "throughput = concurrency / latency (Little's law: L = lambda W)."
