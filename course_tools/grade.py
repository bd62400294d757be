"""Grade a class's submitted notebooks with the course's auto-checks (instructors).

    python scripts/grade.py SUBMISSIONS_DIR --out grades/ --release release/student/chapters/00_how_to_use.ipynb

``SUBMISSIONS_DIR`` holds one ``.ipynb`` per student (the student id is the file name without
``.ipynb``) or one folder per student with one or more notebooks (the id is the folder name).
The output folder receives ``grades.csv`` (one row per submission, one column per exercise with
1 for passed and 0 otherwise, the total, a status and flags), ``results.json`` (every status and
message), ``feedback/<id>.md`` (one file per student: each exercise's result and the check's
message, and what went wrong while running the notebook) and ``summary.md`` (also printed).

How a submission is run
-----------------------
Submissions are graded by ``--jobs`` worker processes (one per core by default; spawned with
:mod:`multiprocessing`, fed one submission at a time, with a progress bar). A worker that dies or
overruns its submission's time is killed with everything it started and replaced; that submission
gets a row saying so. The worker runs each notebook in a fresh Jupyter kernel (nbclient) in a new
temporary working directory, started by
:mod:`course_tools.sandbox_kernel`: an address-space limit (``--memory-mb``), a file-size limit,
one thread per numerical library, and death of the kernel with its worker. Only the sources of
the submission's cells are kept (stored outputs, metadata and the kernel name are discarded), so a
notebook stuffed with outputs costs nothing, and the outputs produced while grading are dropped as
they arrive, except errors (their type and message). A notebook's cells share one time budget
(``--timeout``); when it runs out the kernel is interrupted, and killed if it does not answer. A
notebook that is not JSON, not a notebook, too large, that kills its kernel or that exhausts its
worker yields a row that says so; the other submissions are graded as usual.

Why a student cannot pass by redefining ``check``
-------------------------------------------------
Design choice: *the grader re-runs every check itself, with the instructor's checkers, on the
function the release's check cell names* -- it never trusts what the submission's own check cells
print. Concretely:

1. Before any cell of the submission runs, the grader's first cell imports the instructor's
   ``course_lib.exercises`` (from the grader's repository, never from the working directory) and
   then takes it out of ``sys.modules``: the grader holds a private copy of ``check`` and of every
   checker. When the student's notebook imports ``course_lib.exercises``, Python loads a second,
   separate copy; redefining ``check``, replacing entries of ``CHECKS`` or patching the checkers'
   helpers changes only that copy.
2. Right after each cell that contains ``check("chNN.name", ...)``, the grader runs its own cell:
   it evaluates the argument *of the release's check cell* (e.g. ``double``) in the student's
   namespace -- so editing the check cell to pass something else does not help -- and runs the
   private ``check`` on it under a time limit (``--check-time``). The result comes back as a
   display message of the grader's own type, tagged with a random per-run token, not as printed
   text. An exercise whose check cell is missing from the submission counts as not attempted; one
   whose check cell was never reached (time limit, dead kernel) as failed, with the reason.

The student's own check cells still run (their output is ignored). Edited check cells are noted
in the feedback. Limits, stated plainly: the student's code runs in the same process as the
grader's checks, so code written to subvert the grader (patching NumPy, which the checkers use;
walking the garbage collector to find the private copy; lifting the resource limits when the
grader runs as root) is not prevented. The grader *flags* such submissions for a human to read
(``flags`` in ``grades.csv``: a ``def check``, ``CHECKS``, the checkers' modules, ``sys.modules``,
``gc``, ``setrlimit``...); flags do not change a grade.

The limits guard against accidents (loops, memory, output, crashes), they are not a security
boundary: a notebook can read and write whatever the user running the grader can. Run it as an
unprivileged user (or in a container) on a machine without secrets.

Which exercises: the check cells of the ``--release`` notebooks (files or folders; the released or
the source notebooks, they have the same check cells), in their order. Without ``--release``:
every notebook of the book's ``_toc.yml``, in book order, keeping the exercises that occur in at
least one submission.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import csv
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from course_tools.toc import toc_notebooks  # the one import from the release tooling

ROOT = Path(__file__).resolve().parent.parent
PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted yet"  # as course_lib.exercises
_RANK = {PASSED: 3, FAILED: 2, NOT_ATTEMPTED: 1}
_MIME = "application/vnd.course-grader+json"
_CHECK_NAME = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*\.\w+)["']""")
_CHECK_NAME_IN_JSON = re.compile(r"""\bcheck\(\s*\\?["']([A-Za-z_]\w*\.\w+)\\?["']""")
_FLAGS = {
    "defines `check`": re.compile(r"^\s*def\s+check\s*\(|^\s*check\s*=[^=]", re.MULTILINE),
    "uses `CHECKS` or the checkers' modules": re.compile(
        r"\bCHECKS\b|exercises\s*\.\s*(_core|ch\d)|from\s+course_lib\.exercises\.|import\s+course_lib\.exercises\."
    ),
    "touches Python internals (sys.modules, gc, builtins)": re.compile(
        r"\bsys\s*\.\s*modules\b|\bgc\s*\.\s*get_(objects|referrers)|\bbuiltins\b|__builtins__|\bsys\s*\.\s*_getframe|\binspect\s*\.\s*stack"
        r"|__closure__|__globals__|\b_grader_\w+"
    ),
    "changes resource limits or signals, or kills processes": re.compile(
        r"\bsetrlimit\b|\bsignal\s*\.\s*(signal|setitimer|alarm)\b|\bprctl\b|\bos\s*\.\s*(kill|killpg)\b"
    ),
}


# ----------------------------------------------------------------------------------------------
# The assignment (which exercises, in which order) and the submissions
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise: ``check(name, expr)`` in the release's check cell."""

    name: str
    expr: str  # the answer the check cell passes, e.g. "double"
    check_source: str  # the release's whole check cell, to notice edited ones


@dataclass
class Limits:
    """Per-notebook limits. ``timeout``: seconds for all of a notebook's cells together."""

    timeout: float = 600.0
    check_time: float = 10.0
    memory_mb: int = 4096
    file_mb: int = 256
    max_notebook_mb: float = 50.0
    startup_timeout: float = 120.0


@dataclass
class Submission:
    """A student's notebooks (``notebooks`` empty: nothing gradable; ``problem`` says why)."""

    student: str
    source: str  # the file or folder, relative to the submissions folder
    notebooks: list[str] = field(default_factory=list)  # absolute paths
    folder: str | None = None  # absolute path of a per-student folder
    problem: str | None = None
    duplicate: str | None = None


def find_checks(source: str) -> list[tuple[str, str | None]]:
    """``[(name, answer_expression)]`` for every ``check("name", answer)`` call in ``source``.

    Parsed with :mod:`ast`; when the code does not parse (a student's syntax error), the names are
    found with a regular expression and the expression is ``None``.
    """
    lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.split("\n")]
    code = "\n".join(lines)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [(m.group(1), None) for m in _CHECK_NAME.finditer(source)]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        named = (isinstance(func, ast.Name) and func.id == "check") or (
            isinstance(func, ast.Attribute) and func.attr == "check"
        )
        if named and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            expr = ast.get_source_segment(code, node.args[1]) if len(node.args) > 1 else None
            found.append((node.args[0].value, expr))
    found.sort(key=lambda item: source.find(item[0]))
    return found


def _notebooks_in(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*.ipynb") if not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def assignment(release: list[Path] | None = None, present: set[str] | None = None) -> list[Exercise]:
    """The exercises to grade, in order: the check cells of ``release`` (notebooks or folders).

    Without ``release``: every notebook of the book's ``_toc.yml``, keeping only the exercises in
    ``present`` (the names found in the submissions). Raises ``ValueError`` for a release that is
    not readable or names an exercise the instructor's ``course_lib`` does not have.
    """
    from course_lib.exercises import CHECKS

    exercises: dict[str, Exercise] = {}
    for path, nb in _release_notebooks(release):
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for name, expr in find_checks(cell.source):
                if name in exercises or (present is not None and not release and name not in present):
                    continue
                if name not in CHECKS:
                    raise ValueError(
                        f"{path} checks {name!r}, which the instructor's course_lib does not "
                        "know; update course_lib or the release"
                    )
                if not expr:
                    raise ValueError(
                        f"{path}: the check cell of {name!r} passes no answer; it should read "
                        f"check({name!r}, the_function)"
                    )
                exercises[name] = Exercise(name, expr, cell.source)
    return list(exercises.values())


def _release_notebooks(release: list[Path] | None) -> list[tuple[Path, Any]]:
    import nbformat

    if release:
        paths = [nb for p in release for nb in _notebooks_in(Path(p))]
        if not paths:
            raise ValueError(f"no notebook in --release {' '.join(map(str, release))}")
    else:
        paths = [ROOT / p for p in toc_notebooks(ROOT)]
    notebooks = []
    for path in paths:
        try:
            notebooks.append((path, nbformat.read(path, as_version=4)))
        except Exception as err:  # noqa: BLE001 - any unreadable file is the same problem here
            raise ValueError(f"cannot read the release notebook {path}: {err}") from None
    return notebooks


def release_lines(release: list[Path] | None = None) -> frozenset[str]:
    """Every stripped line of the release's code cells: code the student did not write is not flagged."""
    return frozenset(
        line.strip()
        for _, nb in _release_notebooks(release)
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.split("\n")
    )


def discover(folder: Path) -> tuple[list[Submission], list[str]]:
    """The submissions in ``folder`` and the entries that were ignored (with the reason)."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    submissions, ignored = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_symlink():
            ignored.append(f"{entry.name} (a symbolic link)")
        elif entry.is_dir():
            notebooks = _notebooks_in(entry)
            sub = Submission(entry.name, entry.name + "/", [str(p.resolve()) for p in notebooks], str(entry.resolve()))
            if not notebooks:
                sub.problem = (
                    "no notebook: the folder is empty"
                    if not any(p for p in entry.rglob("*") if not p.name.startswith("."))
                    else "no notebook (.ipynb) in the folder"
                )
            submissions.append(sub)
        elif entry.suffix.lower() == ".ipynb":
            submissions.append(Submission(entry.stem, entry.name, [str(entry.resolve())]))
        else:
            ignored.append(f"{entry.name} (not a notebook nor a folder)")
    by_id: dict[str, list[Submission]] = {}
    for sub in submissions:
        by_id.setdefault(sub.student.casefold(), []).append(sub)
    for group in by_id.values():
        if len(group) > 1:
            for sub in group:
                others = ", ".join(o.source for o in group if o is not sub)
                sub.duplicate = (
                    f"duplicate student id {sub.student!r}: also {others}; each was graded "
                    "separately, decide which counts"
                )
    return submissions, ignored


def names_in_submissions(submissions: list[Submission]) -> set[str]:
    """Exercise names in the check cells of the submissions (a quick scan of the raw files)."""
    names: set[str] = set()
    for sub in submissions:
        for path in sub.notebooks:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    names.update(_CHECK_NAME_IN_JSON.findall(f.read(50 * 2**20)))
            except OSError:
                continue
    return names


# ----------------------------------------------------------------------------------------------
# Reading one notebook (in the worker)
# ----------------------------------------------------------------------------------------------


class Unreadable(Exception):
    """The file is not a notebook the grader can run; the message says why, for the student."""


def read_cells(path: Path, max_mb: float) -> tuple[list[tuple[str, str]], str | None]:
    """``([(cell_type, source)], warning)`` of the notebook at ``path``; raises :class:`Unreadable`."""
    import nbformat

    size = path.stat().st_size
    if size > max_mb * 2**20:
        raise Unreadable(
            f"the file is {size / 2**20:.0f} MB, over the {max_mb:g} MB limit (outputs stuffed "
            "into it?); clear the outputs (Edit > Clear All Outputs), save and submit again"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise Unreadable("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("not a Jupyter notebook: the file is not text (UTF-8)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise Unreadable(
            f"not a Jupyter notebook: invalid JSON ({err.msg}: line {err.lineno}, column "
            f"{err.colno}); the file is damaged or was saved in another format"
        ) from None
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise Unreadable(
            "not a Jupyter notebook: valid JSON, but without the notebook structure "
            "(no 'cells'); submit the .ipynb file that Jupyter saved"
        )
    warning = None
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error=(errors := {}))
        if errors.get("ValidationError") is not None:
            first_line = str(errors["ValidationError"]).splitlines()[0][:200]
            warning = f"the notebook does not follow nbformat ({first_line}); its cells were run anyway"
        cells = [(str(c.get("cell_type", "")), c.get("source", "")) for c in nb.cells]
    except Exception as err:  # noqa: BLE001 - nbformat raises many types for malformed input
        raise Unreadable(f"not a Jupyter notebook: {type(err).__name__}: {str(err)[:200]}") from None
    cells = [(t, "".join(s) if isinstance(s, list) else s) for t, s in cells]
    if not all(isinstance(s, str) for _, s in cells):
        raise Unreadable("not a Jupyter notebook: a cell's source is not text")
    return cells, warning


def code_flags(cells: list[tuple[str, str]], known: frozenset[str] = frozenset()) -> list[str]:
    """What in the code an instructor may want to read (see the module docstring).

    Lines that are in the release (``known``, e.g. the set-up cell's ``sys.modules``) are not flagged.
    """
    code = "\n".join(line for t, s in cells if t == "code" for line in s.split("\n") if line.strip() not in known)
    return [label for label, pattern in _FLAGS.items() if pattern.search(code)]


# ----------------------------------------------------------------------------------------------
# Running one notebook in a sandboxed kernel (in the worker)
# ----------------------------------------------------------------------------------------------

_KERNEL_SETUP = r"""
def _course_grader_setup(root, token, mime):
    import importlib, json, os, sys
    prefix = "course_lib.exercises"

    def ours(name):
        return name == prefix or name.startswith(prefix + ".")

    def under_root(module):
        path = os.path.realpath(getattr(module, "__file__", "") or "")
        return path.startswith(os.path.realpath(root) + os.sep)

    saved_path = list(sys.path)
    stale = {k: sys.modules.pop(k) for k in list(sys.modules) if ours(k)}
    if "course_lib" in sys.modules and not under_root(sys.modules["course_lib"]):
        stale["course_lib"] = sys.modules.pop("course_lib")
    sys.path[:] = [root] + [p for p in saved_path if p not in ("", ".", os.getcwd())]
    try:
        exercises = importlib.import_module(prefix)
    finally:
        sys.path[:] = saved_path
    private = {k: sys.modules.pop(k) for k in list(sys.modules) if ours(k)}
    sys.modules.update(stale)
    package = sys.modules.get("course_lib")
    if package is not None and package.__dict__.get("exercises") is exercises:
        del package.exercises
    for module in [package, *private.values()]:
        if module is not None and not under_root(module):
            raise RuntimeError(f"the grader loaded {module.__name__} from outside {root}")
    check = exercises.check
    publish = get_ipython().display_pub.publish
    text = str

    def grade(name, get_answer, time_limit):
        try:
            answer = get_answer()
        except NameError as e:
            status, message = "failed", (f"{e} when the check cell ran (is the cell that defines it "
                                         "there, run before the check, and not renamed?).")
        except BaseException as e:
            status, message = "failed", f"evaluating your answer raised {type(e).__name__}: {e}"
        else:
            try:
                result = check(name, answer, time_limit)
                status, message = result.status, result.message
            except BaseException as e:
                status, message = "failed", f"the check could not finish: {type(e).__name__}: {e}"
        publish(data={mime: {"token": token, "name": text(name), "status": text(status),
                             "message": text(message)[:2000]}}, metadata={})

    return grade
"""


@dataclass
class NotebookRun:
    """What running one notebook gave: per-exercise results and what went wrong."""

    path: str
    results: dict[str, dict[str, str]] = field(default_factory=dict)
    stopped: str | None = None  # why execution stopped early ("time limit ...", "kernel died ...")
    unreadable: str | None = None
    errors: list[str] = field(default_factory=list)  # "cell 5 (`x = ...`): NameError: ..."
    n_errors: int = 0
    error_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _first_line(source: str) -> str:
    line = next((ln.strip() for ln in source.split("\n") if ln.strip() and not ln.strip().startswith("#")), "")
    return line if len(line) <= 40 else line[:37] + "..."


def _normalized(source: str) -> str:
    return "\n".join(
        re.sub(r"\s+", "", ln) for ln in source.split("\n") if ln.strip() and not ln.strip().startswith("#")
    )


def _kernel_env(root: Path) -> dict[str, str]:
    secret = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_KEY|ACCESS_KEY", re.IGNORECASE)
    env = {k: v for k, v in os.environ.items() if not secret.search(k) and not k.startswith("JPY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])
    for var in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        env[var] = "1"  # one core per notebook: the grader runs one notebook per core
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _make_client_class():
    from nbclient import NotebookClient

    class GraderClient(NotebookClient):
        """Keeps only error outputs of the student's cells and the grader's own results."""

        n_student_cells = 0

        def output(self, outs, msg, display_id, cell_index):
            kind = msg["msg_type"]
            if cell_index < self.n_student_cells:
                if kind != "error":
                    return
                content = msg["content"]
                out = {
                    "output_type": "error",
                    "ename": str(content.get("ename", ""))[:100],
                    "evalue": str(content.get("evalue", ""))[:300],
                    "traceback": [],
                }
                if len(outs) < 3:
                    outs.append(out)
                return
            data = msg["content"].get("data", {})
            if kind == "display_data" and _MIME in data and len(outs) < 3:
                outs.append({"output_type": "display_data", "data": {_MIME: data[_MIME]}})
            return

        def handle_comm_msg(self, outs, msg, cell_index):
            return None

        def clear_output(self, outs, msg, cell_index):
            return None

    return GraderClient


async def _run_notebook(
    cells: list[tuple[str, str]], exercises: list[Exercise], limits: Limits, workdir: Path, run: NotebookRun
) -> None:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    by_name = {e.name: e for e in exercises}
    graded_after: dict[int, list[Exercise]] = {}
    seen: set[str] = set()
    for index, (kind, source) in enumerate(cells):
        if kind != "code":
            continue
        for name, _ in find_checks(source):
            if name in by_name and name not in seen:
                seen.add(name)
                graded_after.setdefault(index, []).append(by_name[name])
                if _normalized(source) != _normalized(by_name[name].check_source):
                    run.notes.append(
                        f"the check cell of {name} was edited; the grader checked "
                        f"`{by_name[name].expr}`, as the release's check cell does"
                    )
    for exercise in exercises:
        if exercise.name not in seen:
            run.results[exercise.name] = {
                "status": NOT_ATTEMPTED,
                "message": (
                    f"this notebook has no check cell for {exercise.name}; keep the check cells of the "
                    "release where they are."
                ),
            }

    spec_dir = workdir.parent / "kernels" / "course-grader"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    sys.executable,
                    "-m",
                    "course_tools.sandbox_kernel",
                    "--memory-mb",
                    str(limits.memory_mb),
                    "--file-mb",
                    str(limits.file_mb),
                    "--",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "course grader (sandboxed)",
                "language": "python",
            }
        )
    )
    km = AsyncKernelManager(
        kernel_name="course-grader", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    )
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_raw_cell(""))
    client = _make_client_class()(
        nb,
        km=km,
        allow_errors=True,
        startup_timeout=int(limits.startup_timeout),
        iopub_timeout=2,
        record_timing=False,
        kernel_name="course-grader",
    )
    client.n_student_cells = len(cells)
    token = secrets.token_hex(16)
    grader_var = f"_grader_{token[:12]}"

    async def extra(source: str, timeout: float) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
        client.timeout = max(1, math.ceil(timeout))
        client.iopub_timeout = 15  # the result may queue behind output the student's function printed
        return await client.async_execute_cell(cell, len(nb.cells) - 1, store_history=False)

    async def responsive() -> bool:
        """Interrupt the kernel; True if it then answers within a few seconds."""
        try:
            await km.interrupt_kernel()
            await extra("pass", 5)
            return True
        except (CellTimeoutError, DeadKernelError, RuntimeError):
            return False

    def not_reached(reason: str) -> None:
        for exercise in exercises:
            if exercise.name not in run.results:
                run.results[exercise.name] = {"status": FAILED, "message": f"not graded: {reason}."}

    def record_results(cell: nbformat.NotebookNode, wanted: list[Exercise]) -> None:
        for out in cell.get("outputs", []):
            payload = out.get("data", {}).get(_MIME)
            if isinstance(payload, dict) and payload.get("token") == token and payload.get("name") in by_name:
                status = payload.get("status")
                run.results[payload["name"]] = {
                    "status": status if status in _RANK else FAILED,
                    "message": str(payload.get("message", "")),
                }
        for exercise in wanted:
            run.results.setdefault(
                exercise.name,
                {
                    "status": FAILED,
                    "message": (
                        "the grader received no result for this check (did the notebook delete the grader's "
                        "variables or stop its display?)."
                    ),
                },
            )

    env = _kernel_env(ROOT)
    try:
        try:
            await km.start_kernel(cwd=str(workdir), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await client.async_start_new_kernel_client()
            setup = await extra(
                f"{_KERNEL_SETUP}\n{grader_var} = _course_grader_setup({str(ROOT)!r}, {token!r}, "
                f"{_MIME!r})\ndel _course_grader_setup",
                limits.startup_timeout,
            )
        except Exception as err:  # noqa: BLE001 - whatever stops the kernel from starting
            run.stopped = f"the grader could not start a kernel ({type(err).__name__}: {str(err)[:200]})"
            not_reached(run.stopped)
            return
        errors = [o for o in setup.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            run.stopped = f"the grader's set-up failed: {errors[0]['ename']}: {errors[0]['evalue']}"
            not_reached(run.stopped)
            return
        deadline = time.monotonic() + limits.timeout
        for index, (kind, source) in enumerate(cells):
            where = f"cell {index + 1} (`{_first_line(source)}`)"
            if kind == "code" and source.strip():
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise CellTimeoutError("no time left")
                    client.timeout = max(1, math.ceil(remaining))
                    client.iopub_timeout = 4
                    cell = await client.async_execute_cell(nb.cells[index], index)
                except CellTimeoutError:
                    alive = await responsive()
                    run.stopped = f"time limit of {limits.timeout:g} s for the whole notebook reached in {where}" + (
                        "" if alive else "; the kernel did not answer an interrupt and was stopped"
                    )
                    not_reached(
                        f"the notebook stopped in {where}, before this check ({run.stopped.split(' in cell')[0]})"
                    )
                    return
                except DeadKernelError:
                    run.stopped = (
                        f"the kernel died in {where}: the cell ended the Python process (os._exit, "
                        f"a crash in compiled code, or memory beyond the {limits.memory_mb} MB limit)"
                    )
                    not_reached(f"the notebook stopped in {where}, before this check (the kernel died)")
                    return
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        run.n_errors += 1
                        run.error_names.append(out["ename"])
                        if len(run.errors) < 10:
                            run.errors.append(f"{where}: {out['ename']}: {out['evalue']}")
            for exercise in graded_after.get(index, []):
                source = f"{grader_var}({exercise.name!r}, lambda: ({exercise.expr}), {limits.check_time!r})"
                try:
                    cell = await extra(source, limits.check_time + 10)
                except CellTimeoutError:
                    run.results[exercise.name] = {
                        "status": FAILED,
                        "message": (
                            f"your answer did not finish within the {limits.check_time:g} s the check allows "
                            "and could not be interrupted."
                        ),
                    }
                    if not await responsive():
                        run.stopped = f"the kernel did not answer after the check of {exercise.name} timed out"
                        not_reached(f"the notebook stopped before this check ({run.stopped})")
                        return
                    continue
                except DeadKernelError:
                    run.results[exercise.name] = {
                        "status": FAILED,
                        "message": (
                            "your answer ended the Python process while it was being checked (os._exit, a crash, "
                            f"or memory beyond the {limits.memory_mb} MB limit)."
                        ),
                    }
                    run.stopped = f"the kernel died while checking {exercise.name}"
                    not_reached(f"the notebook stopped before this check ({run.stopped})")
                    return
                record_results(cell, [exercise])
    finally:
        try:
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001, S110 - the kernel may already be gone
            pass
        with contextlib.suppress(Exception):  # the kernel may already be gone
            await km.cleanup_resources()


def grade_notebook(
    path: Path,
    exercises: list[Exercise],
    limits: Limits,
    folder: Path | None = None,
    known: frozenset[str] = frozenset(),
) -> NotebookRun:
    """Run one notebook in a fresh sandboxed kernel and check its exercises (see the module doc)."""
    run = NotebookRun(str(path))
    start = time.monotonic()
    try:
        cells, warning = read_cells(path, limits.max_notebook_mb)
    except Unreadable as err:
        run.unreadable = str(err)
        for exercise in exercises:
            run.results[exercise.name] = {"status": FAILED, "message": f"not graded: {err}."}
        return run
    except OSError as err:
        run.unreadable = f"the file could not be read ({err.strerror})"
        for exercise in exercises:
            run.results[exercise.name] = {"status": FAILED, "message": f"not graded: {run.unreadable}."}
        return run
    if warning:
        run.notes.append(warning)
    run.flags = code_flags(cells, known)
    with tempfile.TemporaryDirectory(prefix="course-grade-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp) / "work"
        if folder is not None:  # the student's other files (data, helper modules) beside the notebook
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
            if size <= 100 * 2**20:
                shutil.copytree(folder, workdir, symlinks=True, ignore=shutil.ignore_patterns(".*"))
            else:
                run.notes.append("the folder is over 100 MB; its other files were not copied beside the notebook")
        workdir.mkdir(exist_ok=True)
        asyncio.run(_run_notebook(cells, exercises, limits, workdir, run))
    run.seconds = time.monotonic() - start
    return run


def grade_submission(
    sub: Submission, exercises: list[Exercise], limits: Limits, known: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Grade every notebook of ``sub`` and merge: for each exercise, its best result."""
    runs = [
        grade_notebook(Path(p), exercises, limits, Path(sub.folder) if sub.folder else None, known)
        for p in sub.notebooks
    ]
    return _merge(sub, exercises, runs)


def _merge(
    sub: Submission, exercises: list[Exercise], runs: list[NotebookRun], problem: str | None = None
) -> dict[str, Any]:
    results: dict[str, dict[str, str]] = {}
    for exercise in exercises:
        candidates = [r.results[exercise.name] for r in runs if exercise.name in r.results]
        if problem or sub.problem or not candidates:
            why = problem or sub.problem or "no notebook was graded"
            results[exercise.name] = {"status": FAILED if problem else NOT_ATTEMPTED, "message": f"not graded: {why}."}
            continue
        results[exercise.name] = max(candidates, key=lambda r: _RANK.get(r["status"], 0))
    return {
        "student": sub.student,
        "source": sub.source,
        "duplicate": sub.duplicate,
        "problem": problem or sub.problem,
        "results": results,
        "notebooks": [asdict(r) for r in runs],
    }


# ----------------------------------------------------------------------------------------------
# The worker processes and the pool
# ----------------------------------------------------------------------------------------------


def _worker_loop(conn: Any, memory_mb: int) -> None:
    """A worker process: grade the submissions it receives, one at a time, until told to stop."""
    os.setsid()  # its own process group, so that the parent can kill it with everything it started
    # A cap on the worker's own memory (soft limit only, so each kernel can set its own): one giant
    # message from a kernel then ends this worker, and one submission, not the machine.
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > memory_mb * 2**20:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, hard))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        sub, exercises, limits, known = task
        try:
            result = grade_submission(sub, exercises, limits, known)
        except Exception as err:  # noqa: BLE001 - a bug or an odd file must not end the worker
            result = _merge(
                sub, exercises, [], f"the grader failed on this submission ({type(err).__name__}: {str(err)[:200]})"
            )
        conn.send(result)


class _WorkerLost(Exception):
    pass


class _Worker:
    """One worker process (``multiprocessing``, spawned) and the pipe to it."""

    MEMORY_MB = 3072

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_loop, args=(child, self.MEMORY_MB), daemon=True)
        self.proc.start()
        child.close()

    def grade(
        self, sub: Submission, exercises: list[Exercise], limits: Limits, known: frozenset[str]
    ) -> dict[str, Any]:
        limit = _hard_limit(sub, exercises, limits)
        try:
            self.conn.send((sub, exercises, limits, known))
            if not self.conn.poll(limit):
                self.stop()
                raise _WorkerLost(f"the grader gave up on this submission after {limit:.0f} s")
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.stop()
            raise _WorkerLost(
                f"the grader's worker process died (exit code {self.proc.exitcode}) while grading this submission"
            ) from None

    def stop(self) -> None:
        if self.proc.is_alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the worker and anything it started
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.join(10)
        self.conn.close()


def _hard_limit(sub: Submission, exercises: list[Exercise], limits: Limits) -> float:
    per_notebook = limits.startup_timeout + limits.timeout + len(exercises) * (limits.check_time + 20) + 60
    return max(1, len(sub.notebooks)) * per_notebook


def grade_all(
    submissions: list[Submission],
    exercises: list[Exercise],
    limits: Limits,
    jobs: int,
    progress: bool = True,
    known: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Grade the submissions in ``jobs`` worker processes, one notebook per kernel; order preserved.

    A worker that dies or overruns its submission's time (kernel start-up + ``limits.timeout`` +
    every check, with margins) is killed and replaced; that submission gets a row saying so.
    """
    import queue

    from tqdm.auto import tqdm

    results: dict[int, dict[str, Any]] = {}
    todo = [(i, s) for i, s in enumerate(submissions) if s.notebooks]
    for i, s in enumerate(submissions):
        if not s.notebooks:
            results[i] = _merge(s, exercises, [])
    jobs = max(1, min(jobs, len(todo) or 1))
    idle: queue.Queue[_Worker | None] = queue.Queue()
    for _ in range(jobs):
        idle.put(None)  # started on first use
    workers: list[_Worker] = []

    def grade_one(sub: Submission) -> dict[str, Any]:
        worker = idle.get()
        try:
            if worker is None:
                worker = _Worker()
                workers.append(worker)
            return worker.grade(sub, exercises, limits, known)
        except _WorkerLost as err:
            worker = None
            return _merge(sub, exercises, [], str(err))
        finally:
            idle.put(worker)

    bar = tqdm(
        total=len(submissions),
        initial=len(results),
        unit="submission",
        desc="grading",
        disable=not progress,
        file=sys.stderr,
    )
    pool = ThreadPoolExecutor(jobs)
    try:
        futures = {pool.submit(grade_one, s): i for i, s in todo}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:  # also on Ctrl-C: no worker or kernel is left running
            worker.stop()
        bar.close()
    return [results[i] for i in range(len(submissions))]


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------


def run_problems(result: dict[str, Any]) -> list[str]:
    """Why a submission did not run cleanly (empty: it did), for the status column and summary."""
    problems = []
    if result.get("problem"):
        problems.append(result["problem"])
    for nb in result.get("notebooks", []):
        name = Path(nb["path"]).name
        prefix = f"{name}: " if len(result["notebooks"]) > 1 else ""
        if nb.get("unreadable"):
            problems.append(prefix + nb["unreadable"])
        if nb.get("stopped"):
            problems.append(prefix + nb["stopped"])
        if nb.get("n_errors"):
            kinds = ", ".join(sorted(set(nb["error_names"])))
            problems.append(prefix + f"{nb['n_errors']} cell(s) raised an error ({kinds})")
    if result.get("duplicate"):
        problems.append(result["duplicate"])
    return problems


def _category(result: dict[str, Any]) -> str | None:
    """The reason a submission *failed to run*, in a few words (None: it ran)."""
    if result.get("problem"):
        text = result["problem"]
        return "no notebook / empty folder" if text.startswith("no notebook") else "grader worker failed or gave up"
    reasons = []
    for nb in result.get("notebooks", []):
        if nb.get("unreadable"):
            reasons.append("file too large" if "limit (outputs" in nb["unreadable"] else "not a notebook")
        elif nb.get("stopped"):
            stopped = nb["stopped"]
            reasons.append(
                "time limit"
                if stopped.startswith("time limit") or "timed out" in stopped
                else "kernel died"
                if "died" in stopped
                else "kernel did not start"
            )
    return reasons[0] if reasons else None


def _feedback_name(result: dict[str, Any]) -> str:
    base = re.sub(r"[^\w.-]+", "_", result["student"]) or "student"
    if result.get("duplicate"):
        base += "--" + re.sub(r"[^\w.-]+", "_", result["source"].rstrip("/"))
    return base + ".md"


def feedback(result: dict[str, Any], exercises: list[Exercise]) -> str:
    """The student's feedback page (Markdown)."""
    score = sum(result["results"][e.name]["status"] == PASSED for e in exercises)
    lines = [
        f"# Feedback for {result['student']}",
        "",
        f"Submission: `{result['source']}`",
        "",
        f"**Score: {score} / {len(exercises)}** auto-checked exercises passed.",
        "",
    ]
    for exercise in exercises:
        r = result["results"][exercise.name]
        lines += [f"## {exercise.name}: {r['status']}", "", r["message"].strip() or "(no message)", ""]
    problems = run_problems(result)
    notes = [n for nb in result.get("notebooks", []) for n in nb.get("notes", [])]
    errors = [e for nb in result.get("notebooks", []) for e in nb.get("errors", [])]
    if problems or notes or errors:
        lines += ["## Running your notebook", ""]
        lines += [f"- {p}" for p in problems + notes]
        if errors:
            lines += ["", "Errors raised by your cells (the first ones):", ""] + [f"- {e}" for e in errors]
        lines.append("")
    return "\n".join(lines)


def summary(results: list[dict[str, Any]], exercises: list[Exercise], ignored: list[str], seconds: float) -> str:
    """The console summary: mean per exercise, what failed to run and why, flags."""
    n = len(results)
    lines = [f"Graded {n} submission(s) on {len(exercises)} exercise(s) in {seconds:.1f} s.", ""]
    if n:
        width = max([len(e.name) for e in exercises] + [8])
        lines.append(f"{'exercise':<{width}}  passed  failed  not attempted")
        for e in exercises:
            counts = Counter(r["results"][e.name]["status"] for r in results)
            lines.append(
                f"{e.name:<{width}}  {counts[PASSED] / n:6.0%}  {counts[FAILED] / n:6.0%}  "
                f"{counts[NOT_ATTEMPTED] / n:13.0%}"
            )
        totals = [sum(r["results"][e.name]["status"] == PASSED for e in exercises) for r in results]
        lines.append(f"mean total: {sum(totals) / n:.2f} / {len(exercises)}")
    categories = Counter(c for c in map(_category, results) if c)
    failed = sum(categories.values())
    lines += ["", f"Failed to run: {failed} of {n}" + (":" if failed else ".")]
    for reason, count in categories.most_common():
        who = ", ".join(r["student"] for r in results if _category(r) == reason)
        lines.append(f"  {count} x {reason} ({who})")
    with_errors = [r for r in results if not _category(r) and any(nb.get("n_errors") for nb in r["notebooks"])]
    if with_errors:
        kinds = Counter(k for r in with_errors for nb in r["notebooks"] for k in set(nb.get("error_names", [])))
        lines.append(
            f"Ran, with errors in some cells: {len(with_errors)} ("
            + ", ".join(f"{k} in {c}" for k, c in kinds.most_common(5))
            + ")"
        )
    duplicates = [r["source"] for r in results if r.get("duplicate")]
    if duplicates:
        lines.append(f"Duplicate student ids (graded separately, decide by hand): {', '.join(duplicates)}")
    flagged = [(r["student"], sorted({f for nb in r["notebooks"] for f in nb.get("flags", [])})) for r in results]
    flagged = [(s, f) for s, f in flagged if f]
    if flagged:
        lines.append(
            "Flagged for a human to read (grades unaffected): " + "; ".join(f"{s}: {', '.join(f)}" for s, f in flagged)
        )
    if ignored:
        lines.append(f"Ignored in the submissions folder: {', '.join(ignored)}")
    return "\n".join(lines)


def write_reports(results: list[dict[str, Any]], exercises: list[Exercise], out: Path) -> None:
    """``grades.csv``, ``results.json`` and ``feedback/*.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "source", *(e.name for e in exercises), "total", "status", "flags"])
        for r in results:
            scores = [int(r["results"][e.name]["status"] == PASSED) for e in exercises]
            flags = sorted({f for nb in r["notebooks"] for f in nb.get("flags", [])})
            writer.writerow(
                [r["student"], r["source"], *scores, sum(scores), "; ".join(run_problems(r)) or "ok", "; ".join(flags)]
            )
    folder = out / "feedback"
    if folder.is_dir():
        shutil.rmtree(folder)  # no stale feedback of a student who is no longer in the folder
    folder.mkdir()
    used: set[str] = set()
    for r in results:
        name = _feedback_name(r)
        stem, n = name[:-3], 2
        while name.casefold() in used:  # "a b" and "a_b" would share a file name
            name, n = f"{stem}-{n}.md", n + 1
        used.add(name.casefold())
        r["feedback"] = f"feedback/{name}"
        (folder / name).write_text(feedback(r, exercises), encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps({"exercises": [e.name for e in exercises], "submissions": results}, indent=1), encoding="utf-8"
    )


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``scripts/grade.py``: parse the arguments, grade, write the reports, print the summary."""
    parser = argparse.ArgumentParser(
        prog="grade.py",
        description="Grade submitted notebooks with the course's auto-checks.",
        epilog="Exit status 0 when the grader ran (whatever the submissions did), 2 for a usage error.",
    )
    parser.add_argument("submissions", type=Path, help="folder: one .ipynb or one folder per student")
    parser.add_argument("--out", type=Path, required=True, help="folder for grades.csv, feedback/ ...")
    parser.add_argument(
        "--release",
        type=Path,
        nargs="+",
        help="released (or source) notebooks or folders whose check cells define the "
        "exercises and the column order (default: the book's _toc.yml)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded at once")
    parser.add_argument(
        "--timeout",
        type=float,
        default=Limits.timeout,
        help="seconds for all cells of one notebook (default %(default)s)",
    )
    parser.add_argument(
        "--check-time",
        type=float,
        default=Limits.check_time,
        help="seconds for one check of a student's function (default %(default)s)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=Limits.memory_mb,
        help="address-space limit of each kernel, MiB (default %(default)s; PyTorch + "
        "TensorFlow alone take about 2100)",
    )
    parser.add_argument(
        "--max-notebook-mb",
        type=float,
        default=Limits.max_notebook_mb,
        help="larger submitted files are refused (default %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.timeout <= 0 or args.check_time <= 0 or args.max_notebook_mb <= 0:
            raise ValueError("--timeout, --check-time and --max-notebook-mb must be positive")
        if args.memory_mb < 256:
            raise ValueError("--memory-mb below 256 cannot start a Python kernel")
        folder = args.submissions.resolve()
        out = args.out.resolve()
        if out == folder or folder in out.parents:
            raise ValueError(
                f"--out {args.out} is inside the submissions folder; it would be graded next "
                "time. Choose a folder outside it"
            )
        submissions, ignored = discover(folder)
        if not submissions:
            raise ValueError(f"no submission in {args.submissions} (expected .ipynb files or one folder per student)")
        exercises = assignment(args.release, present=None if args.release else names_in_submissions(submissions))
        if not exercises:
            raise ValueError("no auto-checked exercise found: pass --release with the notebooks you assigned")
    except ValueError as err:
        print(f"grade.py: {err}", file=sys.stderr)
        return 2
    limits = Limits(
        timeout=args.timeout, check_time=args.check_time, memory_mb=args.memory_mb, max_notebook_mb=args.max_notebook_mb
    )
    start = time.perf_counter()
    results = grade_all(
        submissions, exercises, limits, args.jobs, progress=not args.no_progress, known=release_lines(args.release)
    )
    write_reports(results, exercises, out)
    text = summary(results, exercises, ignored, time.perf_counter() - start)
    (out / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\ngrades: {out / 'grades.csv'}; feedback: {out / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
