"""nbval's guarantee without executing a notebook a second time: compare the book build's executed copy.

CI used to execute every chapter three times: the book build, nbval, the release test. nbval's
guarantee is "run top to bottom in a fresh kernel, every cell marked ``# NBVAL_CHECK_OUTPUT``
reproduces its committed output (after the sanitize rules), and no cell raises". The book build
already runs every notebook top to bottom in a fresh kernel from the committed source
(``execute_notebooks: force``) and myst-nb writes each executed notebook to
``_build/jupyter_execute/<path>.ipynb``. :func:`compare_with_build` compares that copy's marked
cells with the committed ones using **nbval's own code** (its marker parsing, stream
coalescing, sanitize patterns and ``IPyNbCell.compare_outputs``), so the verdict is nbval's.

One thing myst-nb changes in the copy it writes: outputs of ``glue(..., display=False)`` are
moved out of the cells into ``<path>.glue.json``. :func:`restore_glue` puts them back (nbval
compares them too: they are the numbers the prose quotes).
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat

BUILD_OUTPUTS = Path("_build") / "jupyter_execute"
"""Where myst-nb writes the executed notebooks (relative to the book root)."""


def _nbval() -> Any:
    from nbval import plugin

    return plugin


def cell_options(cell: nbformat.NotebookNode) -> dict[str, bool]:
    """nbval's options for a code cell in ``--nbval-lax`` mode: ``check``, ``skip``, ``check_exception``.

    Markers come from comments (``# NBVAL_CHECK_OUTPUT``...) and tags (``raises-exception``...),
    comments winning, exactly as nbval's collector reads them.
    """
    plugin = _nbval()
    options: dict[str, bool] = defaultdict(bool, plugin.find_metadata_tags(cell.metadata))
    options.update(plugin.find_comment_markers(cell.source))
    options.setdefault("check", False)  # --nbval-lax: only marked cells are compared
    return options


def sanitize_patterns(sanitize_file: str | Path | None) -> dict[str, str]:
    """The ``regex: / replace:`` pairs of an nbval sanitize file, parsed by nbval."""
    if sanitize_file is None:
        return {}
    return dict(_nbval().get_sanitize_patterns(Path(sanitize_file).read_text(encoding="utf-8")))


class _Comparer:
    """Just enough of an ``nbval.plugin.IPyNbCell`` to call its ``compare_outputs``."""

    compare_outputs = _nbval().IPyNbCell.compare_outputs
    format_output_compare = _nbval().IPyNbCell.format_output_compare
    sanitize = _nbval().IPyNbCell.sanitize

    # nbval's IPyNbFile default when nbdime is off: what it never compares.
    SKIP_COMPARE = (
        "metadata",
        "traceback",
        "prompt_number",
        "output_type",
        "name",
        "execution_count",
        "application/vnd.jupyter.widget-view+json",
        "image/png",
        "image/jpeg",
    )

    def __init__(self, patterns: dict[str, str]) -> None:
        self.parent = SimpleNamespace(skip_compare=self.SKIP_COMPARE, sanitize_patterns=patterns)
        self.colors = _nbval().nocolors
        self.comparison_traceback: list[str] = []
        self.config = None  # format_output_compare asks pytest for a diff; with none it prints both sides
        self.ihook = SimpleNamespace(pytest_assertrepr_compare=lambda **kwargs: [])


def restore_glue(
    cell: nbformat.NotebookNode, reference: nbformat.NotebookNode, glue_data: dict[str, Any]
) -> list[nbformat.NotebookNode]:
    """The executed ``cell``'s outputs with the ``glue(display=False)`` outputs myst-nb moved out put back.

    ``reference`` (the committed cell) says which glue keys the cell produced; their values come
    from the build's ``glue.json`` with the MIME prefix restored. A key the build did not glue
    stays missing, and nbval's comparison reports it.
    """
    outputs = copy.deepcopy(list(cell.get("outputs", [])))
    for ref in reference.get("outputs", []):
        scrap = ref.get("metadata", {}).get("scrapbook")
        if not scrap or not scrap.get("mime_prefix") or scrap["name"] not in glue_data:
            continue
        glued = nbformat.from_dict(copy.deepcopy(glue_data[scrap["name"]]))
        prefix = scrap["mime_prefix"]
        glued["data"] = {k if k.startswith(prefix) else prefix + k: v for k, v in glued.get("data", {}).items()}
        outputs.append(glued)
    return outputs


def compare_with_build(
    source: str | Path,
    executed: str | Path,
    sanitize_file: str | Path | None = None,
    glue_file: str | Path | None = None,
) -> list[str]:
    """What nbval would report for ``source`` if the executed notebook ``executed`` were its run.

    Returns one message per failing cell (empty: nbval passes). A cell fails when it is marked
    ``# NBVAL_CHECK_OUTPUT`` and its outputs differ after sanitizing, or when it raised without a
    ``raises-exception`` tag / ``# NBVAL_RAISES_EXCEPTION``. ``glue_file`` defaults to
    ``<executed>.glue.json`` beside ``executed`` (written by myst-nb when the notebook glues).
    A copy whose code differs from ``source`` is refused: it was executed from another version.
    """
    plugin = _nbval()
    source, executed = Path(source), Path(executed)
    ref_nb = nbformat.read(source, as_version=4)
    run_nb = nbformat.read(executed, as_version=4)
    glue_path = Path(glue_file) if glue_file else executed.with_suffix(".glue.json")
    glue_data = json.loads(glue_path.read_text(encoding="utf-8")) if glue_path.is_file() else {}
    ref_cells = [c for c in ref_nb.cells if c.cell_type == "code"]
    run_cells = [c for c in run_nb.cells if c.cell_type == "code"]
    if [c.source for c in ref_cells] != [c.source for c in run_cells]:
        return [
            f"{executed} was not executed from {source} (the code cells differ): rebuild the book "
            "(bash scripts/build.sh) before comparing."
        ]
    comparer = _Comparer(sanitize_patterns(sanitize_file))
    failures = []
    for number, (ref, run) in enumerate(zip(ref_cells, run_cells)):
        options = cell_options(ref)
        where = f"{source.name}, code cell {number} (starting {ref.source.strip()[:70]!r})"
        if options["skip"]:
            continue
        errors = [o for o in run.get("outputs", []) if o.get("output_type") == "error"]
        if errors and not options["check_exception"]:
            failures.append(f"{where}: the cell raised {errors[0].get('ename')}: {errors[0].get('evalue')}")
            continue
        if not options["check"]:
            continue
        if ref.execution_count is None:
            if ref.get("outputs"):
                failures.append(f"{where}: unrun reference cell has outputs")
            continue
        test = plugin.coalesce_streams(restore_glue(run, ref, glue_data))
        expected = plugin.coalesce_streams(copy.deepcopy(list(ref.get("outputs", []))))
        comparer.comparison_traceback = []
        if not comparer.compare_outputs(test, expected):
            failures.append(f"{where}: cell outputs differ\n" + "\n".join(map(str, comparer.comparison_traceback)))
    return failures
