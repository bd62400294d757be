"""Every exercise checker, table-driven: references pass, wrong answers fail with their hint, and
broken answers and stubs give a result (never an exception out of ``check``).

Two kinds of tests:

- Generic, over every name in ``course_lib.exercises.CHECKS`` (so a new chapter's checkers are
  covered the moment they are registered): stubs are "not attempted yet"; crashing, wrongly
  typed or shaped, wrong-arity and non-function answers are "failed" with a message.
- Per chapter, from the data tables in ``tests/exercise_cases/chNN.py``: every ``PASS`` answer
  passes, every ``FAIL`` answer fails and its message contains the hint.

How a chapter adds its table: create ``tests/exercise_cases/chNN.py`` with

    PASS = [("chNN.name", reference_solution), ...]          # the reference first, then other right answers
    FAIL = [("chNN.name", typical_wrong_answer, "hint fragment"), ...]

Nothing else to edit: the table is found by its file name, and ``test_every_checker_has_a_table``
fails until every registered checker of the chapter has a reference in ``PASS``. A test that
does not fit a table (a property of the reference, a hint that must *not* appear) stays a plain
test in ``tests/test_exercises_chNN.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

import exercise_cases  # tests/exercise_cases: on sys.path because pytest puts tests/ there
import keras  # noqa: F401  imported here, as in the notebooks, so that a checker's time limit
import numpy as np
import pytest
import torch  # noqa: F401  does not include the first import of the frameworks (ch02 builds nets)

from course_lib.exercises import CHECKS, FAILED, NOT_ATTEMPTED, PASSED, check

# Generous: Keras's first loss call and a busy CI machine must not turn a right answer into a
# time-out. The time limit itself is tested in tests/test_exercises.py.
TIME_LIMIT = 60.0

TABLES = {
    m.name: importlib.import_module(f"{exercise_cases.__name__}.{m.name}")
    for m in pkgutil.iter_modules(exercise_cases.__path__)
    if m.name.startswith("ch")
}
PASS = [(name, answer) for table in TABLES.values() for name, answer in table.PASS]
FAIL = [(name, answer, hint) for table in TABLES.values() for name, answer, hint in table.FAIL]
NAMES = sorted(CHECKS)


def _case_ids(cases):
    """Readable test ids: ``ch01.param_count-param_count_no_bias``, a running number for lambdas."""
    ids, seen = [], {}
    for name, answer, *_ in cases:
        label = getattr(answer, "__name__", type(answer).__name__)
        if label == "<lambda>":
            seen[name] = seen.get(name, 0) + 1
            label = f"lambda{seen[name]}"
        ids.append(f"{name}-{label}")
    return ids


# -- coverage: no checker silently left out ----------------------------------------------------------


def test_tables_found():
    assert {"ch00", "ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07"} <= set(TABLES)


def test_every_checker_has_a_table():
    referenced = {name for name, _ in PASS}
    for name in NAMES:
        chapter = name.split(".")[0]
        assert name in referenced, f"{name} has no reference answer in tests/exercise_cases/{chapter}.py PASS"


def test_every_table_entry_names_a_registered_checker():
    unknown = {name for name, *_ in PASS + FAIL} - set(CHECKS)
    assert not unknown, f"no checker registered under {sorted(unknown)} (a typo, or a renamed exercise?)"


def test_every_answer_is_a_function():
    """The course convention (``course_lib.exercises._core``): every exercise asks for a function.

    The broken answers below rely on it (a number or a string passed instead of a function must
    fail with "expected a function"). A checker that takes a value would need its own broken answers.
    """
    not_callable = [name for name, answer in PASS if not callable(answer)]
    assert not not_callable, f"reference answers that are not functions: {not_callable}"


# -- per-chapter tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name, answer", PASS, ids=_case_ids(PASS))
def test_reference_passes(name, answer):
    with np.errstate(all="ignore"):
        result = check(name, answer, time_limit=TIME_LIMIT)
    assert result.status == PASSED, result


@pytest.mark.parametrize("name, answer, hint", FAIL, ids=_case_ids(FAIL))
def test_wrong_answer_fails_with_its_hint(name, answer, hint):
    with np.errstate(all="ignore"):
        result = check(name, answer, time_limit=TIME_LIMIT)
    assert result.status == FAILED, result
    assert hint in result.message, result.message


# -- every registered checker: stubs and broken answers -----------------------------------------------


def _raises_not_implemented(*args, **kwargs):
    raise NotImplementedError()


def _body_is_dots(*args, **kwargs): ...


def _body_is_pass(*args, **kwargs):
    """A docstring, then pass."""
    pass


STUBS = [None, ..., _raises_not_implemented, _body_is_dots, _body_is_pass]


def _raises_zero_division(*args, **kwargs):
    raise ZeroDivisionError("oops")


def _raises_type_error(*args, **kwargs):
    raise TypeError("unsupported operand")


def _raises_runtime_error(*args, **kwargs):
    raise RuntimeError("boom")


def _returns_none(*args, **kwargs):
    return None  # computes nothing and forgets to return: a wrong answer, not a stub


def _forgets_to_return(*args, **kwargs):
    _ = [np.shape(a) for a in args]


def _twelve_parameters(a, b, c, d, e, f, g, h, i, j, k, m):  # no checker passes twelve arguments
    return 0.0


def _no_parameters():  # right arity only for the zero-argument exercises, where 0 is a wrong value
    return 0


class _Opaque:
    """An object no checker knows."""


# (answer, fragment its message must contain; "" = any non-empty message)
BROKEN = [
    (_raises_zero_division, "ZeroDivisionError"),
    (_raises_type_error, "TypeError"),
    (_raises_runtime_error, "RuntimeError"),
    (_returns_none, ""),
    (_forgets_to_return, ""),
    (lambda *a, **k: None, ""),
    (lambda *a, **k: "text", ""),
    (lambda *a, **k: np.nan, ""),
    (lambda *a, **k: 2.5, ""),
    (lambda *a, **k: True, ""),
    (lambda *a, **k: np.zeros((2, 2)), ""),
    (lambda *a, **k: (np.zeros(2),) * 3, ""),
    (lambda *a, **k: _Opaque(), ""),
    (_twelve_parameters, "TypeError"),
    (_no_parameters, ""),
    (42, "expected a function"),
    ("text", "expected a function"),
    (np.zeros(3), "expected a function"),
]


def _answer_id(answer):
    return getattr(answer, "__name__", repr(answer) if np.isscalar(answer) or answer is ... else type(answer).__name__)


@pytest.mark.parametrize("answer", STUBS, ids=[_answer_id(a) for a in STUBS])
@pytest.mark.parametrize("name", NAMES)
def test_stubs_are_not_attempted(name, answer):
    result = check(name, answer, time_limit=TIME_LIMIT)
    assert result.status == NOT_ATTEMPTED, result
    assert result.message


@pytest.mark.parametrize("answer, fragment", BROKEN, ids=[f"{i}-{_answer_id(a)}" for i, (a, _) in enumerate(BROKEN)])
@pytest.mark.parametrize("name", NAMES)
def test_broken_answers_fail_without_raising(name, answer, fragment):
    with np.errstate(all="ignore"):
        result = check(name, answer, time_limit=TIME_LIMIT)
    assert result.status == FAILED, result
    assert result.message and fragment in result.message, result.message
