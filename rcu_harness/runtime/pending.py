"""A thread's pending access: what it loads or stores when it next runs.

Set on ``SimThread.pending`` by the access seam
(:mod:`rcu_harness.memory.access`) and by lock operations
(:mod:`rcu_harness.sync.flow`) for the strategies that watch
(:class:`~rcu_harness.sched.protocol.Watching`).  It lives in the runtime
layer so that every layer above (``sync``, ``memory``) can make one.

The *kind* of a point is free to ask: a maple node or tree word access is a
:class:`MapleAccess` (made by the maple port), whose class attribute
``maple`` is True; every other access (a SimStruct field such as a VMA's
``vm_lock_seq``, a field's atomic read-modify-write, a lock word) is an
:class:`Access`, ``maple`` False; a point that is no memory access (an RCU
primitive, a yield, an ``Atomic`` counter, a slab free) has no pending
access at all (``None``).  :func:`is_sync` sorts a point into the two
kinds the ``pct-sync`` strategy tells apart; the test is one attribute
load, and nothing is computed for strategies that do not watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Access:
    """A pending memory access of a thread (what it does when it next runs)."""

    maple: ClassVar[bool] = False
    """A maple node or tree word (:class:`MapleAccess`)?"""

    addr: int
    """The node's, tree's, struct's or lock's address."""
    word: str
    """``pivot``, ``slot``, ``gap``, ``parent``, ``meta``, ``ma_root``,
    ``ma_flags``, a SimStruct field's name, or ``lock``."""
    index: int
    """The array index, -1 for single words."""
    store: bool
    """A store (else a load); a lock operation is a store."""

    def __init__(self, addr: int, word: str, index: int, store: bool) -> None:
        # The dataclass's own __init__ sets each field through
        # object.__setattr__ (it is frozen): 7,000 instructions per access,
        # made at every observed point of a watching strategy.  The slots'
        # own setters do the same in 4,300.
        _set_addr(self, addr)
        _set_word(self, word)
        _set_index(self, index)
        _set_store(self, store)


_set_addr = Access.__dict__["addr"].__set__
_set_word = Access.__dict__["word"].__set__
_set_index = Access.__dict__["index"].__set__
_set_store = Access.__dict__["store"].__set__


@dataclass(frozen=True, slots=True, init=False)
class MapleAccess(Access):
    """A pending access of a maple node word (``pivot``, ``slot``, ``gap``,
    ``parent``, ``meta``) or tree word (``ma_root``, ``ma_flags``): the
    maple tree's own memory, most of the decisions of a page_fault
    execution."""

    maple: ClassVar[bool] = True


MADE_MAX = 1 << 16
"""The most maple accesses :func:`maple_access` keeps (then it starts over)."""
_made: dict[tuple[int, str, int, bool], MapleAccess] = {}


def maple_access(addr: int, word: str, index: int, store: bool) -> MapleAccess:
    """The pending access of a maple word access, made once per (address,
    word, index, load or store) and then shared: an Access is immutable and
    compared by its fields, never by identity, and making one costs about a
    bare greenlet round trip, at every point of a watching strategy that
    asks it.  Addresses are the same in every execution
    (:mod:`rcu_harness.memory.heap`), so the same few thousand are asked
    for again and again; past :data:`MADE_MAX` the table starts over."""
    key = (addr, word, index, store)
    made = _made.get(key)
    if made is None:
        if len(_made) >= MADE_MAX:
            _made.clear()
        made = _made[key] = MapleAccess(addr, word, index, store)
    return made


_made_words: dict[tuple[int, str, bool], Access] = {}


def word_access(addr: int, word: str, store: bool) -> Access:
    """The pending access of a single word that is not the maple tree's
    (a SimStruct field, a field's read-modify-write, a lock word), made
    once per (address, word, load or store) and shared, as
    :func:`maple_access`'s (a lock operation or a field access of a
    watching strategy made one at every point)."""
    key = (addr, word, store)
    made = _made_words.get(key)
    if made is None:
        if len(_made_words) >= MADE_MAX:
            _made_words.clear()
        made = _made_words[key] = Access(addr, word, -1, store)
    return made


def is_sync(pending: Any) -> bool:
    """Is a thread whose pending access is @pending at a *sync* point: one
    that is not a maple node or tree word (a lock, an RCU primitive, a yield,
    a VMA or mm field, a refcount RMW, a slab free)?"""
    return pending is None or not pending.maple
