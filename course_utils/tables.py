"""Tables of measured values in a chapter: built in code, shown as Markdown, never typed by hand."""

from __future__ import annotations

from typing import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table: one header row, then one row per item of ``rows`` (values via str)."""
    header = list(header)
    if not header:
        raise ValueError("header: expected at least one column name")
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + " --- |" * len(header)]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"rows[{i}]: expected {len(header)} values like the header, got {len(row)}")
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def show_table(header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Display ``markdown_table(header, rows)`` in the notebook (and on the book's page)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(header, rows)))
