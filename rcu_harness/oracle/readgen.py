"""Reader-API call sequences for the oracle: random, and made legal.

A sequence starts with ``init F`` and a tree (empty, a single entry at 0 in
``ma_root``, a single range, a few ranges, or a few hundred), then mixes
calls of the reader API on ``rmas`` (:mod:`.reader`) with writes, RCU mode
switches and a reader-held RCU read section (``rlock`` ... ``runlock``).

:func:`legalize` keeps a sequence within the kernel's rules, so that a
difference is a bug and not undefined behaviour: the state must not be used
after a write freed or rewrote the nodes it points at.  That is the case
after any write unless the reader holds the RCU read lock and the tree is
in RCU mode (nodes are then replaced, and freed only after ``runlock``),
and after ``runlock`` itself.  Then the next navigating call is preceded by
``mpause`` (what a reader that drops the lock must do).  Hypothesis tests
and the seeded generator (:func:`reader_sequence`) both go through it.
"""

from __future__ import annotations

import random

from rcu_harness.oracle.ops import (
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    Erase,
    Find,
    FindAfter,
    Init,
    Insert,
    Load,
    MFind,
    MFindRev,
    MForEach,
    MNext,
    MNextRange,
    MPause,
    MPrev,
    MPrevRange,
    MReset,
    MSet,
    MWalk,
    Null,
    Op,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Validate,
)

WRITES = (Store, Null, Insert, Erase)
"""The writes a reader sequence mixes in."""
RESETS = (MSet, MReset, MPause)
"""Calls that drop the state's node pointer."""
NAVIGATING = (MWalk, MFind, MFindRev, MNext, MPrev, MNextRange, MPrevRange,
              MForEach)
"""Calls that use the state's node pointer (if it has one)."""


def legalize(ops: list[Op]) -> list[Op]:
    """@ops within the rules of the module docstring (a new list).

    Only the first ``init`` is kept; a ``runlock`` without ``rlock`` and a
    nested ``rlock`` are dropped; a navigating call on a state that may point
    at freed or rewritten nodes gets an ``mpause`` first; a held read lock is
    released at the end.
    """
    out: list[Op] = []
    in_rcu = locked = started = False
    stale = False
    for op in ops:
        if isinstance(op, Init):
            if started:
                continue
            started = True
            in_rcu = bool(op.flags & MT_FLAGS_USE_RCU)
        elif isinstance(op, RLock):
            if locked:
                continue
            locked = True
        elif isinstance(op, RUnlock):
            if not locked:
                continue
            locked, stale = False, True
        elif isinstance(op, RcuOn | RcuOff):
            in_rcu = isinstance(op, RcuOn)
        elif isinstance(op, WRITES):
            stale = stale or not (locked and in_rcu)
        elif isinstance(op, RESETS):
            stale = False
        elif isinstance(op, NAVIGATING) and stale:
            out.append(MPause())
            stale = False
        out.append(op)
    if locked:
        out.append(RUnlock())
    return out


class ReaderGen:
    """State of one random reader sequence (see :func:`reader_sequence`)."""

    def __init__(self, rng: random.Random, flags: int) -> None:
        self.rng = rng
        self.flags = flags
        self.ops: list[Op] = [Init(flags)]

    def index(self) -> int:
        """An index: mostly small (entries collide), sometimes an edge."""
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            return rng.randint(0, 80)
        if r < 0.85:
            return rng.randint(0, 6000)
        if r < 0.93:
            return rng.choice([0, 1, ULONG_MAX - 1, ULONG_MAX])
        return rng.randint(ULONG_MAX - 40, ULONG_MAX)

    def limit(self) -> int:
        """A max or min for a call: an edge, or an index."""
        return self.rng.choice([ULONG_MAX, 0, self.index(), self.index()])

    def range(self) -> tuple[int, int]:
        """A range [first, last] of a few indexes, or a wide one."""
        first = self.index()
        span = self.rng.choice([0, 0, 1, 3, 9, 40, 300, 5000])
        return first, min(first + span, ULONG_MAX)

    def value(self) -> int:
        """A fresh value: the op's position."""
        return len(self.ops) + 1

    def tree(self) -> None:
        """The starting tree: empty, root pointer, one range, a few, many."""
        rng = self.rng
        shape = rng.choices(["empty", "root", "one", "few", "many"],
                            [1, 1, 1, 3, 2])[0]
        if shape == "root":
            self.ops.append(Store(0, 0, self.value()))
        elif shape == "one":
            first, last = self.range()
            self.ops.append(Store(first, last, self.value()))
        elif shape != "empty":
            count = rng.randint(2, 12) if shape == "few" else rng.randint(30, 250)
            first = rng.randint(0, 20)
            for _ in range(count):
                last = first + rng.randint(0, 15)
                self.ops.append(Store(first, last, self.value()))
                first = last + 1 + rng.choice([0, 0, 1, 5])

    def reader_call(self) -> Op:
        """One call of the reader API."""
        rng = self.rng
        kind = rng.choices(
            [MSet, MReset, MPause, MWalk, MFind, MFindRev, MNext, MPrev,
             MNextRange, MPrevRange, MForEach],
            [5, 1, 2, 3, 8, 4, 6, 5, 4, 4, 3])[0]
        if kind is MSet:
            return MSet(self.index())
        if kind in (MReset, MPause, MWalk):
            op: Op = kind()
            return op
        if kind is MForEach:
            return MForEach(self.limit(), rng.choice([1, 2, 3, 5, 8, 64]))
        call: Op = kind(self.limit())
        return call

    def write(self) -> Op:
        """A write that changes what the reader sees."""
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            first, last = self.range()
            return Store(first, last, self.value())
        if r < 0.6:
            first, last = self.range()
            return Null(first, last)
        if r < 0.9:
            return Erase(self.index())
        first, last = self.range()
        return Insert(first, last, self.value())

    def other(self) -> Op:
        """A lock, mode switch, lookup or validation."""
        rng = self.rng
        kind = rng.choices(["rlock", "runlock", "rcu", "load", "find", "after",
                            "validate"], [4, 3, 1, 1, 1, 1, 1])[0]
        if kind == "rlock":
            return RLock()
        if kind == "runlock":
            return RUnlock()
        if kind == "rcu":
            return rng.choice([RcuOn(), RcuOff()])
        if kind == "load":
            return Load(self.index())
        if kind == "validate":
            return Validate()
        index = self.index()
        limit = max(index, self.limit())
        return Find(index, limit) if kind == "find" else FindAfter(index, limit)


def reader_sequence(seed: int, calls: int, *, flags: int) -> list[Op]:
    """A legal sequence of @calls reader-API calls on a random tree.

    Writes, lock changes and lookups come between the calls (about one in
    three ops); only ``random.Random(seed)`` decides, so the same arguments
    give the same list.
    """
    rng = random.Random(seed)
    gen = ReaderGen(rng, flags)
    gen.tree()
    if rng.random() < 0.5:
        gen.ops.append(RLock())
    made = 0
    while made < calls:
        r = rng.random()
        if r < 0.62:
            gen.ops.append(gen.reader_call())
            made += 1
        elif r < 0.9:
            gen.ops.append(gen.write())
        else:
            gen.ops.append(gen.other())
    return legalize(gen.ops)


def count_calls(ops: list[Op]) -> int:
    """How many reader-API calls @ops makes (inserted ``mpause`` included)."""
    return sum(isinstance(op, RESETS + NAVIGATING) for op in ops)


def separator(flags: int) -> list[Op]:
    """What goes between two sequences of one batch: leave RCU mode (so the
    destroy of the old tree is not the catalogued RCU destroy bug), a fresh
    tree, and a state that no longer points into the old one."""
    return [RcuOff(), Init(flags), MReset()]


def batch(sequences: list[list[Op]]) -> tuple[list[Op], list[int]]:
    """Concatenate legal sequences into one trace; also each one's start."""
    ops: list[Op] = []
    starts: list[int] = []
    for seq in sequences:
        first = seq[0]
        head = separator(first.flags) if ops and isinstance(first, Init) else []
        starts.append(len(ops) + len(head))
        ops += head + (seq[1:] if head else seq)
    return ops, starts
