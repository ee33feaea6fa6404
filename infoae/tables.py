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


# The console's width: every line the commands print fits it.
CONSOLE_WIDTH = 100


def wrap(text: str, width: int = CONSOLE_WIDTH) -> str:
    """Text for the console: each of its lines broken at spaces to at most width characters,
    continuation lines indented by two spaces more than the line they continue."""
    import textwrap

    out = []
    for line in text.splitlines() or [""]:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "  ",
                                 break_long_words=False, break_on_hyphens=False) or line)
    return "\n".join(out)
