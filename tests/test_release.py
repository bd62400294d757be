"""The student release (course_tools.release, scripts/release.py), tested the way instructors use it.

1. Fixture notebooks, one per way a release can go wrong, built in tmp_path: each solution's
   distinctive lines are gone, no solution directive remains, the exercise text and checks stay,
   and a notebook that would leak a solution is refused with a ValueError that says what to fix.
2. The real chapters (every notebook in _toc.yml), released once per test session and executed
   top to bottom with nbclient (that takes about as long as building the book; the assertions
   share the one run): valid nbformat, no solution text, no error outside the exercise cells,
   every check says "not attempted yet".
3. In the same kernels: the instructor's solution put back into each released exercise makes its
   check pass; a wrong answer (None, or a function that raises) makes it fail with a message.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.release import (
    CODE_STUB,
    check_release,
    clear_outputs,
    release_book,
    release_notebook,
    strip_solutions,
)
from course_tools.toc import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
CHECK_CALL = re.compile(r"""^\s*(?:\w+\s*=\s*)?check\(\s*["'](?P<name>[\w.]+)["']""", re.MULTILINE)
EXERCISE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{exercise(?:-start)?\}", re.MULTILINE)
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{solution(?:-start|-end)?\}", re.MULTILINE)


def make_nb(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text)


def code(text: str, **metadata: object) -> nbformat.NotebookNode:
    cell = new_code_cell(text)
    cell.metadata.update(metadata)
    return cell


def solution_lines(nb: nbformat.NotebookNode, elsewhere: str | None = "") -> list[str]:
    """Distinctive lines of every solution in a source notebook (independent of the release code).

    Code between the BEGIN/END SOLUTION markers, the body of {solution} directives, and the
    markdown between {solution-start} and {solution-end}; lines that also occur elsewhere in the
    notebook, even inside a longer line (a blank, a lone ``return x``, a formula quoted in the
    exercise text), or in ``elsewhere`` (the other notebooks' text outside their solutions) are
    not distinctive and are left out. ``elsewhere=None`` returns ``[the text outside the
    solutions]`` instead.
    """
    solution, rest = [], []
    gated = False
    for cell in nb.cells:
        lines = cell.source.split("\n")
        if cell.cell_type == "code":
            inside = False
            for line in lines:
                if "BEGIN SOLUTION" in line:
                    inside = True
                elif "END SOLUTION" in line:
                    inside = False
                else:
                    (solution if inside else rest).append(line.strip())
            continue
        inside_directive = None
        for line in lines:
            opening = re.match(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{([\w-]+)\}", line)
            if inside_directive is None and opening:
                name = opening.group(2)
                if name == "solution-start":
                    gated = True
                elif name == "solution-end":
                    gated = False
                inside_directive = (opening.group(1), name)
                continue
            if inside_directive and re.fullmatch(
                rf"\s*{re.escape(inside_directive[0][0])}{{{len(inside_directive[0])},}}\s*", line
            ):
                inside_directive = None
                continue
            in_solution = gated or (inside_directive is not None and inside_directive[1] == "solution")
            if inside_directive is not None and inside_directive[1] == "solution-start":
                continue  # its options (:class: dropdown)
            (solution if in_solution else rest).append(line.strip())
    outside = "\n".join(rest)
    if elsewhere is None:  # the text outside the solutions is wanted instead
        return [outside]
    return [
        s
        for s in dict.fromkeys(solution)
        if len(s) >= 8 and s not in outside and s not in elsewhere and not s.startswith(":") and not s.startswith("#")
    ]


def released_text(nb: nbformat.NotebookNode) -> str:
    """All cell sources and outputs as plain text (the JSON file escapes quotes and backslashes)."""
    return "\n".join(c.source + "\n" + _text(c) for c in nb.cells)


# ----------------------------------------------------------------------------------------------
# 1. Fixture notebooks, one per failure mode
# ----------------------------------------------------------------------------------------------

EXERCISE = md("```{exercise} Add\n:label: chXX-ex-add\n\nWrite `add(a, b)`.\n```")


def gated(*middle: nbformat.NotebookNode, start_extra: str = "") -> list[nbformat.NotebookNode]:
    return [
        EXERCISE,
        md("```{solution-start} chXX-ex-add\n:class: dropdown\n```" + start_extra),
        *middle,
        md("```{solution-end}\n```"),
        code('check("chXX.add", add)'),
    ]


SOLUTION_CODE = code(
    "def add(a, b):\n    ### BEGIN SOLUTION\n    total = a + b  # the secret\n    return total\n    ### END SOLUTION"
)


def test_gated_solution_code_becomes_the_stub_and_its_directives_go():
    nb = make_nb(*gated(SOLUTION_CODE))
    student, report = release_notebook(nb)
    sources = [c.source for c in student.cells]
    assert sources == [EXERCISE.source, f"def add(a, b):\n    {CODE_STUB}", 'check("chXX.add", add)']
    assert report.gated == 1 and report.stubbed_cells == 1
    assert "the secret" not in released_text(student)


def test_solution_text_in_the_start_cell_and_in_markdown_between_is_removed():
    nb = make_nb(
        *gated(
            md("Explanation: sum the two numbers elementwise."),
            SOLUTION_CODE,
            md("Why it works: addition is commutative, so order is irrelevant."),
            start_extra="\nSolution prose in the same cell as the directive.",
        )
    )
    student, _ = release_notebook(nb)
    text = released_text(student)
    for line in solution_lines(nb):
        assert line not in text, line
    assert "elementwise" not in text and "commutative" not in text and "same cell" not in text
    assert DIRECTIVE.search(text) is None


def test_prose_solution_directive_is_removed_with_nested_fences_and_colon_fences():
    nested = md(
        "````{solution} chXX-ex-derive\n:class: dropdown\n\nThe derivative is 2x:\n```python\n"
        "grad = 2 * x_secret\n```\nso it is linear.\n````"
    )
    colon = md(":::{solution} chXX-ex-other\n:class: dropdown\nThe answer is forty-two.\n:::")
    prose_around = md(
        "Before the solution.\n\n```{solution} chXX-ex-third\n:class: dropdown\nHidden words.\n```\n\n"
        "After the solution."
    )
    nb = make_nb(md("```{exercise} Derive\n:label: chXX-ex-derive\nDerive it.\n```"), nested, colon, prose_around)
    student, report = release_notebook(nb)
    text = released_text(student)
    assert report.solutions == 3
    for secret in ("x_secret", "so it is linear", "forty-two", "Hidden words"):
        assert secret not in text
    assert [c.source for c in student.cells] == [nb.cells[0].source, "Before the solution.\n\nAfter the solution."]


def test_prose_after_solution_end_in_the_same_cell_is_kept():
    nb = make_nb(
        EXERCISE,
        md("```{solution-start} chXX-ex-add\n:class: dropdown\n```"),
        SOLUTION_CODE,
        md("```{solution-end}\n```\n\n## Summary\nKeep me."),
    )
    student, _ = release_notebook(nb)
    assert student.cells[-1].source == "## Summary\nKeep me."


def test_solution_markers_outside_gated_regions_are_stubbed_too():
    nb = make_nb(code("def f(x):\n    # comment kept\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION"))
    student, _ = release_notebook(nb)
    assert student.cells[0].source == f"def f(x):\n    # comment kept\n    {CODE_STUB}"


@pytest.mark.parametrize(
    "cells, message",
    [
        (gated(code("def add(a, b):\n    return a + b")), "no '### BEGIN SOLUTION'"),
        ([EXERCISE, md("```{solution-start} chXX-ex-add\n```"), SOLUTION_CODE], "has no {solution-end}"),
        ([md("```{solution-end}\n```")], "without a {solution-start}"),
        ([code("def f():\n    ### BEGIN SOLUTION\n    return 1")], "unbalanced"),
        (
            [
                code(
                    "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"
                    "    ### END SOLUTION\n    ### END SOLUTION"
                )
            ],
            "nested",
        ),
        ([md("```{solution-start} a\n```"), SOLUTION_CODE, md("```{solution-start} b\n```")], "new {solution-start}"),
    ],
)
def test_a_notebook_that_would_leak_a_solution_is_refused(cells, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        strip_solutions(make_nb(*cells))


def test_outputs_and_widget_state_are_cleared_and_tags_kept():
    cell = code("FAST = True", tags=["parameters"], execution={"iopub.status.busy": "2026"})
    cell.outputs = [new_output("stream", name="stdout", text="secret output\n")]
    cell.execution_count = 3
    nb = make_nb(cell)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    student = clear_outputs(nb)
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert student.cells[0].metadata == {"tags": ["parameters"]}
    assert "widgets" not in student.metadata
    check_release(student)


def test_check_release_and_bad_input():
    with pytest.raises(ValueError, match="still there"):
        check_release(make_nb(md("::::{solution} x\nleft over\n::::")))
    with pytest.raises(ValueError, match="nbformat.read"):
        strip_solutions({"cells": []})
    r_nb = make_nb(code("x = 1"))
    r_nb.metadata["kernelspec"]["language"] = "R"
    with pytest.raises(ValueError, match="only Python"):
        strip_solutions(r_nb)


def test_toc_and_release_book_paths(tmp_path):
    (tmp_path / "chapters").mkdir()
    nbformat.write(make_nb(*gated(SOLUTION_CODE)), tmp_path / "chapters" / "01_a.ipynb")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: A\n    chapters:\n      - file: chapters/01_a\n"
    )
    assert toc_notebooks(tmp_path) == [Path("chapters/01_a.ipynb")]
    reports = release_book(tmp_path, tmp_path / "release" / "student")
    assert reports[Path("chapters/01_a.ipynb")].gated == 1
    assert "the secret" not in (tmp_path / "release/student/chapters/01_a.ipynb").read_text()
    with pytest.raises(ValueError, match="overwrite"):
        release_book(tmp_path, tmp_path / "chapters")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/missing\n")
    with pytest.raises(ValueError, match="missing"):
        toc_notebooks(tmp_path)
    with pytest.raises(ValueError, match="no _toc.yml"):
        toc_notebooks(tmp_path / "chapters")


def test_chapter_landing_pages_are_skipped_not_released(tmp_path):
    # A chapter = a landing page chapters/NN_slug.md with its section notebooks under it in _toc.yml;
    # the landing page is prose for the site, so the release walks past it without failing.
    (tmp_path / "chapters").mkdir()
    for name in ("06a_x", "06b_y"):
        nbformat.write(make_nb(*gated(SOLUTION_CODE)), tmp_path / "chapters" / f"{name}.ipynb")
    (tmp_path / "chapters" / "06_practice.md").write_text("# Practice\n\n1. {doc}`06a_x`\n2. {doc}`06b_y`\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: A\n    numbered: true\n    chapters:\n"
        "      - file: chapters/06_practice\n        sections:\n          - file: chapters/06a_x\n"
        "          - file: chapters/06b_y\n"
    )
    assert toc_notebooks(tmp_path) == [Path("chapters/06a_x.ipynb"), Path("chapters/06b_y.ipynb")]
    reports = release_book(tmp_path, tmp_path / "release")
    assert sorted(reports) == [Path("chapters/06a_x.ipynb"), Path("chapters/06b_y.ipynb")]
    assert not (tmp_path / "release/chapters/06_practice.md").exists()
    assert all(r.gated == 1 for r in reports.values())
    with pytest.raises(ValueError, match="is not a notebook"):  # asked for by name, a .md is refused clearly
        release_book(tmp_path, tmp_path / "release2", ["chapters/06_practice.md"])


def test_the_command_line(tmp_path):
    out = tmp_path / "student"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "release.py"),
            "--out",
            str(out),
            "--instructor",
            str(tmp_path / "instructor"),
            "chapters/00_how_to_use.ipynb",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "student release of 1 notebooks" in done.stdout
    assert (tmp_path / "instructor/chapters/00_how_to_use.ipynb").read_bytes() == (
        ROOT / "chapters/00_how_to_use.ipynb"
    ).read_bytes()
    assert "BEGIN SOLUTION" not in (out / "chapters/00_how_to_use.ipynb").read_text()


# ----------------------------------------------------------------------------------------------
# 2 and 3. The real chapters, released and executed once per session
# ----------------------------------------------------------------------------------------------


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(str(out.data.get("text/plain", "")))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


def _run_extra(client: NotebookClient, source: str) -> str:
    cell = new_code_cell(source)
    client.nb.cells.append(cell)
    return _text(client.execute_cell(cell, len(client.nb.cells) - 1))


def _exercise_and_execute(source_path: Path, released_path: Path) -> dict:
    """Execute one released notebook, then try each exercise with the instructor's and wrong answers."""
    source = nbformat.read(source_path, as_version=4)
    nb = nbformat.read(released_path, as_version=4)
    instructor_cells = [c for c in source.cells if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    heads = {_first_line(c.source) for c in instructor_cells}
    stubbed = {
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and CODE_STUB in c.source and _first_line(c.source) in heads
    }
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(released_path.parent)}},
    )
    attempts: dict[str, dict[str, str]] = {}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        executed = copy.deepcopy(nb)
        for index in sorted(stubbed):
            stub = nb.cells[index].source
            solution = next((c.source for c in instructor_cells if _first_line(c.source) == _first_line(stub)), None)
            check_cell = next(
                (c.source for c in nb.cells[index + 1 :] if c.cell_type == "code" and CHECK_CALL.search(c.source)), None
            )
            if check_cell is None:
                continue
            name = CHECK_CALL.search(check_cell).group("name")
            runs = {}
            for label, answer in (
                ("none", stub.replace(CODE_STUB, "return None")),
                ("raises", stub.replace(CODE_STUB, 'raise ValueError("a wrong answer")')),
                ("solution", solution),
            ):
                if answer is None:
                    runs[label] = "instructor solution not found"
                    continue
                _run_extra(client, answer)
                runs[label] = _run_extra(client, check_cell)
            attempts[name] = runs
    return {"nb": executed, "stubbed": stubbed, "attempts": attempts}


def _first_line(source: str) -> str:
    return next((line for line in source.split("\n") if line.strip() and not line.lstrip().startswith("#")), "")


@pytest.fixture(scope="session")
def released_chapters(tmp_path_factory):
    """Every notebook in _toc.yml, released and executed (in parallel kernels), once per session."""
    out = tmp_path_factory.mktemp("release") / "student"
    notebooks = toc_notebooks(ROOT)
    only = os.environ.get("RELEASE_TEST_NOTEBOOKS")  # e.g. "chapters/08*": a quicker run while writing a chapter
    if only:
        notebooks = [rel for rel in notebooks if any(fnmatch(str(rel), pattern) for pattern in only.split(","))]
        assert notebooks, f"RELEASE_TEST_NOTEBOOKS={only!r} matches no notebook of _toc.yml"
    release_book(ROOT, out, notebooks)
    workers = max(1, min(len(notebooks), int(os.environ.get("RELEASE_TEST_WORKERS", os.cpu_count() or 1))))
    with ThreadPoolExecutor(workers) as pool:
        results = dict(zip(notebooks, pool.map(lambda rel: _exercise_and_execute(ROOT / rel, out / rel), notebooks)))
    return out, results


@pytest.mark.slow  # executes every released chapter
def test_release_has_no_solution_text_and_no_directive(released_chapters):
    out, results = released_chapters
    released = {rel: released_text(nbformat.read(out / rel, as_version=4)) for rel in results}
    assert released, "no notebook in _toc.yml"
    sources = {rel: nbformat.read(ROOT / rel, as_version=4) for rel in results}
    outside = {rel: solution_lines(nb, elsewhere=None)[0] for rel, nb in sources.items()}
    for rel, source in sources.items():
        elsewhere = "\n".join(text for other, text in outside.items() if other != rel)
        for line in solution_lines(source, elsewhere):
            leaks = [str(r) for r, text in released.items() if line in text]
            assert not leaks, f"solution line {line!r} of {rel} is in the release of {leaks}"
        text = released[rel]
        assert DIRECTIVE.search(text) is None, f"{rel}: a solution directive survived"
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        source_text = released_text(source)
        for kept, what in ((EXERCISE_DIRECTIVE, "exercise texts"), (CHECK_CALL, "check cells")):
            assert len(kept.findall(text)) == len(kept.findall(source_text)), f"{rel}: {what} were lost"


@pytest.mark.slow  # executes every released chapter
def test_released_notebooks_are_valid_and_run_without_error_outside_exercises(released_chapters):
    out, results = released_chapters
    for rel, result in results.items():
        nbformat.validate(nbformat.read(out / rel, as_version=4))
        for index, cell in enumerate(result["nb"].cells):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            if errors and index not in result["stubbed"]:
                pytest.fail(f"{rel}, cell {index} raised {errors[0].ename}: {errors[0].evalue}\n{cell.source[:300]}")


@pytest.mark.slow  # executes every released chapter
def test_every_check_says_not_attempted_yet(released_chapters):
    _, results = released_chapters
    n_checks = 0
    for rel, result in results.items():
        for index, cell in enumerate(result["nb"].cells):
            if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
                n_checks += 1
                assert "not attempted yet" in _text(cell), f"{rel}, cell {index}: {_text(cell)[:300]!r}"
    assert n_checks >= 1


@pytest.mark.slow  # executes every released chapter
def test_instructor_solution_passes_and_wrong_answers_fail_helpfully(released_chapters):
    _, results = released_chapters
    n = 0
    for rel, result in results.items():
        for name, runs in result["attempts"].items():
            n += 1
            assert "passed" in runs["solution"], f"{rel} {name}: the instructor's solution gives {runs['solution']!r}"
            for label in ("none", "raises"):
                outcome = runs[label]
                assert "failed" in outcome, f"{rel} {name}: a wrong answer ({label}) gives {outcome!r}"
                message = outcome.split(":", 1)[-1]
                assert len(message.strip()) > 25 and "Traceback" not in outcome, (
                    f"{rel} {name}: unhelpful message for a wrong answer ({label}): {outcome!r}"
                )
    assert n >= 1, "no auto-checked exercise was found in the release"


def test_support_folders_travel_with_the_release(tmp_path):
    # 13c starts serving/app.py and 14b/14c launch chapters/programs/*.py from the repository root
    # (".." of the notebook): a released notebook must find them there too.
    (tmp_path / "chapters" / "programs").mkdir(parents=True)
    (tmp_path / "chapters" / "programs" / "worker.py").write_text("print('hi')\n")
    (tmp_path / "chapters" / "programs" / "__pycache__").mkdir()
    (tmp_path / "serving").mkdir()
    (tmp_path / "serving" / "app.py").write_text("app = None\n")
    nbformat.write(make_nb(*gated(SOLUTION_CODE)), tmp_path / "chapters" / "01_a.ipynb")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_a\n")
    release_book(tmp_path, tmp_path / "release")
    assert (tmp_path / "release/chapters/programs/worker.py").read_text() == "print('hi')\n"
    assert (tmp_path / "release/serving/app.py").is_file()
    assert not (tmp_path / "release/chapters/programs/__pycache__").exists()
