"""Book-level checks: the table of contents, the committed notebooks, the repository URL."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import toc

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
LANDING_PAGES = sorted((ROOT / "chapters").glob("*.md"))  # chapters/NN_slug.md: a chapter's landing page


def toc_files():
    """Every page of _toc.yml after the root page, without its suffix ("chapters/00_how_to_use"), in book order."""
    return [p.with_suffix("").as_posix() for p in toc.toc_files(ROOT)[1:]]


def toc_chapters():
    """``(file, [section files])`` of every chapter entry of _toc.yml that has sections, in book order."""
    return list(toc.toc_sections(ROOT).items())


def test_toc_and_chapters_folder_list_the_same_pages():
    in_toc = {f for f in toc_files() if f.startswith("chapters/")}
    on_disk = {f"chapters/{p.stem}" for p in CHAPTERS + LANDING_PAGES}
    assert in_toc == on_disk, f"only in _toc.yml: {in_toc - on_disk}; only in chapters/: {on_disk - in_toc}"
    assert len(toc_files()) == len(set(toc_files())), "a file is listed twice in _toc.yml"
    stems = [p.stem for p in CHAPTERS + LANDING_PAGES]
    assert len(stems) == len(set(stems)), "a page exists both as .md and as .ipynb"


def test_a_chapter_with_sections_is_a_landing_page_that_lists_them():
    # A chapter's name is its own: sections nest under a chapters/NN_slug.md landing page, never
    # under their first section's notebook.
    landing = [(f, sections) for f, sections in toc_chapters() if sections]
    assert landing, "no chapter with sections in _toc.yml"
    for f, sections in landing:
        page = ROOT / f"{f}.md"
        assert page.is_file() and not (ROOT / f"{f}.ipynb").exists(), (
            f"{f} has sections, so it must be a landing page {f}.md (title, overview, objectives, sections)"
        )
        assert re.fullmatch(r"chapters/\d\d_[a-z0-9_]+", f), f"landing pages are named chapters/NN_slug: {f}"
        text = page.read_text(encoding="utf-8")
        titles = re.findall(r"(?m)^# (.+)$", text)
        assert len(titles) == 1, f"{page.name}: exactly one '# Title' line, found {titles}"
        assert not re.match(r"\d", titles[0]), f"{page.name}: the toc numbers chapters; no number in the title"
        for heading in ("Learning objectives", "Prerequisites"):
            assert heading in text, f"{page.name}: no {heading!r}"
        linked = re.findall(r"\{doc\}`([^`<]+?)`", text)
        wanted = [s.removeprefix("chapters/") for s in sections]
        in_order = list(dict.fromkeys(d for d in linked if d in wanted))  # first mention of each, in order
        assert in_order == wanted, f"{page.name} links its sections {in_order}, _toc.yml has {wanted}"
        for d in linked:  # every {doc} link of the landing page resolves to a page of the book
            assert f"chapters/{d}" in toc_files() or d in toc_files(), f"{page.name}: {{doc}}`{d}` is no page"
    for p in LANDING_PAGES:
        assert f"chapters/{p.stem}" in {f for f, s in landing}, f"{p.name} is a landing page without sections"


def test_toc_pages_exist():
    for f in toc_files():
        assert any((ROOT / (f + ext)).exists() for ext in (".md", ".ipynb")), f


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, "no code cells"
    counts = [c.execution_count for c in code]
    assert None not in counts, "notebook is not fully executed: run scripts/execute.py on it"
    assert counts == sorted(counts) and counts[0] == 1, "cells were not run top to bottom in one session"
    for c in code:
        # A cell may show a warning on purpose (a seed article's code run verbatim): it says so in a
        # comment "# expected warning: <words of the warning>", and the warning must then appear.
        expected = re.findall(r"# expected warning: (.+)", c.source)
        stderr = "".join(o.text for o in c.outputs if o.output_type == "stream" and o.name == "stderr")
        for words in expected:
            assert words.strip() in stderr, f"expected warning {words.strip()!r} not shown: {c.source[:80]!r}"
        for out in c.outputs:
            assert out.output_type != "error", f"error output in cell: {c.source[:80]!r}"
        assert "Traceback" not in stderr, stderr[:300]
        if not expected:
            assert "Warning" not in stderr, f"a warning (fix its cause, or declare it): {stderr[:300]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_follows_the_template(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "FAST" in params[0].source, "one papermill parameters cell defining FAST"
    setup_cells = [c for c in code if "from course_lib.setup import setup" in c.source]
    assert setup_cells and "google.colab" in setup_cells[0].source, "the setup cell with the Colab install line"
    assert nb.metadata.get("widgets"), "widget state is stored (execute with scripts/execute.py)"


def test_repository_url_is_in_sync():
    out = subprocess.run(
        [sys.executable, "scripts/sync_repo_url.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_exercise_labels_are_unique_and_checks_registered():
    from course_lib.exercises import CHECKS

    labels, names = [], []
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            labels += re.findall(r":label: (\S+)", c.source) if c.cell_type == "markdown" else []
            names += re.findall(r'check\("([^"]+)"', c.source) if c.cell_type == "code" else []
    assert len(labels) == len(set(labels)), "duplicate labels"
    assert set(names) <= set(CHECKS), f"unregistered checks: {set(names) - set(CHECKS)}"


def test_bibliography_parses_and_every_cited_key_exists():
    # A broken entry (e.g. a lost closing brace after a merge) stops the whole book build late;
    # catch it here, in a second, with the line number.
    import pybtex.database

    bib = pybtex.database.parse_file(str(ROOT / "references.bib"))
    cited = set()
    for path in CHAPTERS + LANDING_PAGES:
        text = path.read_text(encoding="utf-8")
        cited |= {k.strip() for group in re.findall(r"\{cite[a-z:]*\}`([^`]+)`", text) for k in group.split(",")}
    assert len(cited) > 20, "the {cite} pattern no longer matches the chapters: fix this test"
    missing = sorted(cited - set(bib.entries))
    assert not missing, f"cited but not in references.bib: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notebooks_import_no_private_name_of_course_lib(path):
    # Private names change without notice (04b and 07c once imported setup._stderr_to_devnull).
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    private = re.findall(r"from course_lib[\w.]* import [^\n]*?\b(_[a-z]\w*)", code)
    private += re.findall(r"\bcourse_lib(?:\.\w+)+\.(_[a-z]\w*)", code)
    assert not private, f"{path.name} uses private course_lib names {private}: make them public or use the public API"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_run_time_in_the_header_is_measured_not_typed(path):
    # "Run time: under 60 s" typed in a header goes stale; a glued measurement or the build's
    # execution table (exec_stats) does not.
    header = nbformat.read(path, as_version=4).cells[0].source
    if "**Run time:**" in header:
        after = header.split("**Run time:**", 1)[1][:160]
        assert "{glue:text}" in after or "{doc}`/exec_stats`" in after, f"typed run time: {after[:80]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_section_title_has_no_typed_number(path):
    # The toc numbers every page ("9.2."); a typed "9.2" in the title showed as "9.2. 9.2 ...".
    title = re.search(r"(?m)^# (.+)$", nbformat.read(path, as_version=4).cells[0].source)
    assert title and not re.match(r"\d", title.group(1)), f"title {title.group(1) if title else None!r}"
