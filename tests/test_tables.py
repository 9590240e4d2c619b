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
