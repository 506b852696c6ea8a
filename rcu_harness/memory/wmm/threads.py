"""A thread's views, and the identity of the words the model tracks.

:class:`TState` is what one thread must at least see (its view), what the
stores it read carried (pending until a barrier), what its stores carry,
and the dependency views of the objects it holds pointers to.  A word is
identified by its object's address and a word code (:func:`word_codes`:
a maple node's or tree's words, or a SimStruct's fields);
:func:`raw_value` reads its current value uninstrumented and
:func:`pointer_target` says where a value read from it points.
"""

from __future__ import annotations

from typing import Any

from maple.node import MapleEnode
from rcu_harness.memory.wmm.views import EMPTY, Acc, View

_lget = list.__getitem__
_ADDR_MASK = ~0xFF
_NODE_WORDS = {"parent": 0, "pivot": 1, "slot": 17, "gap": 33, "meta": 43,
               "ma_root": 0, "ma_flags": 1}
"""Word codes of node and tree words (pivot[i] is 1 + i and so on)."""


class TState:
    """One thread's views."""

    __slots__ = ("acq", "acq_last", "acquire_next", "cur", "dep_made", "dep_src",
                 "deps", "release_next", "tid", "unlocked", "wmb")

    def __init__(self, tid: int, floor: int) -> None:
        self.tid = tid
        self.cur = Acc(floor)
        """What its next load must at least see."""
        self.acq = Acc()
        """Views of the stores it read since its last rmb (pending)."""
        self.acq_last: View = EMPTY
        """The last view joined into ``acq`` (a load of the same node's
        words joins each store's view once)."""
        self.wmb: View = EMPTY
        """The view its plain stores carry."""
        self.deps: dict[int, View] = {}
        """Object address -> the view a load through a pointer to it sees."""
        self.dep_made: dict[int, tuple[View | None, View]] = {}
        """Object address -> what its dependency view was last made from
        (a pointer read again from the same store adds nothing)."""
        self.dep_src: dict[int, int] = {}
        """Object address -> log index of the load that read the pointer."""
        self.release_next = False
        self.acquire_next = False
        self.unlocked: View = EMPTY
        """Its own stores before its last unlock."""

    def clear_acq(self) -> None:
        """Nothing pending (after an rmb or a full barrier)."""
        self.acq.clear()
        self.acq_last = EMPTY


def word_codes(cls: type) -> dict[str, int]:
    """The word codes of @cls's words (a key is ``addr << 8 | code``)."""
    fields = getattr(cls, "fields", None)
    if isinstance(fields, tuple):  # a SimStruct: one word per field
        return {name: 64 + i for i, name in enumerate(fields)}
    return _NODE_WORDS


def raw_value(obj: Any, word: str, index: int) -> Any:
    """The current (newest) value of @obj's @word[@index], uninstrumented."""
    fields = getattr(type(obj), "fields", None)
    if isinstance(fields, tuple):
        return obj._v[fields.index(word)]
    if word == "parent":
        return obj._p
    if word == "meta":
        return obj._m
    if word in ("ma_root", "ma_flags"):
        return getattr(obj, word)
    return _lget(getattr(obj, word), index)


def pointer_target(value: Any, word: str) -> int:
    """The address @value points to when it is a pointer (0 otherwise): an
    encoded node, a node, a struct, or a parent word."""
    tv = type(value)
    if tv is int:
        return value & _ADDR_MASK if word == "parent" else 0
    if value is None:
        return 0
    if tv is MapleEnode:
        addr: int = value[0].addr
        return addr
    addr = getattr(value, "addr", 0)
    return addr if type(addr) is int else 0
