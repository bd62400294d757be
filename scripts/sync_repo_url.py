"""Propagate the repository URL from _config.yml (its single source) to everything that needs it.

    python scripts/sync_repo_url.py          # rewrite the copies
    python scripts/sync_repo_url.py --check  # exit 1 if any copy differs (tests run this)

Copies: ``course_lib.REPOSITORY_URL``, ``[project.urls]`` in pyproject.toml, and the Colab
install line (``course_lib @ git+<url>``) in every chapter's setup cell.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
COLAB_LINE = re.compile(r"course_lib @ git\+(https://[^\s\"']+)")
PY_CONST = re.compile(r'^(REPOSITORY_URL = ")([^"]+)(")', re.M)
PYPROJECT = re.compile(r'^(Repository = ")([^"]+)(")', re.M)


def configured_url() -> str:
    """The repository URL in _config.yml (``repository.url``)."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    if not url.startswith("https://"):
        raise ValueError(f"_config.yml repository.url must be an https:// URL, got {url!r}")
    return url.rstrip("/")


def _sub(pattern: re.Pattern[str], text: str, url: str) -> str:
    return pattern.sub(lambda m: m.group(1) + url + m.group(3), text)


def stale_files(url: str, fix: bool) -> list[Path]:
    """Files whose copy of the URL differs from ``url`` (rewritten in place when ``fix``)."""
    stale = []
    for path, pattern in ((ROOT / "course_lib" / "__init__.py", PY_CONST), (ROOT / "pyproject.toml", PYPROJECT)):
        text = path.read_text()
        new = _sub(pattern, text, url)
        if not pattern.search(text):
            raise ValueError(f"{path} has no repository URL line to keep in sync")
        if new != text:
            stale.append(path)
            if fix:
                path.write_text(new)
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            if cell.cell_type == "code" and COLAB_LINE.search(cell.source):
                new = COLAB_LINE.sub(f"course_lib @ git+{url}", cell.source)
                changed |= new != cell.source
                cell.source = new
        if changed:
            stale.append(path)
            if fix:
                nbformat.write(nb, path)
    return stale


if __name__ == "__main__":
    check_only = "--check" in sys.argv
    stale = stale_files(configured_url(), fix=not check_only)
    for path in stale:
        print(("out of date: " if check_only else "updated: ") + str(path.relative_to(ROOT)))
    sys.exit(1 if check_only and stale else 0)
