"""The built site, opened in a real browser: every page of _toc.yml, offline, in headless Chromium.

Run after the build (CI does; see the README):

    bash scripts/build.sh                      # builds _build/html
    REQUIRE_BROWSER_TEST=1 python -m pytest tests/browser -rs

It serves ``_build/html`` (or ``$COURSE_SITE``) on 127.0.0.1 and drives Debian's
``/usr/bin/chromium`` (``apt-get install -y chromium``; ``$CHROMIUM`` overrides the path) with
Playwright's Python API. No request may leave 127.0.0.1. For each page it asserts:

- math: every Sphinx math element holds a MathJax ``mjx-container``, no MathJax error node, and no
  raw ``$$``, ``\\(``, ``\\[`` or ``$...\\command...$`` left in the text (code blocks excepted);
- images: every ``<img>`` loaded (``naturalWidth > 0``);
- widgets: every embedded widget view (``script[type="application/vnd.jupyter.widget-view+json"]``)
  was rendered by the widget manager into a non-empty area, with no "Error displaying widget";
- solutions: every sphinx-exercise solution is collapsed (its content hidden) until its toggle is
  clicked, and opens when it is (in an instructor build, see ``_ext/course_instructor.py``,
  every solution is open instead);
- the Colab launch link of a notebook page points at that notebook in the repository of
  ``_config.yml`` (``repository.url``, ``branch``, ``path_to_book``);
- no JavaScript error: no console error, no uncaught exception, no failed request, no HTTP
  error status (only :data:`ALLOWED_CONSOLE_ERRORS` may pass, each with its reason);
- every internal link (``href`` to a page or file of the site, with or without ``#anchor``)
  resolves to an existing file, and the anchor exists in it;
- a chapter page with an executed notebook shows at least one figure; a chapter *landing page*
  (``chapters/NN_slug.md`` with sections in _toc.yml) needs none, but it must render a title and
  link, from its own text, to each of its sections.

A full-page screenshot of each page goes to ``_build/screenshots/<page>.png`` (beside the site
folder), and a summary line (pages, images, widgets, solutions, links, seconds) is printed.
Without a built site the whole module is skipped with the reason shown (``-rs``); with
``REQUIRE_BROWSER_TEST=1`` (CI) a missing site or browser is an error instead.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from course_tools.toc import toc_files, toc_sections

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("COURSE_SITE", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REQUIRED = os.environ.get("REQUIRE_BROWSER_TEST", "") not in ("", "0")
RENDER_TIMEOUT_MS = 30_000

ALLOWED_CONSOLE_ERRORS: list[tuple[str, str]] = [
    # (regular expression matched against the message, why it is harmless). Empty on purpose:
    # add an entry only with the reason, never to silence an error that breaks the page.
]


def _unavailable(reason: str) -> None:
    if REQUIRED:
        raise RuntimeError(f"REQUIRE_BROWSER_TEST is set but {reason}")
    pytest.skip(reason, allow_module_level=True)


if not (SITE / "index.html").is_file():
    _unavailable(f"no built site in {SITE}: run `bash scripts/build.sh` first (browser test is opt-in)")
if not Path(CHROMIUM).is_file():
    _unavailable(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (or set $CHROMIUM)")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements.txt pins playwright
    _unavailable("the Python package playwright is not installed (pip install -r requirements.txt)")


# ----------------------------------------------------------------------------------------------
# What to expect: the pages of _toc.yml and their Colab links, from _config.yml
# ----------------------------------------------------------------------------------------------


def toc_pages() -> list[tuple[str, str]]:
    """``(docname, source suffix)`` of every page in _toc.yml, in book order."""
    return [(p.with_suffix("").as_posix(), p.suffix) for p in dict.fromkeys(toc_files(ROOT))]


def expected_colab_url(docname: str, suffix: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    owner_repo = re.sub(r"^https?://github\.com/", "", repo["url"].rstrip("/"))
    prefix = (repo.get("path_to_book") or "").strip("/")
    path = f"{prefix}/{docname}{suffix}" if prefix else f"{docname}{suffix}"
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{owner_repo}/blob/{repo.get('branch', 'main')}/{path}"


PAGES = toc_pages()
SECTIONS = toc_sections(ROOT)


# ----------------------------------------------------------------------------------------------
# Fixtures: one server, one browser, one summary for the module
# ----------------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def fresh_screenshots(summary):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):  # no stale screenshot of a page that is gone
        old.unlink()
    summary["screenshots"] = str(SCREENSHOTS)


# ----------------------------------------------------------------------------------------------
# Links: files and anchors of the built site
# ----------------------------------------------------------------------------------------------


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value or "")


@functools.cache
def anchors_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_links(hrefs: list[str], origin: str) -> tuple[int, list[str]]:
    """Check the internal links among ``hrefs`` (absolute URLs); return (count, problems)."""
    problems, checked = [], 0
    for href in dict.fromkeys(hrefs):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue  # external: not fetched (the test runs offline)
        checked += 1
        path = unquote(parts.path)
        target = SITE / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{href}: no file {target.relative_to(SITE) if SITE in target.parents else target}")
            continue
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in anchors_of(target):
            problems.append(f"{href}: no element with id {fragment!r} in {target.relative_to(SITE)}")
    return checked, problems


# ----------------------------------------------------------------------------------------------
# The page checks, in the browser
# ----------------------------------------------------------------------------------------------

WAIT_FOR_RENDERING = """
async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // The widget manager renders each view into a div.widget-subarea inserted next to its <script>.
  const areaOf = (s) => [s.previousElementSibling, s.nextElementSibling]
                          .find((n) => n && n.classList.contains('widget-subarea'));
  // MathJax 3 finishes its first typeset when startup.promise resolves.
  while (document.querySelector('.math') && !(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await Promise.race([MathJax.startup.promise, sleep(Math.max(0, deadline - Date.now()))]);
  }
  // Every image, lazy or not, loaded or failed.
  for (const img of document.images) { img.loading = 'eager'; }
  await Promise.all(Array.from(document.images).map((img) => img.complete ? null :
    new Promise((r) => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  // Every widget view replaced by a rendered widget (the manager renders them after 'load').
  const views = () => Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const rendered = (s) => { const n = areaOf(s); return n && n.querySelector('.jupyter-widgets, .lm-Widget'); };
  while (views().some((s) => !rendered(s)) && Date.now() < deadline) { await sleep(100); }
  await sleep(300);  // a last layout pass
  return true;
}
"""

INSPECT = r"""
() => {
  const areaOf = (s) => [s.previousElementSibling, s.nextElementSibling]
                          .find((n) => n && n.classList.contains('widget-subarea'));
  const visible = (el) => el.checkVisibility({opacityProperty: true, visibilityProperty: true})
                           && el.getBoundingClientRect().height > 0;
  // Math
  const maths = Array.from(document.querySelectorAll('.math'));
  const unrendered = maths.filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent.slice(0, 80));
  const mathErrors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                          .map((e) => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80));
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .highlight, textarea')
       .forEach((e) => e.remove());
  const text = clone.textContent;
  const raw = [];
  for (const re of [/\$\$/g, /\\\(/g, /\\\[/g, /\$[^$\n]{0,200}\\[a-zA-Z]+[^$\n]{0,200}\$/g]) {
    const m = text.match(re); if (m) raw.push(...m.slice(0, 3).map((s) => s.slice(0, 80)));
  }
  // Images
  const images = Array.from(document.images).map((img) => ({src: (img.currentSrc || img.src).slice(0, 120),
                                                          ok: img.complete && img.naturalWidth > 0}));
  // Widgets
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const widgets = views.map((s) => {
    const area = areaOf(s);
    const widget = area && area.querySelector('.jupyter-widgets, .lm-Widget');
    const box = area ? area.getBoundingClientRect() : {height: 0, width: 0};
    return {model: JSON.parse(s.textContent).model_id, rendered: !!widget, height: box.height, width: box.width,
            children: widget ? widget.querySelectorAll('*').length : 0,
            error: area ? /Error displaying widget|Could not create/.test(area.textContent) : false};
  });
  // Solutions (sphinx-exercise): the content is everything after the title
  const solutions = Array.from(document.querySelectorAll('.solution')).map((s) => {
    const content = Array.from(s.children).filter((c) => !c.classList.contains('admonition-title')
                                                         && !c.classList.contains('toggle-button'));
    return {id: s.id, dropdown: s.classList.contains('dropdown'), shown: content.some(visible),
            hasContent: content.length > 0};
  });
  // Links and launch buttons
  const links = Array.from(document.querySelectorAll('a[href]')).map((a) => a.href)
                     .filter((h) => h.startsWith('http'));
  const colab = Array.from(document.querySelectorAll('a[href*="colab.research.google.com"]')).map((a) => a.href);
  // The page's own text (not the sidebars): its title and the links it makes
  const article = document.querySelector('article.bd-article, main article, [role="main"]') || document.body;
  const titles = Array.from(article.querySelectorAll('h1')).map((h) => h.textContent.replace('#', '').trim());
  const articleLinks = Array.from(article.querySelectorAll('a[href]')).map((a) => a.href);
  const instructor = !!document.querySelector('.course-instructor-banner');
  return {maths: maths.length, unrendered, mathErrors, raw, images, widgets, solutions, links, colab, instructor,
          titles, articleLinks,
          widgetState: !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]')};
}
"""


def page_id(page: tuple[str, str]) -> str:
    return page[0]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_in_browser(page, server, browser, summary):
    docname, suffix = page
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    problems: list[str] = []
    warnings: list[str] = []
    external: list[str] = []

    def route(r):  # the site must work offline: nothing may be fetched from elsewhere
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    console_errors: list[str] = []

    def on_console(message):
        if message.type == "error":
            console_errors.append(f"console error: {message.text} ({message.location.get('url', '')})")
        elif message.type == "warning":
            warnings.append(message.text)

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: console_errors.append(f"uncaught exception: {error}"))
    tab.on("requestfailed", lambda request: console_errors.append(f"request failed: {request.url} ({request.failure})"))
    tab.on(
        "response",
        lambda response: response.status >= 400 and console_errors.append(f"HTTP {response.status}: {response.url}"),
    )
    try:
        tab.goto(f"{server}/{docname}.html", wait_until="load")
        tab.evaluate(WAIT_FOR_RENDERING, RENDER_TIMEOUT_MS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{Path(docname).name}.png"), full_page=True)
        seen = tab.evaluate(INSPECT)

        # Math
        if seen["unrendered"]:
            problems.append(
                f"{len(seen['unrendered'])} math elements not rendered by MathJax, e.g. {seen['unrendered'][:2]}"
            )
        if seen["mathErrors"]:
            problems.append(f"MathJax errors: {seen['mathErrors'][:3]}")
        if seen["raw"]:
            problems.append(f"raw TeX in the text: {seen['raw'][:3]}")
        # Images
        broken = [i["src"] for i in seen["images"] if not i["ok"]]
        if broken:
            problems.append(f"{len(broken)} images did not load: {broken[:3]}")
        figures = [i for i in seen["images"] if "/_images/" in i["src"]]
        if suffix == ".ipynb" and not figures:
            # every chapter plots something (learning curves at least); none means the build lost
            # the notebooks' figures (e.g. a non-inline Matplotlib backend in the kernel)
            problems.append("no figure from the executed notebook on this chapter page")
        if suffix == ".md" and docname in SECTIONS:
            # a chapter landing page: no figure needed, but a title and a link to every section
            if not any(seen["titles"]):
                problems.append("landing page without a rendered title (h1)")
            linked = {
                unquote(urlsplit(h).path).lstrip("/").removesuffix(".html")
                for h in seen["articleLinks"]
                if h.startswith(server)
            }
            missing = [s for s in SECTIONS[docname] if s not in linked]
            if missing:
                problems.append(f"landing page does not link to its sections {missing} (found {sorted(linked)})")
        # Widgets
        for w in seen["widgets"]:
            if not w["rendered"] or w["height"] <= 0 or w["children"] == 0 or w["error"]:
                problems.append(f"widget {w['model']} not rendered or empty: {w}")
        if seen["widgets"] and not seen["widgetState"]:
            problems.append("widget views but no embedded widget state")
        # Solutions: collapsed by default (open in an instructor build), and they open on click
        for s in seen["solutions"]:
            if not s["hasContent"]:
                problems.append(f"solution {s['id']} is empty")
            elif seen["instructor"] and not s["shown"]:
                problems.append(f"instructor build, but solution {s['id']} is hidden")
            elif not seen["instructor"] and (s["shown"] or not s["dropdown"]):
                problems.append(f"solution {s['id']} is visible before it is clicked")
        if not seen["instructor"]:
            for index, s in enumerate(seen["solutions"]):
                # The toggle button: a click on the title's link to the exercise would navigate instead
                # (and sphinx-togglebutton 0.4.5 throws "button is not defined" on it).
                tab.locator(".solution").nth(index).locator(".toggle-button").click()
                shown = (
                    tab.locator(".solution")
                    .nth(index)
                    .evaluate(
                        "(s) => new Promise((r) => setTimeout(() => r(Array.from(s.children).some((c) => "
                        "!c.classList.contains('admonition-title') && !c.classList.contains('toggle-button') && "
                        "c.checkVisibility({visibilityProperty: true}) && c.getBoundingClientRect().height > 0)), 600))"
                    )
                )
                if not shown:
                    problems.append(f"solution {s['id']} does not open when its title is clicked")
        # Colab
        if suffix == ".ipynb":
            want = expected_colab_url(docname, suffix)
            if want not in seen["colab"]:
                problems.append(f"no Colab link to {want}; found {seen['colab']}")
        wrong = [c for c in seen["colab"] if c != expected_colab_url(docname, suffix)]
        if wrong:
            problems.append(f"Colab links to another notebook: {wrong}")
        # Links
        checked, link_problems = broken_links(seen["links"], server)
        problems.extend(link_problems)
    finally:
        context.close()

    allowed = [e for e in console_errors if any(re.search(p, e) for p, _ in ALLOWED_CONSOLE_ERRORS)]
    problems.extend(e for e in console_errors if e not in allowed)
    if external:
        problems.append(f"requests outside the site (blocked; the site must work offline): {external[:5]}")

    summary["pages"] += 1
    summary["images"] += len(seen["images"])
    summary["widgets"] += len(seen["widgets"])
    summary["solutions"] += len(seen["solutions"])
    summary["links"] += checked
    summary["math"] += seen["maths"]
    summary["warnings"] += len(warnings)
    assert not problems, f"{docname}.html:\n  " + "\n  ".join(problems)
