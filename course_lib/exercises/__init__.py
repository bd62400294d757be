"""Auto-checks for every coding exercise in the course.

Usage in a notebook::

    from course_lib.exercises import check
    check("ch00.double", double)      # -> [passed] / [failed] / [not attempted yet] + a message

Each chapter's checkers live in ``course_lib/exercises/chNN.py`` (one module per chapter);
all of them are imported here, so :data:`CHECKS` lists every exercise of the course.
See :mod:`course_lib.exercises._core` for the mechanism and the helpers checkers use.
"""

from __future__ import annotations

import importlib
import pkgutil

from course_lib.exercises._core import (
    CHECKS,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    CheckFailed,
    CheckResult,
    NotAttempted,
    call,
    check,
    expect_array,
    expect_equal,
    register,
    to_numpy,
)

__all__ = [
    "CHECKS",
    "PASSED",
    "FAILED",
    "NOT_ATTEMPTED",
    "CheckFailed",
    "CheckResult",
    "NotAttempted",
    "call",
    "check",
    "expect_array",
    "expect_equal",
    "register",
    "to_numpy",
]

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name.startswith("ch"):
        importlib.import_module(f"{__name__}.{_mod.name}")
