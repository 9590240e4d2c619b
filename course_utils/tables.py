"""Tables of measured values in a chapter: built in code, shown as Markdown, never typed by hand."""

from __future__ import annotations

from typing import Iterable, Sequence

from course_utils.checks import sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table: one header row, then one row per item of ``rows`` (values via str, with
    ``|`` escaped as ``\\|`` so that it stays in its cell)."""
    header = sequence("header", header)
    if not header:
        raise ValueError("header: expected at least one column name")
    lines = [_line(header), "|" + " --- |" * len(header)]
    for i, row in enumerate(sequence("rows", rows)):
        row = sequence(f"rows[{i}]", row)
        if len(row) != len(header):
            raise ValueError(f"rows[{i}]: expected {len(header)} values like the header, got {len(row)}")
        lines.append(_line(row))
    return "\n".join(lines)


def _line(values: list) -> str:
    return "| " + " | ".join(str(v).replace("|", r"\|") for v in values) + " |"


def show_table(header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Display ``markdown_table(header, rows)`` in the notebook (and on the book's page)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(header, rows)))
