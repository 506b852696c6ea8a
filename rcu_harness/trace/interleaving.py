"""The interleaving excerpt of a report: the last steps in per-thread columns.

Each row is one recorded event, placed in the column of the thread that
made it, so the reader sees at a glance which thread ran when::

     step | reader/1                 | writer/2
    ------+--------------------------+--------------------------
      131 | ld slot[2] ... mas_walk  |
      132 |                          | st parent ... mte_set_...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.trace.events import PSEUDO_THREADS, decode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.trace.events import RawEvent

CELL = 34


def _cell(text: str) -> str:
    return (text if len(text) <= CELL else text[: CELL - 1] + "~").ljust(CELL)


def excerpt(raws: Sequence[RawEvent], names: dict[int, str], *,
            last: int = 30, fault: tuple[int, int, str] | None = None) -> str:
    """The last @last events of @raws as per-thread columns; @fault, a
    (thread id, step, text) triple, adds the violating access as a last row
    marked ``!!`` (the access itself never completed, so no event holds it)."""
    tail = [decode(r) for r in raws[-last:]]
    if not tail and fault is None:
        return "Interleaving: no events recorded"
    rows = [(e.step, e.thread, e.short()) for e in tail]
    if fault is not None:
        rows.append((fault[1], fault[0], "!! " + fault[2]))
    tids = sorted({tid for _, tid, _ in rows})
    width = max(5, len(str(rows[-1][0])))
    header = " " * (width - 4) + "step | " + " | ".join(
        _cell(names.get(t) or PSEUDO_THREADS.get(t, str(t))) for t in tids)
    rule = "-" * (width + 1) + "+" + "+".join("-" * (CELL + 2) for _ in tids)
    lines = [f"Interleaving (last {len(tail)} of {len(raws)} events):",
             header.rstrip(), rule]
    for step, tid, text in rows:
        cells = [_cell(text) if t == tid else " " * CELL for t in tids]
        lines.append(f"{step:>{width}} | " + " | ".join(cells).rstrip())
    return "\n".join(lines)
