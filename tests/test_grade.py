"""The batch grader (course_tools.grade, scripts/grade.py) on what students really hand in.

The fixture submissions in tests/fixtures/submissions/ (written by tests/fixtures/make_grade_fixtures.py
from a three-exercise chapter with chapter 0's checkers) are graded once, by the command line, with
small limits; every test below reads that one run. Each submission must give a clear row and
message, never crash the grader, and never a wrong "passed". The sandbox's limits are then tested on
their own: the memory and file-size limits really apply in the kernel process, a kernel dies with
its worker, and a worker that overruns is killed and replaced while the others go on.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_tools import grade

# The grader executes real notebooks in real kernels (seconds each): part of the full run, not the fast loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
RELEASE = FIXTURES / "grade_release.ipynb"
EXERCISES = ["ch00.double", "ch00.mse_grad", "ch00.broadcast_shape"]
P, F, N = "passed", "failed", "not attempted yet"
EXPECTED = {  # source -> status of each exercise, in EXERCISES order
    "correct.ipynb": (P, P, P),
    "wrong.ipynb": (F, F, F),
    "untouched.ipynb": (N, N, N),
    "not_json.ipynb": (F, F, F),
    "not_a_notebook.ipynb": (F, F, F),
    "infinite_loop.ipynb": (P, F, F),  # the loop comes after the first check
    "kills_kernel.ipynb": (P, F, F),  # os._exit after the first check
    "memory_hog.ipynb": (P, P, P),  # MemoryError in its cell, the rest runs
    "stuffed_output.ipynb": (P, P, P),
    "cheater.ipynb": (F, F, F),  # wrong answers, its own check() and patched checkers
    "slow_answer.ipynb": (F, P, P),  # double loops forever: the check's time limit
    "dupont.ipynb": (P, P, P),
    "Dupont/": (F, F, F),
    "multi/": (P, P, N),  # part1 answers the first, part2 the second
    "empty/": (N, N, N),
}
STATUS = {  # source -> words its status column must contain
    "correct.ipynb": "ok",
    "untouched.ipynb": "ok",
    "not_json.ipynb": "invalid JSON",
    "not_a_notebook.ipynb": "without the notebook structure",
    "infinite_loop.ipynb": "time limit of 10 s for the whole notebook reached in cell 6",
    "kills_kernel.ipynb": "the kernel died in cell 6",
    "memory_hog.ipynb": "MemoryError",
    "stuffed_output.ipynb": "ok",
    "empty/": "the folder is empty",
    "dupont.ipynb": "duplicate student id 'dupont': also Dupont/",
    "Dupont/": "duplicate student id 'Dupont': also dupont.ipynb",
}


def sandbox_kernels() -> list[int]:
    """Pids of running sandbox kernels (none should outlive a grading run)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = next(ln for ln in (entry / "status").read_text().splitlines() if ln.startswith("State:"))
            except (OSError, StopIteration):
                continue
            if b"course_tools.sandbox_kernel" in cmdline and "Z" not in state:
                pids.append(int(entry.name))
    return pids


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The fixture submissions graded by the command line, 2 at a time, with small limits."""
    out = tmp_path_factory.mktemp("grades")
    before = set(sandbox_kernels())
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "grade.py"),
            str(SUBMISSIONS),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--timeout",
            "10",
            "--check-time",
            "5",
            "--memory-mb",
            "1500",
            "--jobs",
            "2",
            "--no-progress",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    results = json.loads((out / "results.json").read_text())
    leftover = wait_until(lambda: not set(sandbox_kernels()) - before)
    return {"out": out, "stdout": done.stdout, "rows": rows, "results": results, "no_leftover": leftover}


def test_one_row_per_submission_columns_in_release_order(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["student", "source", *EXERCISES, "total", "status", "flags"]
    assert sorted(r["source"] for r in graded["rows"]) == sorted(EXPECTED)
    assert graded["results"]["exercises"] == EXERCISES


def test_every_submission_gets_exactly_the_expected_statuses(graded):
    """The core guarantee: no wrong "passed", and nothing a notebook does spoils another's row."""
    for sub in graded["results"]["submissions"]:
        got = tuple(sub["results"][name]["status"] for name in EXERCISES)
        assert got == EXPECTED[sub["source"]], (sub["source"], got, sub["results"])
    for row in graded["rows"]:
        scores = [int(row[name]) for name in EXERCISES]
        assert scores == [int(s == P) for s in EXPECTED[row["source"]]], row
        assert int(row["total"]) == sum(scores)


def test_status_column_says_what_went_wrong(graded):
    rows = {r["source"]: r for r in graded["rows"]}
    for source, words in STATUS.items():
        assert words in rows[source]["status"], (source, rows[source]["status"])
    assert rows["correct.ipynb"]["flags"] == ""


def test_messages_are_the_checkers_and_explain_the_stop(graded):
    subs = {s["source"]: s["results"] for s in graded["results"]["submissions"]}
    assert "factor 2" in subs["wrong.ipynb"]["ch00.mse_grad"]["message"]
    assert "tuple" in subs["wrong.ipynb"]["ch00.broadcast_shape"]["message"]
    assert "NotImplementedError" in subs["untouched.ipynb"]["ch00.double"]["message"]
    for source in ("infinite_loop.ipynb", "kills_kernel.ipynb"):
        assert "stopped in cell 6 (" in subs[source]["ch00.mse_grad"]["message"]
    assert "no check cell" not in json.dumps(subs["correct.ipynb"])
    assert "took longer than 5 s" in subs["slow_answer.ipynb"]["ch00.double"]["message"]


def test_a_student_who_redefines_check_does_not_pass(graded):
    sub = next(s for s in graded["results"]["submissions"] if s["source"] == "cheater.ipynb")
    assert all(sub["results"][name]["status"] == F for name in EXERCISES)
    # the instructor's checker spoke, not the patched one: its usual message for this wrong answer
    assert "factor 2" in sub["results"]["ch00.mse_grad"]["message"]
    notes = sub["notebooks"][0]["notes"]
    assert any("check cell of ch00.double was edited" in n for n in notes), notes
    row = next(r for r in graded["rows"] if r["source"] == "cheater.ipynb")
    assert "defines `check`" in row["flags"] and "CHECKS" in row["flags"]


def test_feedback_file_per_student_and_outputs_never_kept(graded):
    folder = graded["out"] / "feedback"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == len(EXPECTED)
    assert "Dupont--Dupont.md" in files and "dupont--dupont.ipynb.md" in files
    text = (folder / "wrong.md").read_text()
    assert "**Score: 0 / 3**" in text and "## ch00.mse_grad: failed" in text and "factor 2" in text
    memory = (folder / "memory_hog.md").read_text()
    assert "MemoryError" in memory and "**Score: 3 / 3**" in memory
    # 21 MB of output (1 MB stored, 20 MB printed while it ran) leave no trace in any report
    assert (folder / "stuffed_output.md").stat().st_size < 2000
    assert (graded["out"] / "results.json").stat().st_size < 100_000


def test_console_summary_and_no_kernel_left_running(graded):
    text = graded["stdout"]
    assert "Graded 15 submission(s) on 3 exercise(s)" in text
    assert "ch00.double" in text and "mean total:" in text
    assert "Failed to run: 5 of 15:" in text
    for reason in (
        "time limit (infinite_loop)",
        "kernel died (kills_kernel)",
        "not a notebook (not_a_notebook, not_json)",
        "empty folder (empty)",
        "MemoryError",
        "Duplicate student ids",
        "cheater: defines `check`",
    ):
        assert reason in text, reason
    assert (graded["out"] / "summary.md").read_text().startswith("Graded 15")
    assert graded["no_leftover"], f"sandbox kernels still running: {sandbox_kernels()}"


# ----------------------------------------------------------------------------------------------
# The sandbox, the workers and the pieces, on their own
# ----------------------------------------------------------------------------------------------


def test_memory_and_file_limits_really_apply_in_the_kernel_process(tmp_path):
    code = (
        "import resource\nfrom course_tools.sandbox_kernel import apply_limits\napply_limits(512, 1)\n"
        "print(resource.getrlimit(resource.RLIMIT_AS))\n"
        "try:\n    bytearray(1 << 30)\nexcept MemoryError:\n    print('MemoryError')\n"
        "try:\n    open('big', 'wb').write(b'x' * (2 << 20))\nexcept OSError as e:\n    print('OSError', e.errno)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.split("\n")[:3] == [str((512 << 20, 512 << 20)), "MemoryError", "OSError 27"], done.stderr
    with pytest.raises(ValueError, match="at least 256"):
        from course_tools.sandbox_kernel import apply_limits

        apply_limits(100, None)


def test_a_kernel_dies_with_its_parent():
    parent = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'from course_tools.sandbox_kernel import "
        "die_with_parent; die_with_parent(); import time; time.sleep(120)'])\n"
        "print(child.pid, flush=True)\ntime.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    child = int(proc.stdout.readline())
    time.sleep(1.0)  # let the child reach prctl
    assert Path(f"/proc/{child}").exists()
    proc.kill()
    proc.wait()

    def gone() -> bool:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            return True
        return "State:\tZ" in status

    assert wait_until(gone, 10), "the child outlived its parent"


def test_a_worker_that_overruns_is_replaced_and_the_others_are_graded(tmp_path, monkeypatch):
    exercises = grade.assignment([RELEASE])
    subs = [
        grade.Submission("infinite_loop", "infinite_loop.ipynb", [str(SUBMISSIONS / "infinite_loop.ipynb")]),
        grade.Submission("correct", "correct.ipynb", [str(SUBMISSIONS / "correct.ipynb")]),
    ]
    normal = grade._hard_limit
    monkeypatch.setattr(
        grade, "_hard_limit", lambda sub, ex, lim: 3.0 if sub.student == "infinite_loop" else normal(sub, ex, lim)
    )
    before = set(sandbox_kernels())
    results = grade.grade_all(subs, exercises, grade.Limits(timeout=60, memory_mb=1500), jobs=1, progress=False)
    assert results[0]["problem"] == "the grader gave up on this submission after 3 s"
    assert all(r["status"] == F for r in results[0]["results"].values())
    assert [r["status"] for r in results[1]["results"].values()] == [P, P, P]
    assert wait_until(lambda: not set(sandbox_kernels()) - before), "the killed worker's kernel survived"


def test_find_checks():
    assert grade.find_checks('# NBVAL_CHECK_OUTPUT\ncheck("ch00.double", double)') == [("ch00.double", "double")]
    assert grade.find_checks("%time r = check('ch01.a', f)\nlib.check('ch02.b', make(g, 2))") == [
        ("ch02.b", "make(g, 2)")
    ]  # the magic line is skipped; an attribute call counts
    assert grade.find_checks('check("ch03.c", f\n') == [("ch03.c", None)]  # a syntax error
    assert grade.find_checks("checking = 1") == []


def test_read_cells_refuses_large_files_and_runs_slightly_invalid_ones(tmp_path):
    with pytest.raises(grade.Unreadable, match="over the 0.5 MB limit"):
        grade.read_cells(SUBMISSIONS / "stuffed_output.ipynb", max_mb=0.5)
    nb = json.loads((SUBMISSIONS / "correct.ipynb").read_text())
    nb["cells"][1]["unexpected_key"] = 1
    (tmp_path / "odd.ipynb").write_text(json.dumps(nb))
    cells, warning = grade.read_cells(tmp_path / "odd.ipynb", max_mb=1)
    assert "does not follow nbformat" in warning and cells[1] == ("code", "".join(nb["cells"][1]["source"]))
    (tmp_path / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(grade.Unreadable, match="not text"):
        grade.read_cells(tmp_path / "binary.ipynb", max_mb=1)


def test_default_exercises_come_from_the_book_in_toc_order():
    exercises = grade.assignment(None, present={"ch00.mse_grad", "ch00.double"})
    assert [(e.name, e.expr) for e in exercises] == [("ch00.double", "double"), ("ch00.mse_grad", "my_mse_grad")]


def test_usage_errors_exit_2_with_a_message(tmp_path, capsys):
    assert grade.main([str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "subs").mkdir()
    assert grade.main([str(tmp_path / "subs"), "--out", str(tmp_path / "subs" / "grades")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('check("ch99.nope", f)')]),
        tmp_path / "subs" / "a.ipynb",
    )
    assert (
        grade.main(
            [str(tmp_path / "subs"), "--out", str(tmp_path / "o"), "--release", str(tmp_path / "subs" / "a.ipynb")]
        )
        == 2
    )
    assert "does not know" in capsys.readouterr().err
    assert grade.main([str(tmp_path / "subs"), "--out", str(tmp_path / "o"), "--memory-mb", "100"]) == 2


def test_feedback_files_never_overwrite_each_other(tmp_path):
    exercises = [grade.Exercise("ch00.double", "double", 'check("ch00.double", double)')]
    subs = [
        grade.Submission(name, name + ".ipynb", problem="no notebook: the folder is empty")
        for name in ("a b", "a_b", "A_B")
    ]
    results = [grade._merge(s, exercises, []) for s in subs]
    grade.write_reports(results, exercises, tmp_path)
    files = sorted(p.name for p in (tmp_path / "feedback").iterdir())
    assert files == ["A_B-3.md", "a_b-2.md", "a_b.md"]
    assert [r["feedback"] for r in json.loads((tmp_path / "results.json").read_text())["submissions"]] == [
        "feedback/a_b.md",
        "feedback/a_b-2.md",
        "feedback/A_B-3.md",
    ]
