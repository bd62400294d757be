"""The browser test's running totals, printed as one summary line at the end of the run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

_SUMMARY = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def summary(request: pytest.FixtureRequest):
    """Totals that test_site.py adds to; the summary line is printed and saved afterwards."""
    totals = {
        "pages": 0,
        "images": 0,
        "widgets": 0,
        "solutions": 0,
        "links": 0,
        "math": 0,
        "warnings": 0,
        "screenshots": None,
    }
    start = time.perf_counter()
    yield totals
    if not totals["pages"]:
        return
    line = (
        f"browser test: {totals['pages']} pages, {totals['images']} images, {totals['widgets']} widgets, "
        f"{totals['solutions']} solutions, {totals['links']} internal links checked "
        f"({totals['math']} math elements, {totals['warnings']} console warnings) "
        f"in {time.perf_counter() - start:.1f} s; screenshots in {totals['screenshots']}"
    )
    if totals["screenshots"]:
        (Path(totals["screenshots"]) / "summary.txt").write_text(line + "\n")
    request.config.stash[_SUMMARY] = line


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = terminalreporter.config.stash.get(_SUMMARY, None)
    if line:
        terminalreporter.write_sep("-", "browser test summary")
        terminalreporter.write_line(line)
