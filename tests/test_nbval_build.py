"""nbval's verdict on the notebooks the book build executed (course_tools.nbcheck), and its fixture tests.

CI builds the book first (every notebook executed once, from the committed source) and then runs
pytest with ``NBVAL_FROM_BUILD=1``: the nbval items are deselected (conftest.py) and
``test_marked_cells_reproduce_in_the_book_build`` compares each chapter's ``# NBVAL_CHECK_OUTPUT``
cells with the build's executed copy in ``_build/jupyter_execute`` instead. Without a build it
is skipped (``python -m pytest chapters/NN.ipynb`` runs nbval itself); with ``NBVAL_FROM_BUILD=1``
a missing copy fails.

The fixture tests run one tiny notebook in a real kernel and write it the way myst-nb does
(glue outputs moved to ``.glue.json``), then check that a marked cell whose output changed, a
glued number that changed, a cell that raised and a stale copy all fail, and that unmarked
cells, sanitized timings and skipped cells do not.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_tools.nbcheck import BUILD_OUTPUTS, compare_with_build
from course_tools.toc import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
REQUIRED = os.environ.get("NBVAL_FROM_BUILD", "") not in ("", "0")


# ----------------------------------------------------------------------------------------------
# The real chapters, against the book build
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", toc_notebooks(ROOT), ids=str)
def test_marked_cells_reproduce_in_the_book_build(rel):
    executed = ROOT / BUILD_OUTPUTS / rel
    if not executed.is_file():
        if REQUIRED:
            pytest.fail(
                f"NBVAL_FROM_BUILD is set but the book build has no executed copy {executed}; "
                "run `bash scripts/build.sh` first"
            )
        pytest.skip("no book build in _build/jupyter_execute (nbval over chapters/ covers this without one)")
    if not REQUIRED and executed.stat().st_mtime < (ROOT / rel).stat().st_mtime:
        pytest.skip(f"the book build's copy of {rel} is older than the notebook: rebuild (bash scripts/build.sh)")
    failures = compare_with_build(ROOT / rel, executed, SANITIZE)
    assert not failures, "\n\n".join(failures)


# ----------------------------------------------------------------------------------------------
# Fixtures: one notebook, executed for real, written as myst-nb writes it
# ----------------------------------------------------------------------------------------------

CELLS = [
    "from course_lib.glue import glue\nimport time",
    "# NBVAL_CHECK_OUTPUT\nprint(6 * 7)",
    "print('unmarked', 6 * 7)",
    "# NBVAL_CHECK_OUTPUT\nt0 = time.perf_counter(); print(f'took {time.perf_counter() - t0 + 1.5:.2f} s')",
    "# NBVAL_CHECK_OUTPUT\nacc = glue('fixture_acc', 0.9125)",
    "# NBVAL_SKIP\nprint('skipped')",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``(committed notebook, path of the build's copy)`` for the fixture notebook."""
    from myst_nb.ext.glue import extract_glue_data
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("book")
    nb = new_notebook(cells=[new_code_cell(src) for src in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    committed = copy.deepcopy(nb)
    glue_data = extract_glue_data(nb, [0] * len(nb.cells), None)  # what myst-nb does before writing
    executed = folder / "jupyter_execute" / "chapter.ipynb"
    executed.parent.mkdir()
    nbformat.write(nb, executed)
    executed.with_suffix(".glue.json").write_text(json.dumps(glue_data))
    assert glue_data and not any("scrapbook" in o.get("metadata", {}) for o in nb.cells[4].outputs), (
        "myst-nb no longer moves glue outputs out of the cell: course_tools.nbcheck.restore_glue needs a look"
    )
    return committed, executed


def _check(committed, executed, tmp_path):
    source = tmp_path / "chapter.ipynb"
    nbformat.write(committed, source)
    return compare_with_build(source, executed, SANITIZE)


def test_the_build_copy_of_an_unchanged_notebook_passes(built, tmp_path):
    committed, executed = built
    assert _check(committed, executed, tmp_path) == []


def test_a_marked_cell_whose_output_changed_fails(built, tmp_path):
    committed, executed = copy.deepcopy(built[0]), built[1]
    committed.cells[1].outputs[0].text = "41\n"
    failures = _check(committed, executed, tmp_path)
    assert len(failures) == 1 and "code cell 1" in failures[0] and "outputs differ" in failures[0], failures
    assert "41" in failures[0] and "42" in failures[0]  # both sides are shown


def test_a_changed_glued_number_fails(built, tmp_path):
    committed, executed = copy.deepcopy(built[0]), built[1]
    for out in committed.cells[4].outputs:
        for key in out.get("data", {}):
            out.data[key] = "0.5"
    failures = _check(committed, executed, tmp_path)
    assert len(failures) == 1 and "code cell 4" in failures[0], failures


def test_a_missing_glue_value_fails(built, tmp_path):
    committed, executed = built
    copy_dir = tmp_path / "jupyter_execute"
    copy_dir.mkdir()
    nbformat.write(nbformat.read(executed, as_version=4), copy_dir / "chapter.ipynb")
    (copy_dir / "chapter.glue.json").write_text("{}")
    failures = compare_with_build(_write(committed, tmp_path), copy_dir / "chapter.ipynb", SANITIZE)
    assert len(failures) == 1 and "code cell 4" in failures[0], failures


def test_unmarked_skipped_and_sanitized_differences_pass(built, tmp_path):
    committed, executed = copy.deepcopy(built[0]), built[1]
    committed.cells[2].outputs[0].text = "anything at all\n"
    committed.cells[3].outputs[0].text = "took 99.99 s\n"  # a timing: sanitized to <TIME>
    committed.cells[5].outputs[0].text = "not what it printed\n"
    assert _check(committed, executed, tmp_path) == []


def test_a_cell_that_raised_in_the_build_fails(built, tmp_path):
    committed, executed = built
    nb = nbformat.read(executed, as_version=4)
    nb.cells[2].outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    failures = compare_with_build(
        _write(committed, tmp_path), broken, SANITIZE, glue_file=executed.with_suffix(".glue.json")
    )
    assert len(failures) == 1 and "raised ZeroDivisionError" in failures[0], failures


def test_a_copy_executed_from_other_code_is_refused(built, tmp_path):
    committed, executed = copy.deepcopy(built[0]), built[1]
    committed.cells[1].source = "# NBVAL_CHECK_OUTPUT\nprint(6 * 8)"
    failures = _check(committed, executed, tmp_path)
    assert len(failures) == 1 and "rebuild the book" in failures[0]


def _write(nb, tmp_path):
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path
