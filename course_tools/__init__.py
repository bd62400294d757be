"""Instructor and maintainer tooling for the course repository (not shipped to students).

``course_lib`` is what a learner installs (``pip install``, or the first cell on Colab); this
package is what builds, releases, checks and grades the book, and is used from a clone of the
repository only (``scripts/``, ``tests/``, CI). It is deliberately *not* in the ``course_lib*``
packages that ``pyproject.toml`` installs; run its users from the repository root (pytest's
``pythonpath = ["."]`` and the scripts' ``sys.path`` line make it importable).

- :mod:`course_tools.toc`            - the one reader of ``_toc.yml``: every page in book order.
- :mod:`course_tools.release`        - the student release: solutions removed, outputs cleared.
- :mod:`course_tools.nbcheck`        - nbval's output comparison against the notebooks the book build executed.
- :mod:`course_tools.grade`          - grade a class's submitted notebooks (``scripts/grade.py``).
- :mod:`course_tools.sandbox_kernel` - the resource-limited Jupyter kernel the grader runs them in.
"""
