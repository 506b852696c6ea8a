"""Instrumented maple nodes: every word access can be a scheduling point.

:class:`SimMapleNode` is a :class:`maple.node.MapleNode` whose ``pivot``,
``slot`` and ``gap`` arrays are :class:`Words` (a ``list`` subclass that
reports every load and store, slices included: the model's ``memcpy`` and
``memset`` are word by word, as in C, so a racing reader can see a torn
copy) and whose ``parent`` and ``meta`` words are properties.

Fast path: a node's watch bits ``_w`` are zero while it is private and
live, and then an access is a plain list access.  Otherwise the port's slow
path runs (:mod:`rcu_harness.memory.maple_port`): scheduling point,
poison check, lockdep-RCU, writer-lock check, publication, event record.
Stores to the parent word always take the slow path, because that is where
``mte_set_node_dead()`` is recognised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, SupportsIndex

from maple.defs import MapleType, maple_arange_64
from maple.node import MapleMetadata, MapleNode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rcu_harness.memory.heap import AllocRecord
    from rcu_harness.memory.maple_port import InstrumentedPort
    from rcu_harness.sync.spinlock import SpinLock

_lget = list.__getitem__
_lset = list.__setitem__
_liter = list.__iter__

# struct maple_node layouts (byte offsets of word arrays)
_RANGE = {"parent": 0, "pivot": 8, "slot": 128, "gap": 0, "meta": 248}
_ARANGE = {"parent": 0, "pivot": 8, "slot": 80, "gap": 160, "meta": 240}


class Words(list):  # type: ignore[type-arg]
    """One word array of a node (pivots, slots or gaps)."""

    __slots__ = ("_node", "_word")

    def __init__(self, values: list[Any], node: SimMapleNode, word: str) -> None:
        super().__init__(values)
        self._node = node
        self._word = word

    def __getitem__(self, i: Any) -> Any:
        node = self._node
        if node._w:
            return node._port.load_words(node, self, i)
        return _lget(self, i)

    def __setitem__(self, i: Any, value: Any) -> None:
        node = self._node
        if node._w:
            node._port.store_words(node, self, i, value)
        else:
            _lset(self, i, value)

    def __iter__(self) -> Iterator[Any]:
        if self._node._w:
            values: list[Any] = self[0:len(self)]
            return iter(values)
        it: Iterator[Any] = _liter(self)
        return it

    def __reversed__(self) -> Iterator[Any]:
        values: list[Any] = self[0:len(self)]
        return iter(values[::-1])

    def __contains__(self, value: object) -> bool:
        return value in self[0:len(self)]

    def index(self, value: Any, start: SupportsIndex = 0,
              stop: SupportsIndex | None = None) -> int:
        """list.index() through instrumented loads."""
        values: list[Any] = self[0:len(self)]
        return values.index(value, start, len(self) if stop is None else stop)

    def count(self, value: Any) -> int:
        """list.count() through instrumented loads."""
        values: list[Any] = self[0:len(self)]
        return values.count(value)

    def copy(self) -> list[Any]:
        """A plain list copy, through instrumented loads."""
        return list(self[0:len(self)])

    def raw(self) -> list[Any]:
        """The words without instrumentation (for the harness itself)."""
        return list(_liter(self))

    def __reduce__(self) -> Any:
        return (list, (self.raw(),))


class SimMapleNode(MapleNode):
    """A maple node handed out by the instrumented port."""

    __slots__ = ("_lock", "_m", "_p", "_port", "_rec", "_w")

    _rec: AllocRecord
    _p: int
    _m: MapleMetadata | None
    _w: int
    _port: InstrumentedPort
    _lock: SpinLock | None

    @property
    def parent(self) -> int:
        """The parent word (dead marker when it points at the node itself)."""
        if self._w:
            value: int = self._port.load_word(self, "parent")
            return value
        return self._p

    @parent.setter
    def parent(self, value: int) -> None:
        self._port.store_word(self, "parent", value)

    @property
    def meta(self) -> MapleMetadata | None:
        """The arange64 metadata word."""
        if self._w:
            value: MapleMetadata | None = self._port.load_word(self, "meta")
            return value
        return self._m

    @meta.setter
    def meta(self, value: MapleMetadata | None) -> None:
        if self._w:
            self._port.store_word(self, "meta", value)
        else:
            self._m = value

    def word_offset(self, word: str, index: int) -> int:
        """Byte offset of @word[@index] in struct maple_node."""
        layout = _ARANGE if self.type == maple_arange_64 else _RANGE
        return layout.get(word, 0) + 8 * max(index, 0)

    def kasan_type(self) -> str:
        """The node type, for reports."""
        try:
            return MapleType(self.type).name
        except ValueError:
            return f"type {self.type}"

    def rcu_summary(self) -> str:
        """Deterministic summary for traces."""
        return f"node@{self.addr:#x}"

    def __repr__(self) -> str:
        return f"<maple_node {self.addr:#x}>"


def new_node(port: InstrumentedPort, addr: int, heap: dict[int, Any]) -> SimMapleNode:
    """A zeroed instrumented node at @addr."""
    node = SimMapleNode.__new__(SimMapleNode)
    node._w = 0
    node._p = 0
    node._m = None
    node._port = port
    node._lock = None
    node.addr = addr
    node.heap = heap
    node.type = 0
    node.pivot = Words([0] * 15, node, "pivot")
    node.slot = Words([None] * 16, node, "slot")
    node.gap = Words([0] * 10, node, "gap")
    heap[addr] = node
    return node
