"""Instrumented maple nodes: every word access can be a scheduling point.

:class:`SimMapleNode` is a :class:`maple.node.MapleNode` whose ``pivot``,
``slot`` and ``gap`` arrays are :class:`Words` (a ``list`` subclass that
reports every load and store, slices included: the model's ``memcpy`` and
``memset`` are word by word, as in C, so a racing reader can see a torn
copy) and whose ``parent`` and ``meta`` words are properties.

The fast path is one Python call per access (``Words.__getitem__``, the
``parent`` property), by the node's watch bits ``_w`` and ``ex.quiet``:

* private and live (``_w == 0``): a plain list index;
* unobserved (private, or ``ex.quiet``: setup, teardown, ``mt_validate()``):
  a plain list index after the poison test (a freed node is still caught);
* observed (published, threads running): the scheduling point
  (``ex.point()``), then, in this order, the poison check (a use after free,
  or the pipeline age of a retired node), lockdep-RCU, the load, the event
  (with the caller's code object when functions are recorded), interleaving
  coverage, and for the parent word the ``reader_restart`` count.  These are
  the steps of the port's general path
  (:class:`~rcu_harness.memory.node_words.NodeWordsPath`), inlined;
  the golden trace tests hold the two to the same bytes.

Where nothing is observed, not even that one call is made: a node's
*view* (its classes, swapped with ``__class__``) makes its loads plain list
operations, in C, while its watch bits are zero (the private view) and
while it is not freed and the execution is quiet (the quiet view: setup,
``mt_validate()``); see :func:`private_view`, :func:`quiet_view` and
:func:`observed_view`.  The views only drop calls that would have done
nothing else, so traces are the same bytes.

Slices, stores to the parent and meta words (where ``mte_set_node_dead()``
is recognised) and every observed access of a node allocated under an
access hook take the port's general path.  The hook seam (a weak memory
model, a strategy asking for pending accesses) is
:mod:`rcu_harness.memory.access`: sequential consistency never tests for it
on this path, because hooked or plain, the node classes are chosen once, at
allocation (a plain node then moves between views; a hooked one never does).
"""

from __future__ import annotations

import sys
from operator import attrgetter
from typing import TYPE_CHECKING, Any, SupportsIndex

from maple.defs import MapleType, maple_arange_64
from maple.node import MapleMetadata, MapleNode
from rcu_harness.memory.coverage import reader_load
from rcu_harness.memory.heap import FREED, ON_WATCH, PUBLISHED
from rcu_harness.runtime.pending import maple_access
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rcu_harness.memory.maple_port import InstrumentedPort
    from rcu_harness.memory.records import AllocRecord
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.sync.spinlock import SpinLock

_lget = list.__getitem__
_lset = list.__setitem__
_liter = list.__iter__
_lcopy = list.copy
_getframe = sys._getframe
_new_node = object.__new__
_LOAD = EventKind.LOAD.value
_STORE = EventKind.STORE.value
_ADDR_MASK = ~0xFF

TRANSPARENT: set[Any] = set()
"""Code objects of helpers whose caller an event names instead: the port's
``rcu_assign_pointer()`` stores for the model function that calls it."""


def model_code(depth: int) -> Any:
    """The code object @depth frames above the caller, past helpers in
    :data:`TRANSPARENT` (only when events record functions)."""
    f = _getframe(depth + 1)
    while f.f_code in TRANSPARENT and f.f_back is not None:
        f = f.f_back
    return f.f_code


# struct maple_node layouts (byte offsets of word arrays)
_RANGE = {"parent": 0, "pivot": 8, "slot": 128, "gap": 0, "meta": 248}
_ARANGE = {"parent": 0, "pivot": 8, "slot": 80, "gap": 160, "meta": 240}


class RawWords(list):  # type: ignore[type-arg]
    """A word array whose loads and stores are plain list operations, in C:
    the *private view* of a node whose watch bits are zero (see
    :func:`private_view`).  The base of every node word array."""

    __slots__ = ("_node", "_word")
    _node: SimMapleNode
    _word: str

    def raw(self) -> list[Any]:
        """The words without instrumentation (for the harness itself)."""
        return _lcopy(self)

    def __reduce__(self) -> Any:
        return (list, (self.raw(),))


class Words(RawWords):
    """One word array of a node (pivots, slots or gaps), instrumented."""

    __slots__ = ()

    def __getitem__(self, i: Any) -> Any:
        node = self._node
        w = node._w
        if not w:  # private and live: a plain load
            return _lget(self, i)
        ex = node._ex
        if not w & PUBLISHED or ex.quiet:  # unobserved: only poison counts
            if w & FREED:
                node._port.load_words(node, self, i)
            return _lget(self, i)
        if type(i) is not int:  # a slice: word by word, through the port
            return node._port.load_words(node, self, i)
        # An observed load, inline: InstrumentedPort.load_words's steps.
        if ex.lease:  # Execution._point_kept's first branch: the kept thread
            ex.lease -= 1
            ex.kept += 1
            ex.step += 1
            ex.decisions.append(ex.cur_tid)
        elif ex.access_hook is None or not ex.access_hook.wants_pending:
            ex.point()
        elif ex.watch_lease:  # the keeper's answer at a maple word: the current thread
            ex.watch_lease -= 1
            ex.step += 1
            ex.decisions.append(ex.cur_tid)
        else:  # a passive hook's pending access, for the strategy asked here
            t = ex.cur
            t.pending = maple_access(node.addr, self._word, i, False)
            ex.point()
            t.pending = None
        if node._w != PUBLISHED:  # retired or freed (checked after the point)
            node._port._dead_load(node, "Read", self._word, i)
        t = ex.cur
        lock = node._lock
        if not (t.rcu_nesting or lock is None or lock.owner is t or t.tid == 0):
            node._port.lockdep(node, f"{self._word}[{i}]", lock)
        value = _lget(self, i)
        if ex.record:
            ex.events.append((ex.step, ex.cur_tid, _LOAD, node.addr, self._word,
                              i, value, _getframe(1).f_code
                              if ex.record > 1 else None))
        cover = node._cover
        if cover and lock in cover and not t.write_ops:
            reader_load(ex.metrics, t, node, lock)
        return value

    def __setitem__(self, i: Any, value: Any) -> None:
        node = self._node
        w = node._w
        if not w:
            _lset(self, i, value)
            return
        if type(i) is not int:
            node._port.store_words(node, self, i, value)
            return
        # InstrumentedPort.store_words's steps, inline.
        ex = node._ex
        if w & PUBLISHED and not ex.quiet:
            if ex.lease:  # Execution._point_kept's first branch: the kept thread
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            elif ex.access_hook is None or not ex.access_hook.wants_pending:
                ex.point()
            elif ex.watch_lease:  # the keeper's answer (see __getitem__)
                ex.watch_lease -= 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:  # a passive hook's pending access (see __getitem__)
                t = ex.cur
                t.pending = maple_access(node.addr, self._word, i, True)
                ex.point()
                t.pending = None
            if node._w & FREED:
                node._port._uaf(node, "Write", self._word, i)
            lock = node._lock
            if lock is not None:
                for hook in ex.hooks.store:
                    hook(ex, ex.cur, node, self._word, i, value, lock)
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _STORE, node.addr,
                                  self._word, i, value, model_code(1)
                                  if ex.record > 1 else None))
        elif w & FREED:
            node._port._uaf(node, "Write", self._word, i)
        if node._w & PUBLISHED and value is not None and type(value) is not int:
            node._port.publish_value(node, value)
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


class QuietWords(RawWords):
    """The *quiet view* of a word array (see :func:`quiet_view`): loads are
    plain list operations, in C; stores take ``Words.__setitem__`` (poison
    test, publication)."""

    __slots__ = ()
    __setitem__ = Words.__setitem__


class SimMapleNode(MapleNode):
    """A maple node handed out by the instrumented port."""

    __slots__ = ("_cover", "_ex", "_lock", "_m", "_p", "_port", "_rec", "_w",
                 "port")

    _ex: Execution
    _cover: dict[Any, Any]
    """The execution's trees being written (coverage; see
    :mod:`rcu_harness.memory.coverage`)."""
    _rec: AllocRecord
    _p: int
    _m: MapleMetadata | None
    _w: int
    _port: InstrumentedPort
    _lock: SpinLock | None

    @property
    def parent(self) -> int:
        """The parent word (dead marker when it points at the node itself)."""
        w = self._w
        if not w:
            return self._p
        ex = self._ex
        if not w & PUBLISHED or ex.quiet:
            if w & FREED:
                self._port.load_word(self, "parent")
            return self._p
        # InstrumentedPort.load_word's steps, inline.
        if ex.lease:  # Execution._point_kept's first branch: the kept thread
            ex.lease -= 1
            ex.kept += 1
            ex.step += 1
            ex.decisions.append(ex.cur_tid)
        elif ex.access_hook is None or not ex.access_hook.wants_pending:
            ex.point()
        elif ex.watch_lease:  # the keeper's answer (see Words.__getitem__)
            ex.watch_lease -= 1
            ex.step += 1
            ex.decisions.append(ex.cur_tid)
        else:  # a passive hook's pending access (see Words.__getitem__)
            t = ex.cur
            t.pending = maple_access(self.addr, "parent", -1, False)
            ex.point()
            t.pending = None
        if self._w != PUBLISHED:
            self._port._dead_load(self, "Read", "parent", -1)
        t = ex.cur
        lock = self._lock
        if not (t.rcu_nesting or lock is None or lock.owner is t or t.tid == 0):
            self._port.lockdep(self, "parent", lock)
        value = self._p
        if ex.record:
            ex.events.append((ex.step, ex.cur_tid, _LOAD, self.addr, "parent", -1,
                              value, _getframe(1).f_code
                              if ex.record > 1 else None))
        cover = self._cover
        if cover and lock in cover and not t.write_ops:
            reader_load(ex.metrics, t, self, lock)
        if (value & _ADDR_MASK) == self.addr and (lock is None or lock.owner is not t):
            ex.count("reader_restart")  # a reader will restart: a spin, so
            ex.yield_point()  # other threads (the writer) progress first
        return value

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


class RawSimMapleNode(SimMapleNode):
    """A node in its private or quiet view: the parent and meta loads are
    plain attribute loads, in C; stores take :class:`SimMapleNode`'s
    setters (a parent store is where ``mte_set_node_dead()`` is seen)."""

    __slots__ = ()


for _word, _attr in (("parent", "_p"), ("meta", "_m")):
    setattr(RawSimMapleNode, _word, property(
        attrgetter(_attr), getattr(SimMapleNode, _word).fset,
        doc=f"The {_word} word, a plain load."))


# -- views ---------------------------------------------------------------------
# A node's classes say how its loads run; they always agree with what the
# instrumented classes would do in the node's state:
#
# * private view (RawSimMapleNode, RawWords): watch bits zero, where the
#   instrumented loads and stores are plain list operations anyway;
# * quiet view (RawSimMapleNode, QuietWords): not freed, and only while the
#   execution is quiet (setup, mt_validate()), where instrumented loads are
#   plain list operations after a poison test that cannot fire;
# * observed view (SimMapleNode, Words): everything else.
#
# The port moves a node between views when its state changes (allocation,
# publication, the end of setup, mt_validate(); the heap calls
# :func:`observed_view` when it frees or retires a node).  Nodes of the
# hooked classes (:mod:`rcu_harness.memory.access`) never change view.


def private_view(node: SimMapleNode) -> None:
    """Give @node (watch bits zero) plain loads and stores."""
    node.__class__ = RawSimMapleNode
    node.pivot.__class__ = node.slot.__class__ = node.gap.__class__ = RawWords


def quiet_view(node: SimMapleNode) -> None:
    """Give @node (not freed, execution quiet) plain loads."""
    node.__class__ = RawSimMapleNode
    node.pivot.__class__ = node.slot.__class__ = node.gap.__class__ = QuietWords


def observed_view(node: SimMapleNode) -> None:
    """Give @node the instrumented classes."""
    node.__class__ = SimMapleNode
    node.pivot.__class__ = node.slot.__class__ = node.gap.__class__ = Words


ON_WATCH[RawSimMapleNode] = observed_view


def _words(cls: type[RawWords], values: list[Any], node: SimMapleNode,
           word: str) -> Any:
    words = cls(values)
    words._node = node
    words._word = word
    return words


_PIVOTS = [0] * 15
_SLOTS: list[Any] = [None] * 16
_GAPS = [0] * 10


def new_node(port: InstrumentedPort, addr: int, heap: dict[int, Any],
             node_cls: type[SimMapleNode] = SimMapleNode,
             words_cls: type[RawWords] = Words) -> SimMapleNode:
    """A zeroed instrumented node at @addr (of the hooked classes of
    :mod:`rcu_harness.memory.access` when the execution has an access hook)."""
    node = _new_node(node_cls)
    node._w = 0
    node._p = 0
    node._m = None
    node._port = node.port = port
    node._ex = port.ex
    node._cover = port.writers
    node._lock = None
    node.addr = addr
    node.heap = heap
    node.type = 0
    node.pivot = _words(words_cls, _PIVOTS, node, "pivot")
    node.slot = _words(words_cls, _SLOTS, node, "slot")
    node.gap = _words(words_cls, _GAPS, node, "gap")
    heap[addr] = node
    return node
