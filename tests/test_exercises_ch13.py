"""The chapter-13 checkers: reference solutions pass; wrong, None, raising and stub answers never crash."""

import math

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, ch13, check


def parity_ok(got, want, atol, rtol):
    return bool(np.all(np.abs(got - want) <= atol + rtol * np.abs(want)))


def model_bytes(shapes, bits):
    return sum(math.prod(s) for s in shapes) * bits // 8


def affine_quantize(x, scale, zero_point):
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def payload_problem(payload):
    return "bad" if ch13._payload_problem_reference(payload) else None


REFERENCE = {
    "ch13.parity_ok": parity_ok,
    "ch13.model_bytes": model_bytes,
    "ch13.affine_quantize": affine_quantize,
    "ch13.choose_format": ch13._choose_format_reference,
    "ch13.payload_problem": payload_problem,
    "ch13.throughput": lambda c, lat: c / lat * 1000,
}

WRONG = {
    "ch13.parity_ok": (
        lambda g, w, a, r: bool(np.all(np.abs(g - w) <= a)),
        "atol + rtol",
    ),
    "ch13.model_bytes": (
        lambda shapes, bits: sum(math.prod(s) for s in shapes) * bits,
        "not bytes",
    ),
    "ch13.affine_quantize": (lambda x, s, z: np.round(x / s) + z, "clipped"),
    "ch13.choose_format": (
        lambda t, b, d: min(t, key=lambda r: r["size_kb"])["format"],
        "accuracy",
    ),
    "ch13.payload_problem": (
        lambda p: None if isinstance(p, dict) and "instances" in p else "bad",
        "refused",
    ),
    "ch13.throughput": (lambda c, lat: c / lat, "milliseconds"),
}


def _raise(*args):
    raise ZeroDivisionError("oops")


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    result = check(name, REFERENCE[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_wrong_answer_fails_with_a_hint(name):
    fn, hint = WRONG[name]
    result = check(name, fn)
    assert result.status == FAILED
    assert hint in result.message, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize(
    "answer", [None, _raise, lambda *a: None, lambda *a: float("nan"), 42]
)
def test_broken_answers_never_crash(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    if answer is not None:
        assert result.status == FAILED


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_stub_is_not_attempted(name):
    assert check(name, _stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED


def test_choose_format_reference_prefers_the_smallest_within_budgets():
    t = ch13.CHOOSE_TABLES[0]
    assert ch13._choose_format_reference(t, 1.0, 0.01) == "int8 static"
    assert ch13._choose_format_reference(t, 1.0, 0.002) == "int8 dynamic"
    assert ch13._choose_format_reference(t, 0.1, 0.5) is None
