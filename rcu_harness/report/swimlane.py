"""Swimlanes: a finding's interleaving as one column per thread.

Built from the events a finding's trace file stores (format 2; see
:mod:`rcu_harness.trace.tracefile`), never by rerunning anything.  Each
event is a row in its thread's column, in step order, so the reader sees
which thread ran when.  Rows about the finding's object are highlighted:

* ``alloc``: its allocation;
* ``retire``: its death mark (a store of the node's own address into its
  ``parent`` word, ``mte_set_node_dead()``) or its ``call_rcu()``;
* ``free``: the RCU callback that frees it and the free itself;
* ``access``: any other load or store of one of its words;
* ``fault``: the faulting access, added from the finding (the access that
  faults is reported before it could be recorded as an event).

The object's life cycle (allocation, death, call_rcu, free with thread and
step) is listed above the lanes, since an object allocated during setup has
no allocation event.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.trace.events import PSEUDO_THREADS

if TYPE_CHECKING:
    from rcu_harness.report.model import FindingView
    from rcu_harness.trace.tracefile import TraceEvent

_SHORT = {"load": "ld", "store": "st", "rcu_lock": "rcu_read_lock",
          "rcu_unlock": "rcu_read_unlock", "rcu_callback": "rcu_cb",
          "sync_rcu": "synchronize_rcu"}
_ADDR_MASK = ~0xFF
CONTEXT = 40
"""Events shown before the fault in the focused lanes."""
LIFE = frozenset({"alloc", "retire", "free"})


@dataclass(frozen=True, slots=True)
class Row:
    """One event in one lane."""

    step: int
    lane: int
    text: str
    cls: str
    """``""`` or one of alloc, retire, free, access, fault."""


@dataclass(frozen=True, slots=True)
class Swimlane:
    """The lanes (thread labels) and rows of one finding."""

    lanes: tuple[str, ...]
    rows: tuple[Row, ...]


_PSEUDO = {str(tid): name for tid, name in PSEUDO_THREADS.items()}
"""Traces written before setup and teardown had names call them -1 and -2."""
_ORDER = {name: tid for tid, name in PSEUDO_THREADS.items()}


def _tid(label: str) -> tuple[int, str]:
    if label in _ORDER:
        return (_ORDER[label], label)
    name, _, tid = label.rpartition("/")
    return (int(tid), name) if tid.lstrip("-").isdigit() else (1 << 30, label)


def _int(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def describe(e: TraceEvent) -> str:
    """A compact one-cell description of @e."""
    parts = [_SHORT.get(e.kind, e.kind)]
    if e.word is not None:
        parts.append(f"{e.word}[{e.index}]" if e.index >= 0 else e.word)
    if e.kind in ("load", "store", "atomic") or (e.kind in ("alloc", "free")):
        parts.append(e.value if e.kind in ("load", "store", "atomic") else e.addr)
    if e.function:
        parts.append(e.function)
    return " ".join(parts)


def classify(e: TraceEvent, addr: int | None) -> str:
    """The highlight class of @e for the object at @addr."""
    if addr is None or _int(e.addr) != addr:
        return ""
    if e.kind == "alloc":
        return "alloc"
    if e.kind == "call_rcu":
        return "retire"
    if e.kind == "store" and e.word == "parent":
        value = _int(e.value)
        if value is not None and value & _ADDR_MASK == addr:
            return "retire"
    if e.kind in ("free", "rcu_callback"):
        return "free"
    if e.kind in ("load", "store"):
        return "access"
    return ""


def build(f: FindingView) -> Swimlane:
    """The swimlane of @f (empty when its trace has no events)."""
    labels = {_PSEUDO.get(e.thread, e.thread) for e in f.events}
    if f.thread:
        labels.add(f.thread)
    lanes = tuple(sorted(labels, key=_tid))
    col = {label: i for i, label in enumerate(lanes)}
    addr = _int(f.addr) if f.addr else None
    rows = [Row(e.step, col[_PSEUDO.get(e.thread, e.thread)], describe(e),
                classify(e, addr)) for e in f.events]
    if f.thread:
        rows.append(Row(f.step, col[f.thread], f"FAULT: {f.message}", "fault"))
    return Swimlane(lanes, tuple(rows))


def lifecycle_html(f: FindingView) -> str:
    """The object's life cycle as a list."""
    items = [f"<li class='{_mark_class(m.what)}'>{html.escape(m.what)} by "
             f"{html.escape(m.thread)} at step {m.step}</li>" for m in f.lifecycle]
    if f.thread:
        items.append(f"<li class='fault'>faulting access by {html.escape(f.thread)}"
                     f" at step {f.step}</li>")
    if not items:
        return ""
    what = f"object {html.escape(f.addr)}" if f.addr else "finding"
    return f"<p>Life of the {what}:</p><ul class='life'>{''.join(items)}</ul>"


def _mark_class(what: str) -> str:
    return {"alloc": "alloc", "death": "retire", "call_rcu": "retire",
            "free": "free"}.get(what, "")


def focus(rows: tuple[Row, ...], context: int = CONTEXT) -> list[Row | int]:
    """The rows worth reading first: the object's life-cycle rows (alloc,
    retire, free) and the last @context rows, which end with the fault; each
    run of skipped rows becomes its length (an int)."""
    keep = [r.cls in LIFE or i >= len(rows) - context for i, r in enumerate(rows)]
    out: list[Row | int] = []
    for row, kept in zip(rows, keep, strict=True):
        if kept:
            out.append(row)
        elif out and isinstance(out[-1], int):
            out[-1] += 1
        else:
            out.append(1)
    return out


def _table(lane: Swimlane, rows: list[Row | int], scroll: bool) -> str:
    cells = "".join(f"<th>{html.escape(x)}</th>" for x in lane.lanes)
    body = []
    for row in rows:
        if isinstance(row, int):
            body.append(f"<tr class='gap'><td colspan='{len(lane.lanes) + 1}'>"
                        f"... {row} more events ...</td></tr>")
            continue
        tds = ["<td></td>"] * len(lane.lanes)
        cls = f" class='{row.cls}'" if row.cls else ""
        text = html.escape(row.text)
        tds[row.lane] = f"<td{cls} title='{text}'>{text}</td>"
        body.append(f"<tr><td class='step'>{row.step}</td>{''.join(tds)}</tr>")
    box = "lanes scroll" if scroll else "lanes"
    return (f"<div class='{box}'><table class='swimlane'><thead><tr>"
            f"<th>step</th>{cells}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table></div>")


def swimlane_html(f: FindingView) -> str:
    """@f's life cycle and lanes as HTML (a note when there are no events).

    The lanes show the object's life-cycle rows and the last
    :data:`CONTEXT` events up to the fault; the whole recorded interleaving
    follows in a collapsed ``<details>`` element.
    """
    lane = build(f)
    head = lifecycle_html(f)
    if not f.events:
        why = f.problem or "the trace holds no events"
        return f"{head}<p class='note'>No swimlane: {html.escape(why)}.</p>"
    rows = list(lane.rows)
    return (f"{head}{_table(lane, focus(lane.rows), False)}<details><summary>All "
            f"{len(rows)} recorded events</summary>{_table(lane, list(rows), True)}"
            "</details>")
