"""Build the student release of the course (instructors; see the README's instructor section).

    python scripts/release.py --out release/student                 # every notebook in _toc.yml
    python scripts/release.py --out release/student --instructor release/instructor
    python scripts/release.py --out /tmp/s chapters/00_how_to_use.ipynb   # only these notebooks

The student release has no solution directives, no solution text and no solution code (each
``### BEGIN SOLUTION`` region becomes ``raise NotImplementedError()``), no outputs, and keeps the
``check(...)`` cells, which answer "not attempted yet" until the student writes a solution. The
logic lives in :mod:`course_tools.release`; ``tests/test_release.py`` tests it. ``--instructor``
also writes the unchanged source notebooks (solutions and outputs) beside it, so an instructor
hands out one folder and keeps the other. ``release/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_tools.release import release_book  # noqa: E402
from course_tools.toc import toc_notebooks  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the student notebooks")
    parser.add_argument("--instructor", type=Path, help="also copy the full notebooks here")
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks relative to the book root (default: all in _toc.yml)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    notebooks = args.notebooks or toc_notebooks(ROOT)
    if args.out.resolve().exists():
        shutil.rmtree(args.out)  # a stale release could keep a notebook removed from the book
    try:
        reports = release_book(ROOT, args.out, notebooks)
    except ValueError as err:
        print(f"release failed: {err}", file=sys.stderr)
        return 1
    for rel, r in reports.items():
        print(
            f"{rel}: {r.solutions + r.gated} solutions removed ({r.gated} with code, "
            f"{r.stubbed_cells} code cells stubbed)"
        )
    if args.instructor:
        if args.instructor.resolve().exists():
            shutil.rmtree(args.instructor)
        for rel in reports:
            (args.instructor / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, args.instructor / rel)
        print(f"instructor copies in {args.instructor}")
    print(f"student release of {len(reports)} notebooks in {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
