"""The auto-check mechanism: a registry of checkers and one entry point, :func:`check`.

A *checker* is a function ``checker(answer) -> str | None`` registered under a name such as
``"ch00.double"``. It inspects the student's answer with the helpers below and either returns
(optionally a short success note) or raises :class:`CheckFailed` / :class:`NotAttempted`.
:func:`check` runs it under a time limit and turns *everything* that can happen -- a wrong
value, a crash inside the student's function, an infinite loop -- into a :class:`CheckResult`.
It never raises because of the answer.

Course convention (chapter 0 shows it): every coding exercise asks for a *function*. Its
solution sits between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers; the student release
replaces it by ``raise NotImplementedError()``, which :func:`check` reports as "not attempted yet";
so is a ``def`` whose body is still only ``...`` or ``pass``.
"""

from __future__ import annotations

import ast
import difflib
import html
import inspect
import signal
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.validation import positive_float

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted yet"
DEFAULT_TIME_LIMIT = 10.0  # seconds; a student's answer that runs longer is reported, not waited on

Checker = Callable[[Any], "str | None"]
CHECKS: dict[str, Checker] = {}
"""Every registered checker, by exercise name (``"chNN.short_name"``)."""


class CheckFailed(Exception):
    """Raised by a checker: the answer is wrong; the message says what and how to proceed. Introduced in chapter 0."""


class NotAttempted(Exception):
    """Raised by a checker: the answer is still the stub (``...`` or ``NotImplementedError``).

    Introduced in chapter 0.
    """


class _TimeLimit(BaseException):
    """Raised by the time limit inside the student's code.

    It derives from ``BaseException``, like ``KeyboardInterrupt``, so that a student's
    ``except Exception: pass`` inside a loop cannot swallow it (the check would then never
    return). A bare ``except:`` still can; nothing short of a separate process stops that.
    """


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check`: ``status`` is "passed", "failed" or "not attempted yet".

    Introduced in chapter 0.
    """

    name: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def attempted(self) -> bool:
        return self.status != NOT_ATTEMPTED

    def __repr__(self) -> str:
        icon = {PASSED: "[passed]", FAILED: "[failed]", NOT_ATTEMPTED: "[not attempted yet]"}[self.status]
        return f"{icon} {self.name}: {self.message}"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        colour = {PASSED: "#009E73", FAILED: "#D55E00", NOT_ATTEMPTED: "#0072B2"}[self.status]
        return (
            f'<div class="course-check" style="border-left:4px solid {colour};padding:0.3em 0.8em;">'
            f"<strong>{html.escape(self.name)}: {html.escape(self.status)}</strong><br>"
            f"{html.escape(self.message)}</div>"
        )


def register(name: str) -> Callable[[Checker], Checker]:
    """Decorator: register ``checker`` under ``name`` (``"chNN.short_name"``, unique). Introduced in chapter 0."""
    if not isinstance(name, str) or "." not in name:
        raise ValueError(f"exercise names look like 'ch00.double', got {name!r}")

    def decorator(checker: Checker) -> Checker:
        if name in CHECKS and CHECKS[name] is not checker:
            raise ValueError(f"an exercise named {name!r} is already registered; pick another name")
        CHECKS[name] = checker
        return checker

    return decorator


def check(name: str, answer: Any, time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``answer`` to exercise ``name``; never raises because of the answer.

    Returns a :class:`CheckResult` (shown as a coloured box in a notebook). A wrong ``name``
    is a typo in the notebook, not a wrong answer, and raises ``ValueError``.

    Introduced in chapter 0.
    """
    if name not in CHECKS:
        close = difflib.get_close_matches(str(name), CHECKS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"no exercise named {name!r}.{hint} Known: {len(CHECKS)} exercises.")
    time_limit = positive_float("time_limit", time_limit, hint="It is a number of seconds.")
    if answer is Ellipsis:
        return CheckResult(name, NOT_ATTEMPTED, "replace the `...` with your answer, then run this cell again.")
    try:
        note = _run_with_time_limit(CHECKS[name], answer, time_limit)
    except NotAttempted as e:
        return CheckResult(
            name, NOT_ATTEMPTED, str(e) or "write your solution where it says, then run this cell again."
        )
    except CheckFailed as e:
        return CheckResult(name, FAILED, str(e))
    except _TimeLimit:
        return CheckResult(
            name,
            FAILED,
            f"your answer took longer than {time_limit:g} s; look for an "
            "infinite loop or a much slower algorithm than needed.",
        )
    except (Exception, SystemExit) as e:  # not from inside the student's function (call() wraps that)
        return CheckResult(
            name,
            FAILED,
            f"checking your answer raised {type(e).__name__}: {e}. Check that your answer has the type "
            "and shape the exercise asks for; if it does, the checker has a bug: please report it.",
        )
    return CheckResult(name, PASSED, note or "well done.")


def _run_with_time_limit(checker: Checker, answer: Any, seconds: float) -> str | None:
    """Run ``checker(answer)``; raise ``_TimeLimit`` after ``seconds``.

    Uses SIGALRM in the main thread (Linux/macOS, Jupyter, Colab): the student's loop is
    interrupted. Elsewhere it falls back to a watcher thread, which reports the time-out but
    cannot stop the runaway code.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def on_alarm(signum: int, frame: object) -> None:
            raise _TimeLimit

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return checker(answer)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = checker(answer)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _TimeLimit
    if "error" in box:
        raise box["error"]
    return box.get("value")


# ----------------------------------------------------------------------------------------------
# Helpers for writing checkers. Each raises CheckFailed / NotAttempted with a helpful message.
# ----------------------------------------------------------------------------------------------


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; a stub is "not attempted", a crash becomes a clear failure.

    A stub is ``None``, ``...``, a function that raises ``NotImplementedError``, or a ``def`` whose
    body is only ``...`` / ``pass``.

    Introduced in chapter 0.
    """
    if fn is Ellipsis or fn is None:
        raise NotAttempted("define the function asked for, then run this cell again.")
    if not callable(fn):
        raise CheckFailed(
            f"expected a function, got a {type(fn).__name__}; pass the function itself, "
            "e.g. check('...', my_function), without calling it."
        )
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted(
            "replace `raise NotImplementedError()` with your solution, then run this cell again."
        ) from None
    except (_TimeLimit, KeyboardInterrupt):
        raise
    except (Exception, SystemExit) as e:
        shapes = ", ".join(_describe(a) for a in args)
        raise CheckFailed(f"your function raised {type(e).__name__}: {e} (called with {shapes}).") from None
    if result is None and _body_is_a_placeholder(fn):
        raise NotAttempted(
            "the function's body is still `...` (or `pass`): write your solution there, then run this cell again."
        )
    return result


def _body_is_a_placeholder(fn: Any) -> bool:
    """True if ``fn`` is a ``def`` whose body is only ``...`` / ``pass`` (after an optional docstring).

    Such a function returns None without doing anything: it is a stub, not a wrong answer. A lambda,
    or a function whose source cannot be read, is never called a stub (its None stays a failure).
    """
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name == "<lambda>":
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = node.body[1:] if _is_constant(node.body[0], str) else node.body  # skip the docstring
    return all(isinstance(stmt, ast.Pass) or _is_constant(stmt, type(Ellipsis)) for stmt in body)


def _is_constant(stmt: ast.stmt, kind: type) -> bool:
    """True if ``stmt`` is a bare constant expression of type ``kind`` (a docstring, a ``...``)."""
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, kind)


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)}"
    return type(x).__name__ if not isinstance(x, (int, float, str)) else repr(x)


def to_numpy(x: Any, what: str = "your answer") -> np.ndarray:
    """Convert a NumPy array, list, number, PyTorch or TensorFlow tensor to a float NumPy array.

    Introduced in chapter 0.
    """
    if x is None:
        raise CheckFailed(f"{what} is None; did your function forget to `return` its result?")
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and callable(x.numpy):  # tf.Tensor / tf.Variable
        x = x.numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be numeric (an array or a number), got {type(x).__name__}.") from None
    return arr


def expect_array(answer: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, what: str = "your answer") -> None:
    """Fail unless ``answer`` has ``expected``'s shape, is finite, and is allclose to it. Introduced in chapter 0."""
    got = to_numpy(answer, what)
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        hint = " (transposed?)" if got.shape == want.shape[::-1] and got.ndim == 2 else ""
        raise CheckFailed(f"{what} has shape {got.shape}, expected {want.shape}{hint}.")
    bad = ~np.isfinite(got)
    if bad.any() and not (~np.isfinite(want))[bad].all():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(
            f"{what} contains NaN or inf (first at index {idx}: {got[idx]}); look for a "
            "division by zero, log(0) or an overflow."
        )
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        idx = tuple(int(i) for i in np.argwhere(~close)[0]) if got.ndim else ()
        n_bad = int((~close).sum())
        raise CheckFailed(
            f"{what} differs from the expected value at {n_bad} of {close.size} entries; first at index "
            f"{idx}: got {got[idx]:.6g}, expected {want[idx]:.6g} (tolerance rtol={rtol:g}, atol={atol:g})."
        )


def expect_equal(answer: Any, expected: Any, what: str = "your answer") -> None:
    """Fail unless ``answer == expected`` (for exact answers: ints, strings, choices). Introduced in chapter 0."""
    if answer is None:
        raise CheckFailed(f"{what} is None; did your function forget to `return` its result?")
    if type(expected) is int and isinstance(answer, (np.integer, float)) and float(answer).is_integer():
        answer = int(answer)
    if isinstance(expected, str) and isinstance(answer, str):
        answer = answer.strip()
    if type(answer) is not type(expected) and not (isinstance(expected, int) and isinstance(answer, int)):
        raise CheckFailed(f"{what} should be a {type(expected).__name__}, got a {type(answer).__name__} ({answer!r}).")
    if answer != expected:
        raise CheckFailed(f"{what} is {answer!r}, which is not right; re-read the question and try again.")
