"""Tests for course_tools.toc, the one reader of _toc.yml (release, book checks and browser test use it)."""

from pathlib import Path

import pytest

from course_tools.toc import toc_files, toc_notebooks

ROOT = Path(__file__).resolve().parent.parent

TOC = """format: jb-book
root: intro
parts:
  - caption: Foundations
    numbered: true
    chapters:
      - file: chapters/01_first
      - file: chapters/07_cnn
        sections:
          - file: chapters/07a_convolution
          - file: chapters/07b_pooling.ipynb
  - caption: About
    chapters:
      - file: bibliography
"""


@pytest.fixture
def book(tmp_path):
    for name in (
        "intro.md",
        "bibliography.md",
        "chapters/07_cnn.md",
        "chapters/01_first.ipynb",
        "chapters/07a_convolution.ipynb",
        "chapters/07b_pooling.ipynb",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "_toc.yml").write_text(TOC)
    return tmp_path


def test_every_page_in_book_order_with_its_suffix(book):
    assert toc_files(book) == [
        Path(p)
        for p in (
            "intro.md",
            "chapters/01_first.ipynb",
            "chapters/07_cnn.md",
            "chapters/07a_convolution.ipynb",
            "chapters/07b_pooling.ipynb",
            "bibliography.md",
        )
    ]
    assert toc_notebooks(book) == [
        Path("chapters/01_first.ipynb"),
        Path("chapters/07a_convolution.ipynb"),
        Path("chapters/07b_pooling.ipynb"),
    ]


def test_a_notebook_wins_over_a_markdown_page_of_the_same_name(book):
    (book / "chapters/01_first.md").write_text("# shadow")
    assert Path("chapters/01_first.ipynb") in toc_files(book)


def test_duplicates_are_kept_for_the_caller_to_see(book):
    (book / "_toc.yml").write_text(TOC + "      - file: chapters/01_first\n")
    files = toc_files(book)
    assert files.count(Path("chapters/01_first.ipynb")) == 2
    assert toc_notebooks(book).count(Path("chapters/01_first.ipynb")) == 1


def test_missing_page_or_toc_is_an_error(book):
    (book / "_toc.yml").write_text(TOC + "      - file: chapters/99_missing\n")
    with pytest.raises(ValueError, match=r"chapters/99_missing.ipynb nor chapters/99_missing.md"):
        toc_files(book)
    with pytest.raises(ValueError, match="no _toc.yml"):
        toc_files(book / "chapters")


def test_the_real_book_starts_with_its_root_page():
    files = toc_files(ROOT)
    assert files[0] == Path("intro.md")
    assert all((ROOT / f).is_file() for f in files)
