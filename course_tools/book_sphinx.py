"""Sphinx extension for the book's pages. Enabled in _config.yml (``sphinx: extra_extensions``).

- Hides otter-grader's solution markers in rendered code: chapters mark their solutions with
  ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines so that ``course_tools.homework`` can make
  stubs of them; readers of the book need not see the markers.
- Lists each script once per page: sphinx-thebe 0.3.1 under Sphinx 7 adds its inline
  ``const THEBE_JS_URL = ...`` twice, and the second copy is a SyntaxError in every page's
  console (the browser test, tests/test_site.py, checks consoles are clean).
"""

from __future__ import annotations

import re

from docutils import nodes

MARKER_LINE = re.compile(r"^[ \t]*# (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def strip_markers(text: str) -> str:
    return MARKER_LINE.sub("", text)


def _hide_markers(app, doctree: nodes.document) -> None:
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if MARKER_LINE.search(text):
            cleaned = strip_markers(text)
            block.rawsource = cleaned
            block.children = [nodes.Text(cleaned)]


def unique_scripts(scripts: list) -> list:
    """``scripts`` without repeats, in first-seen order (same file and attributes, or same body)."""
    seen, kept = set(), []
    for script in scripts:
        key = (str(getattr(script, "filename", script) or ""),  # inline: None or ""
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(context["script_files"])


def setup(app):
    app.connect("doctree-read", _hide_markers)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the extensions add theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
