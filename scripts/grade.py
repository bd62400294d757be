"""Grade a class's submitted notebooks with the course's auto-checks (instructors; see the README).

    python scripts/grade.py SUBMISSIONS_DIR --out grades/ --release release/student/chapters/00_how_to_use.ipynb
    python scripts/grade.py SUBMISSIONS_DIR --out grades/ --timeout 300 --memory-mb 4096 --jobs 2

SUBMISSIONS_DIR holds one .ipynb per student, or one folder per student (the student id is the
file or folder name). Writes grades.csv, results.json, feedback/<id>.md and summary.md in --out
and prints the summary. The logic, the sandbox and why a student cannot pass by redefining
``check`` are explained in :mod:`course_tools.grade`; ``tests/test_grade.py`` tests it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_tools.grade import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
