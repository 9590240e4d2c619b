"""Sphinx extension for the book: hide otter-grader's solution markers in rendered code.

Chapters mark their solutions with ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines so that
``course_utils.homework`` can make stubs of them; readers of the book need not see the markers.
Enabled in _config.yml (``sphinx: extra_extensions``).
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


def setup(app):
    app.connect("doctree-read", _hide_markers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
