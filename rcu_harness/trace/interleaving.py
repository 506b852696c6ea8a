"""The interleaving excerpt of a report: the last steps in per-thread columns.

The excerpt always holds the events that explain a memory error, however
long ago they happened: the object's allocation, death and free and the
faulting thread's load of the pointer to it (the runner passes their
indexes); the events between them and the last steps are elided, one
``…`` row per gap.

Each row is one recorded event, placed in the column of the thread that
made it, so the reader sees at a glance which thread ran when::

     step | reader/1                 | writer/2
    ------+--------------------------+--------------------------
      131 | ld slot[2] ... mas_walk  |
      132 |                          | st parent ... mte_set_...

Under a weak memory model a load that read an older store than the newest
gets the whole story at the end of its row (it does not fit in a cell)::

      215 | ld pivot[3] 0x41ffff ma_data_end | << ld pivot[3] = 0x41ffff
          (stale: store at step 212 not yet visible)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.trace.events import PSEUDO_THREADS, EventKind, ReadsFrom, decode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from rcu_harness.trace.events import RawEvent

CELL = 34
_LOAD = EventKind.LOAD.value

_MARK_KINDS = {"alloc": (EventKind.ALLOC.value,), "free": (EventKind.FREE.value,),
               "call_rcu": (EventKind.CALL_RCU.value,),
               "death": (EventKind.STORE.value,)}
_KERNEL = 0xFFFF_0000_0000_0000
"""Heap addresses start here: an integer above is a (maybe encoded) pointer."""


def _points_to(value: object, addr: int) -> bool:
    """Is @value a pointer to the object at @addr (the object itself, a
    maple encoded node ``(node, type)``, or an address with low tag bits)?
    Under a weak memory model a load's value is a :class:`ReadsFrom`."""
    if type(value) is ReadsFrom:
        value = value.value
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= _KERNEL and value & ~0xFF == addr
    if isinstance(value, tuple):
        return bool(value) and getattr(value[0], "addr", None) == addr
    return getattr(value, "addr", None) == addr


@dataclass(frozen=True, slots=True)
class KeyEvents:
    """What must show in a memory error's excerpt."""

    indexes: tuple[int, ...]
    """Events in the recorded stream, by index."""
    unrecorded: tuple[str, ...]
    """Marks that happened where nothing is recorded (an allocation in the
    program's setup), as row texts."""


def key_events(raws: Sequence[RawEvent], addr: int,
               lifecycle: Iterable[tuple[str, str, int]],
               fault: tuple[int, int, str] | None) -> KeyEvents:
    """The events that explain a memory error on the object at @addr: each
    mark of its @lifecycle (allocation, death, call_rcu, free: the last
    event of that kind on the object at or before the mark's step; a death
    is the store of its parent word) and the faulting thread's last load of
    a pointer to it before the @fault."""
    if not addr:
        return KeyEvents((), ())
    found: list[int] = []
    unrecorded: list[str] = []
    for what, thread, step in lifecycle:
        kinds = _MARK_KINDS.get(what, ())
        word = "parent" if what == "death" else None

        def mark(r: RawEvent, kinds: tuple[int, ...] = kinds,
                 word: str | None = word) -> bool:
            return r[3] == addr and r[2] in kinds and (word is None or r[4] == word)

        index = _last(raws, step, mark)
        if index is not None:
            found.append(index)
        else:
            where = "in setup, before the threads ran" if step <= 0 else \
                f"by {thread} at step {step}, not recorded"
            unrecorded.append(f"{what} {addr:#x} ({where})")
    if fault is not None:
        tid = fault[0]
        index = _last(raws, fault[1], lambda r: r[1] == tid and
                      r[2] == EventKind.LOAD.value and _points_to(r[6], addr))
        if index is not None:
            found.append(index)
    return KeyEvents(tuple(sorted(set(found))), tuple(unrecorded))


def _last(raws: Sequence[RawEvent], step: int,
          match: Callable[[RawEvent], bool]) -> int | None:
    for i in range(len(raws) - 1, -1, -1):
        if raws[i][0] <= step and match(raws[i]):
            return i
    return None


def _cell(text: str) -> str:
    return (text if len(text) <= CELL else text[: CELL - 1] + "~").ljust(CELL)


def excerpt(raws: Sequence[RawEvent], names: dict[int, str], *,
            last: int = 30, fault: tuple[int, int, str] | None = None,
            keep: KeyEvents | None = None) -> str:
    """The last @last events of @raws as per-thread columns, plus the events
    of @keep (the object's allocation, death and free, the load of the
    pointer to it) wherever they are, and @keep's unrecorded marks first;
    each run of events left out between two shown is one ``…`` row.
    @fault, a (thread id, step, text) triple, adds the violating access as
    a last row marked ``!!`` (the access itself never completed, so no
    event holds it)."""
    keep = keep or KeyEvents((), ())
    start = max(0, len(raws) - last)
    shown = sorted({i for i in keep.indexes if 0 <= i < start}
                   | set(range(start, len(raws))))
    if not shown and fault is None:
        return "Interleaving: no events recorded"
    rows: list[tuple[int, int, str, str] | int] = []
    previous = -1
    for i in shown:
        if i > previous + 1:
            rows.append(i - previous - 1)  # this many events left out
        e = decode(raws[i])
        rows.append((e.step, e.thread, e.short(), e.stale_note()))
        previous = i
    if fault is not None:
        rows.append((fault[1], fault[0], "!! " + fault[2], ""))
    events = [r for r in rows if isinstance(r, tuple)]
    tids = sorted({row[1] for row in events})
    width = max(5, len(str(events[-1][0])))
    header = " " * (width - 4) + "step | " + " | ".join(
        _cell(names.get(t) or PSEUDO_THREADS.get(t, str(t))) for t in tids)
    rule = "-" * (width + 1) + "+" + "+".join("-" * (CELL + 2) for _ in tids)
    extra = len(shown) - (len(raws) - start)
    what = f"last {len(raws) - start} of {len(raws)} events"
    if extra:
        what += (f", and {extra} earlier one{'s' if extra != 1 else ''} of the "
                 "object's life and the pointer's load")
    lines = [f"Interleaving ({what}):", header.rstrip(), rule]
    lines += [f"{'setup':>{width}} | {text}" for text in keep.unrecorded]
    for row in rows:
        if isinstance(row, int):
            lines.append(f"{'…':>{width}} | ({row} event{'s' if row != 1 else ''})")
            continue
        step, tid, text, note = row
        cells = [_cell(text) if t == tid else " " * CELL for t in tids]
        line = f"{step:>{width}} | " + " | ".join(cells)
        lines.append(f"{line} | << {note}" if note else line.rstrip())
    return "\n".join(lines)


def stale_loads(raws: Sequence[RawEvent], names: dict[int, str], *,
                last: int = 6) -> str:
    """Under a weak memory model: the last @last loads that read a stale
    value, anywhere in @raws (the interleaving shows only the end), or
    ``""`` if none did."""
    found = []
    for raw in reversed(raws):
        value = raw[6]
        if raw[2] == _LOAD and type(value) is ReadsFrom and value.stale_step:
            found.append(decode(raw))
            if len(found) == last:
                break
    if not found:
        return ""
    lines = ["Stale loads (weak memory; the last ones, newest first):"]
    lines += [f"  step {e.step} {names.get(e.thread, str(e.thread))}: "
              f"{e.stale_note()}{' in ' + e.function if e.function else ''}"
              for e in found]
    return "\n".join(lines)
