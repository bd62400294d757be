"""Repository-wide pytest hooks: what is slow, and nbval against the book build (see the README, "Tests").

- Every nbval item (a cell of a chapter notebook, run in a Jupyter kernel) is marked ``slow``,
  like the real-chapter release test and the TensorFlow start-up test, so that
  ``python -m pytest -m "not slow"`` is the fast edit loop: unit and fixture tests only.
- ``NBVAL_FROM_BUILD=1`` (CI, after ``scripts/build.sh``) deselects the nbval items:
  ``tests/test_nbval_build.py`` then gives nbval's verdict on the notebooks the book build has
  just executed (``course_tools.nbcheck``) instead of executing every chapter a second time.
  Without it, ``python -m pytest chapters/05a_gradient_descent.ipynb`` runs nbval as usual.
"""

from __future__ import annotations

import os

import pytest

NBVAL_FROM_BUILD = os.environ.get("NBVAL_FROM_BUILD", "") not in ("", "0")


@pytest.hookimpl(tryfirst=True)  # before pytest's -m filter, so that -m "not slow" sees the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # pragma: no cover - requirements.txt pins nbval
        return
    notebook_cells = [item for item in items if isinstance(item, IPyNbCell)]
    for item in notebook_cells:
        item.add_marker(pytest.mark.slow)
    if NBVAL_FROM_BUILD and notebook_cells:
        config.hook.pytest_deselected(items=notebook_cells)
        items[:] = [item for item in items if not isinstance(item, IPyNbCell)]
