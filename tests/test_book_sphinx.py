from docutils import nodes
from docutils.utils import new_document
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser

from course_tools.book_sphinx import _hide_markers, strip_markers

SOLUTION = """def f(x):
    # BEGIN SOLUTION
    return x + 1
    # END SOLUTION
print(f(1))  # END SOLUTIONS is not a marker
"""


def test_strip_markers_removes_only_whole_marker_lines():
    assert strip_markers(SOLUTION) == (
        "def f(x):\n    return x + 1\nprint(f(1))  # END SOLUTIONS is not a marker\n")
    assert strip_markers("x = 1\n") == "x = 1\n"


def test_markers_disappear_from_code_blocks_of_a_page():
    document = new_document("page", get_default_settings(Parser))
    document += nodes.literal_block(SOLUTION, SOLUTION)
    document += nodes.paragraph(text="# BEGIN SOLUTION in prose stays")
    _hide_markers(None, document)
    block, paragraph = document.children
    assert "BEGIN SOLUTION" not in block.astext() and "return x + 1" in block.astext()
    assert paragraph.astext() == "# BEGIN SOLUTION in prose stays"


def test_each_script_is_listed_once_per_page():
    from sphinx.builders.html._assets import _JavaScript

    from course_tools.book_sphinx import _dedupe_scripts, unique_scripts

    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [_JavaScript("_static/a.js"), _JavaScript(None, body=thebe),
               _JavaScript("_static/a.js", priority=800), _JavaScript("", body=thebe),
               _JavaScript("_static/b.js", defer="defer"), _JavaScript("_static/b.js")]
    kept = unique_scripts(scripts)
    # the inline thebe config once (None and "" both mean inline); b.js with and without defer differ
    assert [(s.filename, s.attributes) for s in kept] == [
        ("_static/a.js", {}), (None, {"body": thebe}),
        ("_static/b.js", {"defer": "defer"}), ("_static/b.js", {})]
    context = {"script_files": scripts}
    _dedupe_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == kept
