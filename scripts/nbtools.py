"""Small helpers for authoring chapter notebooks from a Python script (maintainers only).

    from scripts.nbtools import md, code, write
    write("chapters/00_how_to_use.ipynb", [md("# Title"), code("x = 1", tags=["parameters"])])

Cells are plain strings; ``write`` makes a valid nbformat-4 notebook with the course kernel.
Execute it afterwards with ``python scripts/execute.py chapters/00_how_to_use.ipynb``.
"""

from __future__ import annotations

import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(textwrap.dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write(path: str, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    nbformat.write(nb, path)
