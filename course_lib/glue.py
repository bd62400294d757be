"""Glue numbers computed in a cell into the prose of the page (myst-nb ``glue``).

Introduced in chapter 0. In the book build, ``glue("val_acc", 0.91)`` stores the value so that
the markdown ``{glue:text}`val_acc:.1%``` shows it: numbers in prose always come from a run.
Where myst-nb is not installed (e.g. a bare Colab runtime) the value is simply displayed.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` for ``{glue:text}`` / ``{glue}`` roles.

    NumPy scalars are converted to Python numbers so that format specs like ``:.2f`` work.
    Returns ``None``, so a ``glue(...)`` on a cell's last line leaves no stray number under
    the cell's figure or output.

    Introduced in chapter 0.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"glue names must be identifiers like 'val_acc', got {name!r}")
    if isinstance(value, np.generic) or isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # pragma: no cover - only where myst-nb is missing
        print(f"{name} = {value!r}")
        return
    _myst_glue(name, value, display=display)
