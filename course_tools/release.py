"""The student release: the chapter notebooks with every solution removed (instructors only).

Used by ``scripts/release.py`` (``python scripts/release.py --out release/student``); the README's
instructor section explains the workflow. The course convention (chapter 0 shows it):

- exercise text: a markdown cell with an ``{exercise}`` directive (kept);
- a prose-only solution: a ``{solution}`` directive in a markdown cell (removed);
- a coding solution: ``{solution-start} label`` ... ``{solution-end}`` markdown cells around a code
  cell whose function body holds the solution between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``. Both directive cells and any markdown between them (the solution's
  explanation) are removed; the code cell is kept with the region between the markers replaced by
  ``raise NotImplementedError()`` (nbgrader's ``ClearSolutions`` preprocessor does that part);
- the ``check("chNN.name", fn)`` cell after it (kept): on the stub it reports "not attempted yet".

All outputs are cleared (nbconvert's ``ClearOutputPreprocessor``) and the stored widget state is
dropped with them: a released notebook is a clean worksheet that the student runs top to bottom,
and no output of a later cell can reveal a solution's result. Nothing heavy is imported at module
level; nbgrader and nbconvert are imported when a notebook is released.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_tools.toc import toc_notebooks

CODE_STUB = "raise NotImplementedError()"
"""What replaces a ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region (keeps its indent)."""
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"

# An opening fence of a MyST directive: ``` or ~~~ or ::: (3 or more), then {name} and arguments.
_OPEN = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*\{(?P<name>[a-zA-Z0-9_-]+)\}(?P<arg>.*)$")
SOLUTION_DIRECTIVES = ("solution", "solution-start", "solution-end")
_ANY_SOLUTION = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{(solution(?:-start|-end)?)\}", re.MULTILINE)


@dataclass
class ReleaseReport:
    """What :func:`release_notebook` removed from one notebook (for the command's summary)."""

    solutions: int = 0  # {solution} directives removed
    gated: int = 0  # {solution-start} ... {solution-end} regions removed
    stubbed_cells: int = 0  # code cells whose solution region became the stub
    removed_cells: int = 0  # markdown cells dropped entirely
    labels: list[str] = field(default_factory=list)


def _directive_blocks(source: str) -> list[tuple[int, int, str, str]]:
    """Top-level MyST directive blocks in markdown ``source``.

    Returns ``(first_line, last_line, name, argument)`` for each fenced directive (line numbers
    0-based, inclusive). A block closes at the first line made only of the same fence character,
    at least as long as the opening fence (the CommonMark rule MyST follows); an unclosed block
    runs to the end of the cell, as it does when MyST renders it.
    """
    lines = source.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group("fence")
        close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        blocks.append((i, min(j, len(lines) - 1), m.group("name"), m.group("arg").strip()))
        i = j + 1
    return blocks


def _has_markers(source: str) -> bool:
    return BEGIN in source or END in source


def strip_solutions(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, ReleaseReport]:
    """Return a copy of ``nb`` without solution directives, solution text or solution code.

    Markdown: ``{solution}`` blocks and the ``{solution-start}``/``{solution-end}`` directives are
    cut out of their cells (a cell left empty is dropped); everything from a ``{solution-start}``
    to its ``{solution-end}`` that is markdown is dropped. Code: the solution regions are replaced
    by :data:`CODE_STUB` with nbgrader's ``ClearSolutions``. Outputs are left alone (see
    :func:`clear_outputs`).

    Raises ``ValueError`` (naming the cell) when the notebook breaks the convention in a way that
    would leak a solution: a code cell inside a ``{solution-start}`` region without
    ``### BEGIN SOLUTION`` markers, a ``{solution-start}`` without ``{solution-end}`` (or the
    reverse), or unbalanced markers.
    """
    if not isinstance(nb, nbformat.NotebookNode) or "cells" not in nb:
        raise ValueError("strip_solutions expects a notebook read with nbformat.read(path, as_version=4)")
    from nbgrader.preprocessors import ClearSolutions

    nb = copy.deepcopy(nb)
    report = ReleaseReport()
    clear = ClearSolutions(enforce_metadata=False, code_stub={"python": CODE_STUB})
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise ValueError(f"only Python notebooks can be released, this one's kernel language is {language!r}")
    resources = {"language": "python"}

    cells = []
    open_label: str | None = None  # inside {solution-start} ... {solution-end}
    for index, cell in enumerate(nb.cells):
        where = f"cell {index} ({cell.cell_type}, starting {cell.source[:60]!r})"
        if cell.cell_type == "code":
            if _has_markers(cell.source):
                if cell.source.count(BEGIN) != cell.source.count(END):
                    raise ValueError(
                        f"{where}: unbalanced '### {BEGIN}' / '### {END}' markers; every solution region needs both."
                    )
                try:
                    cell, _ = clear.preprocess_cell(cell, resources, index)
                except RuntimeError as err:  # nested or unterminated region
                    raise ValueError(f"{where}: {err}; fix the solution markers.") from None
                report.stubbed_cells += 1
            elif open_label is not None:
                raise ValueError(
                    f"{where} sits inside the solution region {open_label!r} but has no "
                    f"'### {BEGIN}' / '### {END}' markers, so the student release would show "
                    "it. Wrap its solution lines in the markers (inside the function body)."
                )
            cells.append(cell)
            continue
        if cell.cell_type != "markdown":
            cells.append(cell)  # raw cells are kept as they are
            continue

        lines = cell.source.split("\n")
        keep = [open_label is None] * len(lines)
        for first, last, name, arg in _directive_blocks(cell.source):
            if name == "solution":
                report.solutions += 1
                report.labels.append(arg)
            elif name == "solution-start":
                if open_label is not None:
                    raise ValueError(
                        f"{where}: a new {{solution-start}} before the {{solution-end}} of {open_label!r}."
                    )
                open_label = arg or "?"
                report.gated += 1
                report.labels.append(arg)
                for k in range(last + 1, len(lines)):  # text after it is the solution's explanation
                    keep[k] = False
            elif name == "solution-end":
                if open_label is None:
                    raise ValueError(f"{where}: a {{solution-end}} without a {{solution-start}}.")
                open_label = None
                for k in range(last + 1, len(lines)):  # text after it is ordinary prose again
                    keep[k] = True
            else:
                continue
            for k in range(first, last + 1):
                keep[k] = False
        text = "\n".join(line for line, kept in zip(lines, keep) if kept).strip("\n")
        if not all(keep):
            text = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text)  # no blank gap where a block was cut
        if text.strip():
            cell.source = text
            cells.append(cell)
        else:
            report.removed_cells += 1
    if open_label is not None:
        raise ValueError(f"the solution region {open_label!r} has no {{solution-end}}; add one after its code cell.")
    nb.cells = cells
    return nb, report


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear every output and execution count (nbconvert), and drop the stored widget state.

    The widget state in ``metadata.widgets`` only describes the cleared outputs; a notebook that
    keeps it without the outputs confuses Jupyter's widget manager, so it goes too.
    """
    from nbconvert.preprocessors import ClearOutputPreprocessor

    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # nbclient's timestamps
    return nb


def check_release(nb: nbformat.NotebookNode, name: str = "notebook") -> None:
    """Raise ``ValueError`` unless ``nb`` is valid nbformat with no solution left in it."""
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _has_markers(cell.source):
            raise ValueError(f"{name}, cell {index}: solution markers are still there")
        if cell.cell_type == "markdown":
            leak = _ANY_SOLUTION.search(cell.source)  # at any depth, not only top-level blocks
            if leak:
                raise ValueError(f"{name}, cell {index}: a {{{leak.group(1)}}} directive is still there")
        if cell.cell_type == "code" and cell.get("outputs"):
            raise ValueError(f"{name}, cell {index}: outputs were not cleared")


def release_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> tuple[nbformat.NotebookNode, ReleaseReport]:
    """The student version of ``nb``: :func:`strip_solutions`, :func:`clear_outputs`, checked."""
    student, report = strip_solutions(nb)
    student = clear_outputs(student)
    check_release(student, name)
    return student, report


SUPPORT_PATHS = ("chapters/programs", "serving")
"""Non-notebook files that chapters run (chapter 14's ``torchrun`` workers, chapter 13's server):
copied into every release so that a released notebook runs from its folder as in the book."""


def _copy_support(root: Path, out: Path) -> None:
    import shutil

    for rel in SUPPORT_PATHS:
        source = root / rel
        if source.is_dir():
            shutil.copytree(
                source, out / rel, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


def release_book(
    root: str | Path, out: str | Path, notebooks: Iterable[str | Path] | None = None
) -> dict[Path, ReleaseReport]:
    """Write the student release of ``notebooks`` (default: all in ``_toc.yml``) under ``out``.

    Paths inside ``out`` mirror the book (``chapters/00_how_to_use.ipynb``...). Returns each
    released notebook's :class:`ReleaseReport`. The folders of :data:`SUPPORT_PATHS` are copied
    alongside. Raises ``ValueError`` if ``out`` is the book
    folder itself or one of its chapter folders (the sources would be overwritten).
    """
    root, out = Path(root).resolve(), Path(out).resolve()
    paths = [Path(p) for p in notebooks] if notebooks is not None else toc_notebooks(root)
    if out == root or any(out == (root / p).parent.resolve() for p in paths):
        raise ValueError(f"--out {out} would overwrite the source notebooks; choose e.g. release/student")
    reports = {}
    for rel in paths:
        source = root / rel
        if source.suffix != ".ipynb" or not source.is_file():
            raise ValueError(f"{source} is not a notebook")
        nb = nbformat.read(source, as_version=4)
        student, report = release_notebook(nb, str(rel))
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        reports[rel] = report
    _copy_support(root, out)
    return reports
