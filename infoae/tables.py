"""Markdown tables: the one format every printed table of the package (compare, the sweeps,
the ceiling, the transfer comparison) is written in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a markdown table: the head, its rule, then a line per row of cells.
    A row with a different number of cells than the head is an error, not a skewed table."""
    head = [str(cell) for cell in head]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) != len(head):
            raise ValueError(f"a table row has {len(cells)} cells for {len(head)} columns: "
                             f"{cells}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines
