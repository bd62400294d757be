"""The instructor build of the site: every solution shown open (default build: unchanged).

    COURSE_SHOW_SOLUTIONS=1 jupyter-book build . --path-output _build/instructor

Registered in ``_config.yml`` (``sphinx.local_extensions``). With the environment variable
``COURSE_SHOW_SOLUTIONS`` set to 1/true/yes (or ``course_show_solutions: true`` in the Sphinx
config) the ``dropdown`` class is removed from every sphinx-exercise solution (``{solution}`` and
``{solution-start}``/``{solution-end}``), so sphinx-togglebutton leaves them open, and every page
gets a banner saying that it is the instructor version. Without it this extension does nothing.
"""

from __future__ import annotations

import os
from typing import Any

from docutils import nodes

BANNER = (
    '<div class="admonition warning course-instructor-banner"><p class="admonition-title">'
    "Instructor version</p><p>All solutions are shown. Do not publish this build to students.</p></div>"
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def open_solutions(app: Any, doctree: nodes.document, docname: str) -> None:
    """Instructor build: drop the ``dropdown`` class of every solution node."""
    if not app.config.course_show_solutions:
        return
    for node in doctree.findall(nodes.Element):
        classes = node.get("classes", [])
        if "solution" in classes and "dropdown" in classes:
            classes.remove("dropdown")


def add_banner(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if app.config.course_show_solutions and doctree is not None and "body" in context:
        context["body"] = BANNER + context["body"]


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("course_show_solutions", _env_flag("COURSE_SHOW_SOLUTIONS"), "env", [bool])
    app.connect("doctree-resolved", open_solutions)
    app.connect("html-page-context", add_banner)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
