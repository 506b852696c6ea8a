"""The terminal summary: rich tables on a terminal, plain text otherwise.

:func:`render_plain` lays the :class:`~rcu_harness.report.tables.Table`
objects out as aligned ASCII columns (what ``report.txt`` holds and what a
pipe or a file receives); :func:`print_tables` uses rich when the stream is
a terminal.  Both print each table's note under it, wrapped, so the
Reader Pipe and Reader Batch rules always sit next to their histograms.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, TextIO

from rcu_harness.report.tables import num_like

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.report.tables import Table

WIDTH = 100


def _note_lines(note: str, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for para in note.splitlines():
        lines += textwrap.wrap(para, WIDTH, initial_indent=indent,
                               subsequent_indent=indent + "  ",
                               break_long_words=False,
                               break_on_hyphens=False) or [""]
    return lines


def render_table(t: Table) -> str:
    """@t as plain aligned text."""
    cells = [t.columns, *t.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(t.columns))]
    right = [i > 0 and all(num_like(r[i]) for r in t.rows)
             for i in range(len(t.columns))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if right[i] else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  " + "  ".join(parts).rstrip()

    out = [t.title, "=" * len(t.title), line(t.columns),
           "  " + "  ".join("-" * w for w in widths)]
    out += [line(row) for row in t.rows]
    if t.note:
        out += ["", *_note_lines(t.note)]
    return "\n".join(out)


def render_plain(tables: Sequence[Table], heading: str = "") -> str:
    """Every table as plain text, separated by blank lines."""
    parts = [heading] if heading else []
    parts += [render_table(t) for t in tables]
    return "\n\n".join(parts) + "\n"


def print_tables(tables: Sequence[Table], stream: TextIO, *,
                 heading: str = "", terminal: bool | None = None) -> None:
    """Print @tables to @stream: rich on a terminal, plain text otherwise."""
    if terminal is None:
        terminal = stream.isatty()
    if not terminal:
        stream.write(render_plain(tables, heading))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    console = Console(file=stream, highlight=False)
    if heading:
        console.print(Text(heading, style="bold"))
    for t in tables:
        rt = RichTable(title=t.title, box=box.SIMPLE_HEAVY, title_justify="left",
                       title_style="bold")
        for i, col in enumerate(t.columns):
            numeric = i > 0 and all(num_like(r[i]) for r in t.rows)
            rt.add_column(col, justify="right" if numeric else "left")
        for row in t.rows:
            rt.add_row(*(Text(c) for c in row))
        console.print(rt)
        if t.note:
            console.print(Text("\n".join(_note_lines(t.note)), style="dim"))
        console.print()
