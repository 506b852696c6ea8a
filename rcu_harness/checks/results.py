"""Reader results are consistent with the writer history.

The scenario records each writer operation (store or erase of a range, or
a whole copy as ``__mt_dup()`` makes) with its begin and end steps, and
each reader operation with its results and its begin and end steps
(``h.writing()``, ``h.copying()``, ``h.reading()``).  The checker
keeps the interval-map *version* after every write: version ``k`` is the
tree after write ``k``, and is *possibly current* from the begin of write
``k`` (its stores may already be visible) to the end of write ``k + 1``
(its stores may not yet be).  A read is consistent when:

* every entry it returned, with its range, is present in some version
  possibly current during the read (for a point lookup: the entry at that
  index, NULL included);
* an iteration is ascending (descending for ``mas_find_rev()`` /
  ``mas_prev()`` loops; for /proc/PID/maps under per-VMA locks each end
  past the previous one, overlaps allowed), and returns every range that
  is present, with the same entry, in *all* versions possibly current
  during the read (no holes);
* /proc/PID/maps under per-VMA locks (``iterate-locked``) shows no gap
  that was not empty at some moment between the VMAs on either side of it;
* a single-entry search (``mt_find()``: the first entry in a window;
  ``mas_prev()``: the last one) returns an entry inside its window and
  skips no range present throughout the read between the window's edge and
  the entry it returned;
* a VMA returned by ``lock_vma_under_rcu()`` covers the fault address by
  the bounds the reader itself read from it (the re-check the kernel does).

Writes are assumed serialised (by the tree lock; the writer-lock checker
reports unlocked ones).  The history is kept per tree object.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.intervalmap import IntervalMap
from rcu_harness.checks.observer import Observer
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.runtime.records import ReadKind, WriteOp
from rcu_harness.trace.events import summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.records import ReadRecord, WriteRecord
    from rcu_harness.runtime.thread import SimThread

INF = 1 << 62


class _History:
    __slots__ = ("versions", "writes")

    def __init__(self) -> None:
        self.versions: list[IntervalMap] = [IntervalMap()]
        self.writes: list[WriteRecord] = []

    def candidates(self, begin: int, end: int) -> list[IntervalMap]:
        out = []
        for k, version in enumerate(self.versions):
            start = self.writes[k - 1].begin if k else -INF
            nxt = self.writes[k] if k < len(self.writes) else None
            stop = INF if nxt is None or nxt.end is None else nxt.end
            if start <= end and stop >= begin:
                out.append(version)
        return out


_POINTS = frozenset((ReadKind.LOAD, ReadKind.FIRST, ReadKind.ITERATE_POINTS,
                     ReadKind.VMA))
"""Kinds whose results are (index, index, entry): an index the entry covers."""
_SEQUENCES = frozenset((ReadKind.ITERATE, ReadKind.ITERATE_REV,
                        ReadKind.ITERATE_POINTS, ReadKind.ITERATE_LOCKED))
"""Kinds that ran to completion over [first, limit]: every stable range counts."""
_ITERATE = ReadKind.ITERATE
_COPY = WriteOp.COPY  # members once: a look-up through the Enum class is slow
_ERASE = WriteOp.ERASE


def _order(rec: ReadRecord) -> str:
    """Results of a sequence must move one way, each past the previous."""
    prev: tuple[int, int, object] | None = None
    locked = rec.kind is ReadKind.ITERATE_LOCKED  # once a read: a member's
    rev = rec.kind is ReadKind.ITERATE_REV  # look-up is slow (EnumType's hook)
    for r in rec.results:
        if prev is None:
            pass
        elif locked:
            if r[1] <= prev[1]:
                return (f"iteration went back: {_fmt(r)} ends at or before "
                        f"index {prev[1]:#x}")
        elif rev:
            if r[1] >= prev[0]:
                return f"iteration not descending: {_fmt(r)} after index {prev[0]:#x}"
        elif r[0] <= prev[1]:
            return f"iteration not ascending: {_fmt(r)} after index {prev[1]:#x}"
        prev = r
    return ""


def _window(rec: ReadRecord) -> tuple[int, int] | str:
    """The part of [first, limit] in which every stable range must have been
    returned, or a problem with where the results lie."""
    found = [r for r in rec.results if r[2] is not None]
    for r in found:
        if r[1] < rec.first or r[0] > rec.limit:
            return f"returned {_fmt(r)}, outside [{rec.first:#x}, {rec.limit:#x}]"
    if rec.kind in _SEQUENCES or not found:
        return rec.first, rec.limit
    if len(found) > 1:
        return f"returned {len(found)} entries where one was asked for"
    if rec.kind is ReadKind.FIRST:
        return rec.first, found[0][0]
    return found[0][0], rec.limit  # LAST


def _as_stored(rec: ReadRecord, cands: list[IntervalMap]) -> bool:
    """Did an ascending iteration return exactly the ranges that one of
    @cands holds over [first, limit], in order?  Then :meth:`ResultCheck.
    _problem` finds nothing: each result is in that version, they ascend
    (its ranges are sorted and disjoint), each meets [first, limit], and
    a range present in every candidate is one of that version's there,
    so returned.  (Compared by ``==``, as the full check compares: the
    same for entries that equal themselves, as the scenarios' VMAs and
    values do.)"""
    results, first, limit = rec.results, rec.first, rec.limit
    return any(results == v.overlapping(first, limit) for v in cands)


def _covers(rec: ReadRecord, r: tuple[int, int, object]) -> bool:
    """Did the read return @r's entry somewhere in @r's range?"""
    return any(got[2] == r[2] and got[0] <= r[1] and got[1] >= r[0]
               for got in rec.results)


def _fmt(r: tuple[int, int, object]) -> str:
    return f"[{r[0]:#x}, {r[1]:#x}] -> {summarize(r[2])}"


class ResultCheck(Observer):
    """Check reader results against every possibly-current tree version."""

    def __init__(self) -> None:
        self.trees: dict[Any, _History] = {}

    def _history(self, mt: Any) -> _History:
        hist = self.trees.get(mt)
        if hist is None:
            hist = self.trees[mt] = _History()
        return hist

    def write_begin(self, ex: Execution, t: SimThread, rec: WriteRecord) -> None:
        """A new version exists from now on."""
        hist = self.trees.get(rec.tree)  # self._history(rec.tree), inline
        if hist is None:
            hist = self.trees[rec.tree] = _History()
        op = rec.op
        if op is _COPY:
            newest = IntervalMap(rec.entries)
        else:
            entry = None if op is _ERASE else rec.entry
            newest = hist.versions[-1].store(rec.index, rec.last, entry)
        if rec.begin < 0:
            hist.versions[-1] = newest
            return
        hist.writes.append(rec)
        hist.versions.append(newest)

    def initial_contents(self, ex: Execution, t: SimThread, mt: Any,
                         entries: Sequence[tuple[int, int, object]]) -> None:
        """Setup's writes at once: the newest version holds @entries stored
        in turn, as each setup write's :meth:`write_begin` makes it (no new
        version: setup writes end before any read begins)."""
        if not entries:
            return
        hist = self.trees.get(mt)
        if hist is None:
            hist = self.trees[mt] = _History()
        hist.versions[-1] = hist.versions[-1].store_all(entries)

    def read_end(self, ex: Execution, t: SimThread, rec: ReadRecord) -> None:
        """Check @rec against the versions possibly current during it."""
        hist = self._history(rec.tree)
        cands = hist.candidates(rec.begin, rec.end if rec.end is not None else INF)
        if rec.kind is _ITERATE and _as_stored(rec, cands):
            return
        problem = self._problem(rec, cands)
        if problem:
            ex.fail(self._violation(ex, t, rec, cands, problem))

    def _problem(self, rec: ReadRecord, cands: list[IntervalMap]) -> str:
        points = rec.kind in _POINTS  # once a read: an Enum hashes in Python
        for r in rec.results:  # some possibly-current version has it
            index, last, entry = r
            for v in cands:
                if points:
                    if v.lookup(index) == entry:
                        break
                elif entry is None:
                    if v.empty_over(index, last):
                        break
                elif v.has_exact(index, last, entry):
                    break
            else:
                return f"returned {_fmt(r)}, present in no possibly-current version"
        if rec.kind is ReadKind.VMA and rec.results and rec.bounds is not None:
            start, end = rec.bounds
            if not start <= rec.first < end:
                return (f"returned a VMA whose own bounds [{start:#x}, {end:#x}) do "
                        f"not contain {rec.first:#x}")
        if rec.kind in (ReadKind.LOAD, ReadKind.FIND, ReadKind.VMA):
            return ""
        problem = _order(rec)
        if problem:
            return problem
        if rec.kind is ReadKind.ITERATE_LOCKED and rec.steps:
            problem = self._holes(rec)
            if problem:
                return problem
        window = _window(rec)
        if isinstance(window, str):
            return window
        rest = cands[1:]
        for r in cands[0].overlapping(*window):
            if r in rec.results:  # returned as it is: covered (in C; an
                continue  # entry equals itself, as every stored one does)
            stable = all(v.has_exact(*r) for v in rest)
            if stable and not _covers(rec, r):
                what = "missed" if rec.kind in _SEQUENCES else "skipped"
                return f"{rec.kind.value} {what} {_fmt(r)}, present throughout the read"
        return ""

    @staticmethod
    def _what(rec: ReadRecord) -> str:
        if rec.kind is ReadKind.LOAD:
            return f"{rec.first:#x}"
        return f"[{rec.first:#x}, {rec.limit:#x}]"

    def _hint(self, rec: ReadRecord) -> list[str]:
        """What to do when the reader returned entries the history never had:
        the usual cause is a program that did not declare the tree's
        contents or did not bracket a write, not a bug in the tree."""
        hist = self._history(rec.tree)
        known = [w.entry for w in hist.writes] + [
            r[2] for v in hist.versions[:1] for r in v.ranges]
        unknown = [r for r in rec.results
                   if r[2] is not None and not any(r[2] == e for e in known)]
        if not unknown:
            return []
        text = (f"hint: no recorded write ever stored {summarize(unknown[0][2])} "
                "in this tree: declare what the tree holds when the threads start "
                "with h.initial_contents(mt, [(first, last, entry), ...]) and "
                "bracket every writer operation with h.writing(mt, first, last, "
                "entry) (entry None: an erase).")
        return textwrap.wrap(text, 78, subsequent_indent="  ")

    def _holes(self, rec: ReadRecord) -> str:
        """Each gap between results was empty at some moment between them."""
        hist = self._history(rec.tree)
        end = rec.end if rec.end is not None else INF
        # a gap is judged from the reader's horizon when it returned the
        # result before it (under lkmm its loads may read any version from
        # there: LKMM promises no recency) to the step of the result after
        seen = list(zip(rec.results, rec.horizons, strict=True))
        shown = list(zip(rec.results, rec.steps, strict=True))
        edges = [(rec.first - 1, rec.begin), *((r[1], since) for r, since in seen)]
        nexts = [*((r[0], at) for r, at in shown), (rec.limit + 1, end)]
        for (last, since), (start, until) in zip(edges, nexts, strict=True):
            if start <= last + 1:
                continue
            lo, hi = last + 1, start - 1
            if not any(v.empty_over(lo, hi) for v in hist.candidates(since, until)):
                return (f"showed a hole [{lo:#x}, {hi:#x}] that was never empty "
                        f"between steps {since} and {until}")
        return ""

    def _violation(self, ex: Execution, t: SimThread, rec: ReadRecord,
                   cands: list[IntervalMap], problem: str) -> Violation:
        lines = [
            "BUG: reader result inconsistent with the writer history",
            f"task {t.label}: {rec.kind.value} of {self._what(rec)} "
            f"during steps {rec.begin}..{rec.end}: {problem}",
            "results: " + (", ".join(_fmt(r) for r in rec.results) or "none"),
            f"versions possibly current during the read ({len(cands)}):",
            *(f"  {v.summary()}" for v in cands[:6]),
            "writes overlapping the read:",
            *(f"  {w.thread}: {w.op.value} [{w.index:#x}, {w.last:#x}] -> "
              f"{summarize(w.entry)} steps {w.begin}..{w.end}"
              for w in self._history(rec.tree).writes
              if w.begin <= (rec.end or INF) and (w.end or INF) >= rec.begin),
            *self._hint(rec),
        ]
        return Violation(FindingKind.RESULT, f"{t.label}: {problem}",
                         "\n".join(lines),
                         key=(rec.kind.value, problem.split(" ")[0]),
                         thread=t.label, step=ex.step)
