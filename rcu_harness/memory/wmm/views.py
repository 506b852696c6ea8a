"""Stores, per-location histories and views: the data of the weak memory model.

Every store of a tracked word is a :class:`Msg` with a global sequence
number ``seq`` (1, 2, ... in the order stores execute; 0 is a word's value
before its first tracked store).  A word's :class:`Loc` keeps its stores in
coherence order, which here is the order they executed (a store always
becomes the newest: see the model's limits in :mod:`.model`).

A *view* says which stores a thread must at least see.  It has three parts,
each cheap to join:

* ``floor``: every store with ``seq <= floor`` (everything that had
  happened when the thread last synchronised with everyone: a wake-up, a
  spin, a lock handed over by a sleeper);
* ``locs``: per word, the newest store included (coherence: a word read or
  a release's cumulativity);
* ``vc``: per thread, every store *of that thread* with ``seq <=`` the
  value (``smp_wmb()``: a thread's own earlier stores).

A load of a word may read the newest store its view includes or any newer
one; :meth:`View.includes` tells whether a given store is included.  Entries
at or below the floor are dropped, so views stay small: a writer's stores
under the tree lock are covered by its floor and its own ``vc`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class View:
    """An immutable view (what a message carries, a snapshot of a thread's)."""

    floor: int
    locs: Mapping[int, int]
    vc: Mapping[int, int]

    def includes(self, m: Msg) -> bool:
        """Must a reader with this view see @m (or a newer store of its word)?"""
        seq = m.seq
        return (seq <= self.floor or self.locs.get(m.key, 0) >= seq
                or self.vc.get(m.tid, -1) >= seq)

    @property
    def empty(self) -> bool:
        """Includes nothing but the initial values."""
        return not self.floor and not self.locs and not self.vc


EMPTY = View(0, {}, {})


class Msg:
    """One store of a word (``seq`` 0: the word's value before any).

    Never changed once made; a plain slotted class rather than a frozen
    dataclass because one is made per store (a third of the cost)."""

    __slots__ = ("key", "release", "seq", "step", "tid", "value", "view")

    def __init__(self, seq: int, tid: int, step: int, value: Any, view: View,
                 release: bool, key: int) -> None:
        self.seq = seq
        self.tid = tid
        """The storing thread (-1: the initial value)."""
        self.step = step
        """The scheduling step of the store (0: the initial value)."""
        self.value = value
        self.view = view
        """What a reader ordered after reading this store must also see:
        the storing thread's last ``smp_wmb()`` view, or for a release its
        whole view (cumulativity)."""
        self.release = release
        self.key = key


class Loc:
    """One tracked word and its stores in coherence order."""

    __slots__ = ("base", "index", "key", "msgs", "obj", "word")

    def __init__(self, key: int, obj: Any, word: str, index: int,
                 initial: Any) -> None:
        self.key = key
        self.obj = obj
        self.word = word
        self.index = index
        self.msgs: list[Msg] = [Msg(0, -1, 0, initial, EMPTY, False, key)]
        self.base = 0
        """No load reads a store older than msgs[base] (a store made
        outside the model's sight resets the word for everyone)."""

    def name(self) -> str:
        """``word[index]`` or ``word``."""
        return f"{self.word}[{self.index}]" if self.index >= 0 else self.word


class Acc:
    """A thread's mutable view: what its next load must at least see."""

    __slots__ = ("floor", "locs", "vc")

    def __init__(self, floor: int = 0) -> None:
        self.floor = floor
        self.locs: dict[int, int] = {}
        self.vc: dict[int, int] = {}

    def includes(self, m: Msg) -> bool:
        """See :meth:`View.includes`."""
        seq = m.seq
        return (seq <= self.floor or self.locs.get(m.key, 0) >= seq
                or self.vc.get(m.tid, -1) >= seq)

    def see(self, key: int, seq: int) -> None:
        """Include store @seq of word @key (coherence after a load)."""
        if seq > self.floor and self.locs.get(key, 0) < seq:
            self.locs[key] = seq

    def own(self, tid: int, seq: int) -> None:
        """Include the thread's own store @seq (and its earlier ones)."""
        self.vc[tid] = seq

    def join(self, v: View | Acc) -> None:
        """Include everything @v includes."""
        floor = self.floor
        if v.floor > floor:
            self.raise_floor(v.floor)
            floor = v.floor
        locs = self.locs
        for key, seq in v.locs.items():
            if seq > floor and locs.get(key, 0) < seq:
                locs[key] = seq
        vc = self.vc
        for tid, seq in v.vc.items():
            if seq > floor and vc.get(tid, 0) < seq:
                vc[tid] = seq

    def raise_floor(self, floor: int) -> None:
        """Include every store up to @floor; drop what that covers."""
        if floor <= self.floor:
            return
        self.floor = floor
        if self.locs:
            self.locs = {k: s for k, s in self.locs.items() if s > floor}
        if self.vc:
            self.vc = {t: s for t, s in self.vc.items() if s > floor}

    def snapshot(self) -> View:
        """This view, frozen."""
        if not self.floor and not self.locs and not self.vc:
            return EMPTY
        return View(self.floor, dict(self.locs), dict(self.vc))

    def clear(self) -> None:
        """Include nothing (an emptied accumulator)."""
        self.floor = 0
        self.locs = {}
        self.vc = {}

    @property
    def empty(self) -> bool:
        """Includes nothing."""
        return not self.floor and not self.locs and not self.vc


def joined(*views: View | Acc | None) -> View:
    """The join of @views (None: nothing), frozen."""
    acc = Acc()
    for v in views:
        if v is not None:
            acc.join(v)
    return acc.snapshot()


def with_store(view: View | None, key: int, seq: int) -> View:
    """@view (or nothing) and store @seq of word @key."""
    acc = Acc()
    if view is not None:
        acc.join(view)
    acc.see(key, seq)
    return acc.snapshot()
