import re

import pytest

from course_utils.tables import markdown_table


def test_markdown_table_has_a_header_a_rule_and_one_line_per_row():
    table = markdown_table(["model", "error"], [("PCA", 12.5), ("autoencoder", 3)])
    assert table.splitlines() == ["| model | error |", "| --- | --- |",
                                  "| PCA | 12.5 |", "| autoencoder | 3 |"]


def test_rows_may_be_a_generator_and_empty():
    assert markdown_table(["a"], (x for x in [])) == "| a |\n| --- |"


def test_a_row_of_the_wrong_length_is_named():
    with pytest.raises(ValueError, match=r"rows\[1\]: expected 2 values"):
        markdown_table(["a", "b"], [(1, 2), (3,)])
    with pytest.raises(ValueError, match="header"):
        markdown_table([], [])


def cells(line):
    """The cells of a Markdown table line: split at the pipes that are not escaped."""
    return re.split(r"(?<!\\)\|", line)[1:-1]


@pytest.mark.parametrize("header, rows, match", [
    ("model", [("PCA",)], r"header='model': expected a sequence of values, not a string"),
    (["model", "error"], ["ab"], r"rows\[0\]='ab': expected a sequence of values, not a string"),
    (["model"], [("PCA",), "autoencoder"], r"rows\[1\]='autoencoder': expected a sequence"),
    (["a"], "ab", r"rows='ab': expected a sequence of values, not a string"),
    (["a"], 3, r"rows: expected a sequence of values, got int"),
    (["a"], [3], r"rows\[0\]: expected a sequence of values, got int"),
])
def test_a_string_where_a_sequence_belongs_is_refused_naming_it(header, rows, match):
    with pytest.raises(TypeError, match=match):
        markdown_table(header, rows)


def test_a_pipe_in_a_value_is_escaped_and_keeps_the_columns():
    table = markdown_table(["model | size", "error"], [("a|b", 1.5), ("x", "|y|")])
    lines = table.splitlines()
    assert lines[0] == r"| model \| size | error |"
    assert lines[2] == r"| a\|b | 1.5 |"
    assert all(len(cells(line)) == 2 for line in lines)


def test_a_pipe_in_a_value_renders_in_its_cell():
    markdown_it = pytest.importorskip("markdown_it")  # the parser MyST, so the book, uses
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(
        markdown_table(["model", "error"], [("a|b", 1.5)]))
    assert html.count("<th>") == 2 and html.count("<td>") == 2
    assert "<td>a|b</td>" in html
