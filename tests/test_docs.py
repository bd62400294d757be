"""Traceability, as in d2l: every public helper of course_lib says which chapter introduces it,
and the README's module map lists every module."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import course_lib

ROOT = Path(__file__).resolve().parent.parent
# The library's modules; the exercise checkers (course_lib/exercises/chNN.py) belong to their chapter by name.
MODULES = sorted(m.name for m in pkgutil.iter_modules(course_lib.__path__) if not m.name.startswith("_"))


def public_helpers(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ == module.__name__:  # defined here, not re-exported
            yield name, obj


@pytest.mark.parametrize("name", [m for m in MODULES if m != "exercises"] + ["exercises._core"])
def test_every_public_helper_says_which_chapter_introduces_it(name):
    module = importlib.import_module(f"course_lib.{name}")
    missing = [n for n, obj in public_helpers(module) if not re.search(r"Introduced in chapter \d+", obj.__doc__ or "")]
    assert not missing, (
        f"course_lib.{name}: add 'Introduced in chapter N.' to the docstring of {missing} "
        "(N: the chapter whose notebook first uses it)"
    )


def test_the_readme_module_map_lists_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Module map", 1)[-1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`course_lib\.(\w+)`", section))
    assert listed == set(MODULES), f"README module map: missing {set(MODULES) - listed}, stale {listed - set(MODULES)}"
