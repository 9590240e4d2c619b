"""Sphinx extension for the book's pages. Enabled in _config.yml (``sphinx: extra_extensions``).

- Hides otter-grader's solution markers in rendered code: chapters mark their solutions with
  ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines so that ``course_tools.homework`` can make
  stubs of them; readers of the book need not see the markers.
- Builds the site for a semester when ``COURSE_SOLUTIONS=hidden`` (``make book
  SOLUTIONS=hidden``): every solution block is shown as the student copy shows it (``...``),
  its cell unfolded and without outputs, and the Exercises' note says so; each chapter's download (``_sources``) is its student copy, made
  by ``course_tools.homework``; and its Colab button opens ``student/<chapter>.ipynb`` in the
  repository, where ``make book SOLUTIONS=hidden`` writes the student copies for the
  instructor to publish. The default (``folded``) keeps the solutions, folded, for readers
  who learn alone.
- Lists each script once per page: sphinx-thebe 0.3.1 under Sphinx 7 adds its inline
  ``const THEBE_JS_URL = ...`` twice, and the second copy is a SyntaxError in every page's
  console (the browser test, tests/test_site.py, checks consoles are clean).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from docutils import nodes

MARKER_LINE = re.compile(r"^[ \t]*# (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
SOLUTION_BLOCK = re.compile(r"^([ \t]*)# BEGIN SOLUTION[ \t]*\n.*?^[ \t]*# END SOLUTION[ \t]*(?:\n|\Z)",
                            re.M | re.S)
SOLUTIONS_ENV = "COURSE_SOLUTIONS"
SOLUTIONS_MODES = ("folded", "hidden")
STUDENT_DIR = "student"  # where the semester's Colab buttons find the student copies
FOLDED_SOLUTIONS_NOTE = "Each exercise has a folded solution below it"  # each chapter's Exercises
SEMESTER_NOTE = ("Each exercise has a cell below it for your answer. Open this chapter's homework "
                 "copy (the Colab button, or the download button's .ipynb) to write your answers: "
                 "a check after each exercise tells you what is still wrong.")


def strip_markers(text: str) -> str:
    return MARKER_LINE.sub("", text)


def stub_solutions(text: str) -> str:
    """``text`` with each marked solution block replaced by ``...``, as the student copy has it."""
    return SOLUTION_BLOCK.sub(lambda match: f"{match.group(1)}...\n", text)


def solutions_mode() -> str:
    """$COURSE_SOLUTIONS: "folded" (the default) or "hidden" (a semester's build)."""
    mode = os.environ.get(SOLUTIONS_ENV, "").strip() or "folded"
    if mode not in SOLUTIONS_MODES:
        raise ValueError(f"${SOLUTIONS_ENV}={mode!r}: expected one of {', '.join(SOLUTIONS_MODES)}")
    return mode


def _hide_solutions(app, doctree: nodes.document) -> None:
    """Semester build: solution code as stubs, and no outputs of the cells that held it."""
    if solutions_mode() != "hidden":
        return
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        sources = [child for child in cell.children if child.get("nb_element") == "cell_code_source"]
        blocks = [block for source in sources for block in source.findall(nodes.literal_block)]
        if not any(MARKER_LINE.search(block.astext()) for block in blocks):
            continue
        for block in blocks:
            stubbed = stub_solutions(block.astext())
            block.rawsource = stubbed
            block.children = [nodes.Text(stubbed)]
        for child in list(cell.children):
            if child.get("nb_element") == "cell_code_output":
                cell.remove(child)
        cell.attributes.pop("hide_mode", None)  # the stub is the exercise: shown, not folded
    for paragraph in list(doctree.findall(nodes.paragraph)):
        if paragraph.astext().startswith(FOLDED_SOLUTIONS_NOTE):
            paragraph.children = [nodes.Text(SEMESTER_NOTE)]


def _colab_opens_student_copy(app, pagename, templatename, context, doctree) -> None:
    if solutions_mode() != "hidden" or not _has_homework(app, pagename):
        return
    book_path = f"/{pagename}.ipynb"
    student_path = f"/{STUDENT_DIR}/{Path(pagename).name}.ipynb"

    def rewrite(buttons):
        for button in buttons:
            if isinstance(button, dict):
                url = button.get("url", "")
                if "colab.research.google.com" in url and url.endswith(book_path):
                    button["url"] = url[: -len(book_path)] + student_path
                rewrite(button.get("buttons", []))

    rewrite(context.get("header_buttons", []))


def _has_homework(app, pagename: str) -> bool:
    from course_tools.homework import has_homework

    source = Path(app.srcdir) / f"{pagename}.ipynb"
    return source.exists() and has_homework(source)


def _student_copies_as_downloads(app, exception) -> None:
    """Semester build: each chapter's download is its student copy."""
    if exception is not None or solutions_mode() != "hidden" or app.builder.format != "html":
        return
    import tempfile

    from course_tools.homework import build_homework

    for docname in app.env.found_docs:
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        if not target.exists() or not _has_homework(app, docname):
            continue
        with tempfile.TemporaryDirectory() as scratch:
            built = build_homework(Path(app.srcdir) / f"{docname}.ipynb", Path(scratch))
            shutil.copyfile(built.student_notebook, target)


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
    solutions_mode()  # a bad $COURSE_SOLUTIONS stops the build at once, naming it
    app.connect("doctree-read", _hide_solutions, priority=100)  # before images are collected
    app.connect("doctree-read", _hide_markers)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the extensions add theirs
    app.connect("html-page-context", _colab_opens_student_copy, priority=900)  # after the theme's
    app.connect("build-finished", _student_copies_as_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
