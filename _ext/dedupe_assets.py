"""Load each script once per page.

With Sphinx 7.4, extensions that call ``app.add_js_file`` while a page is being rendered
(sphinx-thebe, sphinx-togglebutton, myst-nb's widget and MathJax scripts) end up twice in the
page's ``<head>``. Twice-declared ``const`` variables and a second require.js/widget manager
then raise JavaScript errors. This handler runs after all the others and keeps the first copy
of every script (by file name, or by body for inline scripts).
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> str:
    filename = getattr(script, "filename", None)
    if filename:
        return "file:" + str(filename).split("?")[0]
    return "body:" + str(getattr(script, "attributes", {}).get("body", script))


def dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[str] = set()
    kept = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", dedupe, priority=1000)  # after every other handler
    return {"parallel_read_safe": True, "parallel_write_safe": True}
