"""The auto-check mechanism itself: every kind of broken answer gives a result, never a crash."""

import math
import threading

import numpy as np
import pytest

from course_lib import exercises as ex
from course_lib.exercises import CheckFailed, call, check, expect_array, expect_equal, register


def test_registry_has_chapter0():
    assert {"ch00.double", "ch00.mse_grad", "ch00.broadcast_shape"} <= set(ex.CHECKS)


def test_passed_result_displays():
    r = check("ch00.double", lambda x: 2 * x)
    assert r.passed and r.status == ex.PASSED
    assert repr(r).startswith("[passed] ch00.double")
    assert "ch00.double" in r._repr_html_()


def _stub(*args):
    raise NotImplementedError()


def _dots(x): ...


def _forgets_return(x):
    y = 2 * x  # noqa: F841  the student's mistake this case is about


def _loop(x):
    while True:
        pass


@pytest.mark.parametrize(
    "answer, status, fragment",
    [
        (..., ex.NOT_ATTEMPTED, "replace the `...`"),
        (_stub, ex.NOT_ATTEMPTED, "NotImplementedError"),
        (None, ex.NOT_ATTEMPTED, "define the function"),
        (_dots, ex.NOT_ATTEMPTED, "still `...`"),
        (_forgets_return, ex.FAILED, "forget to `return`"),
        (42, ex.FAILED, "expected a function"),
        (lambda x: 3 * x, ex.FAILED, "got 9, expected 6"),
        (lambda x: None, ex.FAILED, "forget to `return`"),
        (lambda x: 1 / 0, ex.FAILED, "ZeroDivisionError"),
        (lambda x: "two", ex.FAILED, "should be numeric"),
        (lambda x: x * math.nan, ex.FAILED, "NaN"),
        (lambda x: __import__("sys").exit(1), ex.FAILED, "SystemExit"),
    ],
)
def test_broken_answers_never_raise(answer, status, fragment):
    r = check("ch00.double", answer)
    assert r.status == status
    assert fragment in r.message
    assert not r.passed


def test_time_limit_stops_infinite_loop():
    r = check("ch00.double", _loop, time_limit=0.5)
    assert r.status == ex.FAILED and "longer than 0.5 s" in r.message


def test_time_limit_outside_main_thread():
    box = {}
    t = threading.Thread(target=lambda: box.update(r=check("ch00.double", _loop, time_limit=0.3)))
    t.start()
    t.join(5)
    assert "longer than 0.3 s" in box["r"].message


def test_shape_and_tolerance_messages():
    r = check("ch00.mse_grad", lambda X, w, y: np.zeros((1, X.shape[1])))
    assert "shape (1, 1), expected (1,)" in r.message
    r = check("ch00.mse_grad", lambda X, w, y: 1.0 / X.shape[0] * X.T @ (X @ w - y))
    assert "tolerance" in r.message and "times 0.5" in r.message


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="ch00.double"):
        check("ch00.dubble", lambda x: x)


def test_bad_time_limit():
    with pytest.raises(ValueError, match="time_limit"):
        check("ch00.double", lambda x: 2 * x, time_limit=0)


def test_register_rejects_duplicates_and_bad_names():
    with pytest.raises(ValueError, match="already registered"):
        register("ch00.double")(lambda a: None)
    with pytest.raises(ValueError, match="look like"):
        register("nodot")


def test_helpers():
    with pytest.raises(CheckFailed, match=r"\(transposed\?\)"):
        expect_array(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(CheckFailed, match="index \\(1,\\)"):
        expect_array([0.0, 1.0], [0.0, 2.0])
    expect_array([1.0, np.inf], [1.0, np.inf])  # matching infinities are fine
    with pytest.raises(CheckFailed, match="should be a tuple"):
        expect_equal([4, 4], (4, 4))
    expect_equal(np.int64(3), 3)
    with pytest.raises(ex.NotAttempted):
        call(_stub)


def test_torch_and_tf_tensors_are_accepted():
    import torch

    r = check("ch00.double", lambda x: torch.as_tensor(x, dtype=torch.float64) * 2)
    assert r.passed, r.message


def _loop_swallowing_exceptions(x):
    # a student's loop that catches every Exception: it must not swallow the time limit
    while True:
        try:  # noqa: SIM105 - deliberately the student's try/except/pass
            x = _one_step(x)  # the signal lands inside the `try` (at the call)
        except Exception:  # noqa: BLE001, S110  the student's mistake this test is about
            pass


def _one_step(x):
    for _ in range(1000):
        x = x + 1
    return x


@pytest.mark.timeout(20, method="thread")  # the thread method: check() itself uses SIGALRM
def test_time_limit_not_swallowed_by_except_exception():
    r = check("ch00.double", _loop_swallowing_exceptions, time_limit=0.5)
    assert r.status == ex.FAILED and "longer than 0.5 s" in r.message


def _interrupted(x):
    raise KeyboardInterrupt


def test_keyboard_interrupt_is_not_reported_as_a_wrong_answer():
    # pressing "stop" in Jupyter must stop the cell, not be turned into a [failed] box
    with pytest.raises(KeyboardInterrupt):
        check("ch00.double", _interrupted)


@pytest.mark.timeout(20, method="thread")
def test_time_limit_leaves_no_alarm_behind():
    import signal

    check("ch00.double", _loop_swallowing_exceptions, time_limit=0.3)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert check("ch00.double", lambda x: 2 * x).passed


def test_an_error_outside_the_students_function_is_not_blamed_on_it():
    # A checker that raises outside call(): the student's code did not crash, so the message
    # must not say it did; it names the error and asks for a report if the answer is well-formed.
    @register("chXX.buggy_checker_for_test")
    def _buggy(answer):
        return {}["missing"]

    try:
        r = check("chXX.buggy_checker_for_test", lambda: 1)
    finally:
        del ex.CHECKS["chXX.buggy_checker_for_test"]
    assert r.status == ex.FAILED and "your function raised" not in r.message
    assert "KeyError" in r.message and "bug" in r.message
