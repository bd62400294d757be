"""The one reader of the book's table of contents, ``_toc.yml`` (Jupyter Book 1.x ``jb-book`` format).

The release tool, the book checks (``tests/test_book.py``) and the browser test of the site all
need "every page of the book, in order"; they all call :func:`toc_files` and filter what they
need (``p.suffix == ".ipynb"`` for the notebooks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SUFFIXES = (".ipynb", ".md")


def resolve(root: Path, entry: str) -> Path:
    """The file behind a ``_toc.yml`` entry such as ``chapters/04_losses`` (suffix optional).

    A notebook wins over a markdown page of the same name, as in Jupyter Book. Raises
    ``ValueError`` if neither ``entry.ipynb`` nor ``entry.md`` exists.
    """
    path = root / entry
    if path.suffix in SUFFIXES and path.is_file():
        return path
    for suffix in SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    raise ValueError(f"_toc.yml lists {entry!r}, but neither {entry}.ipynb nor {entry}.md exists")


def _read(root: Path) -> Any:
    import yaml

    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise ValueError(f"no _toc.yml in {root}; pass the book's root folder")
    return yaml.safe_load(toc_path.read_text(encoding="utf-8"))


def _entries(root: Path) -> list[dict[str, Any]]:
    """Every mapping of ``_toc.yml`` that names a page (``root:`` or ``file:``), depth first, in book order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("root"), str) or isinstance(node.get("file"), str):
                found.append(node)
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(_read(root))
    return found


def toc_files(root: str | Path = ".") -> list[Path]:
    """Every page listed in ``root/_toc.yml``, in book order, relative to ``root``, with its suffix.

    The ``root`` page comes first, then each ``file:`` entry depth first: a part's chapters, a
    chapter's landing page (``chapters/07_cnn.md``) before its ``sections`` (``chapters/07a_...ipynb``).
    A page listed twice is returned twice (callers that must refuse duplicates can see them).
    Raises ``ValueError`` if ``_toc.yml`` is missing or names a file that does not exist.
    """
    root = Path(root)
    return [
        resolve(root, node[key]).relative_to(root)
        for node in _entries(root)
        for key in ("root", "file")
        if isinstance(node.get(key), str)
    ]


def toc_notebooks(root: str | Path = ".") -> list[Path]:
    """The notebooks among :func:`toc_files`, each once, in book order."""
    return [p for p in dict.fromkeys(toc_files(root)) if p.suffix == ".ipynb"]


def toc_sections(root: str | Path = ".") -> dict[str, list[str]]:
    """Every entry of ``_toc.yml`` that has ``sections`` (a chapter's landing page) -> its sections.

    Keys and values are docnames without suffix, in book order:
    ``{"chapters/07_convolutional_networks": ["chapters/07a_convolution_operation", ...]}``.
    """

    def strip(entry: str) -> str:
        path = Path(entry)
        return path.with_suffix("").as_posix() if path.suffix in SUFFIXES else entry

    return {
        strip(node["file"]): [strip(s["file"]) for s in node["sections"] if isinstance(s, dict) and "file" in s]
        for node in _entries(Path(root))
        if isinstance(node.get("file"), str) and node.get("sections")
    }
