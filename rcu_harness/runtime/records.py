"""Records a scenario keeps of its writer operations and reader results.

They are filled in by :class:`~rcu_harness.runner.harness.Harness` helpers
(``h.writing(...)``, ``h.reading(...)``) and checked by
:class:`~rcu_harness.checks.results.ResultCheck`.  Steps are the execution's
global step counter, so "during the read" means between the read's begin
and end steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class WriteOp(Enum):
    """What a recorded writer operation did."""

    STORE = "store"
    ERASE = "erase"
    COPY = "copy"
    """The tree now holds exactly the record's ``entries`` (``__mt_dup()``:
    the whole copy becomes visible at once, so it is one operation)."""


class ReadKind(Enum):
    """What a recorded read was."""

    LOAD = "load"
    """A point lookup of ``first``: one result, range unknown (``mtree_load``)."""
    FIND = "find"
    """Results carry their whole stored range (``mas_walk``, one ``mas_find``)."""
    ITERATE = "iterate"
    """An ascending iteration over [first, limit] that ran to completion."""
    ITERATE_REV = "iterate-rev"
    """A descending iteration over [first, limit] (``mas_find_rev()`` or
    ``mas_prev()`` loops down to ``first``) that ran to completion."""
    ITERATE_POINTS = "iterate-points"
    """An ascending ``mt_for_each()`` over [first, limit]: each result is an
    index its entry covers (``mt_find()`` gives no range start)."""
    FIRST = "first"
    """The first entry in [first, limit] (``mt_find()``, ``find_vma()``):
    at most one result, an index the entry covers, or a NULL result."""
    LAST = "last"
    """The last entry in [first, limit] (``mas_prev()`` as in
    ``find_vma_prev()``): at most one result with its whole range, or NULL."""
    ITERATE_LOCKED = "iterate-locked"
    """/proc/PID/maps read by VMA locks (``lock_next_vma()``) or by read()
    calls each under the mmap_lock: an ascending iteration over [first,
    limit] in which each result is a VMA with the bounds read under its
    lock; a result may overlap the one before it (the kernel selftest's
    rule: duplicates allowed, holes never), but its end lies past the
    previous end; the gap before each result (and after the last) must have
    been empty at some moment between the result before and this one
    (``saw_at`` gives each result's step and, under a weak memory model, the
    reader's horizon then: the moment may lie as far back as it)."""
    VMA = "vma"
    """``lock_vma_under_rcu()``: the VMA covering ``first``, which the caller
    then uses; ``bounds`` are the VMA's own [vm_start, vm_end) it read."""


@dataclass(slots=True)
class WriteRecord:
    """One writer operation: store @entry over [index, last], erase, or
    copy (the tree becomes @entries)."""

    tree: Any
    op: WriteOp
    index: int
    last: int
    entry: object
    thread: str
    begin: int
    end: int | None = None
    entries: tuple[tuple[int, int, object], ...] = ()
    """For ``COPY``: the sorted, disjoint ranges the tree holds after it."""


@dataclass(slots=True)
class ReadRecord:
    """One reader operation and what it returned."""

    tree: Any
    kind: ReadKind
    first: int
    limit: int
    thread: str
    begin: int
    end: int | None = None
    results: list[tuple[int, int, object]] = field(default_factory=list)
    bounds: tuple[int, int] | None = None
    """For ``VMA`` reads: the [vm_start, vm_end) the reader read and relied on."""
    steps: list[int] = field(default_factory=list)
    """For ``ITERATE_LOCKED`` reads: the step of each result (``saw_at``)."""
    horizons: list[int] = field(default_factory=list)
    """For ``ITERATE_LOCKED`` reads: for each result, the first step whose
    stores the reader may not have seen yet when it returned it (its step
    under sc; :meth:`Harness.horizon`): the versions it may still see from
    there start at that step."""

    def saw(self, index: int, last: int, entry: object) -> None:
        """The reader returned @entry for the range [index, last]."""
        self.results.append((index, last, entry))

    def saw_at(self, index: int, last: int, entry: object, step: int,
               horizon: int | None = None) -> None:
        """The reader returned @entry for [index, last] at @step, seeing
        every store made before @horizon (default: before @step)."""
        self.results.append((index, last, entry))
        self.steps.append(step)
        self.horizons.append(step if horizon is None else min(step, horizon))

    def drop(self) -> None:
        """The read this record was opened for did not happen after all:
        leave nothing to check (a FIND without results)."""
        self.kind = ReadKind.FIND
        self.results.clear()
