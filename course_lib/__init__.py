"""course_lib: the small shared library of *Deep Learning, from Principles to Code*.

One module per concern (import them by name; nothing heavy is imported here, so
``import course_lib`` stays fast and never loads PyTorch or TensorFlow). The README's module map
lists every module with the chapter that introduces it; the chapter 0 modules:

- :mod:`course_lib.setup`      - the notebook setup cell: seeds, determinism, quiet TF, device.
- :mod:`course_lib.validation` - argument checks with error messages that teach.
- :mod:`course_lib.data`       - offline datasets with fixed train/validation/test splits.
- :mod:`course_lib.download`   - checksummed, cached downloads of the full datasets.
- :mod:`course_lib.exercises`  - ``check(name, answer)``: the auto-checks of every exercise.
- :mod:`course_lib.widgets`    - ipywidgets that also leave a static figure on the site.
- :mod:`course_lib.plotting`   - the colour-blind-safe style and shared plots.
- :mod:`course_lib.glue`       - myst-nb ``glue`` that also works where myst-nb is missing.
- :mod:`course_lib.models`     - the trained digit CNN of chapter 7 (PyTorch, and its Keras twin).

Instructor tooling (the student release, the table-of-contents reader) is not part of this
package: it lives in ``course_tools/`` in the repository.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

REPOSITORY_URL = "https://github.com/dl-from-principles/dl-from-principles"
"""The course repository; kept in sync with ``_config.yml`` by ``scripts/sync_repo_url.py``."""


def __getattr__(name: str) -> Any:
    """Import submodules on first use (``course_lib.data`` works without an explicit import)."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module 'course_lib' has no attribute {name!r}") from None
