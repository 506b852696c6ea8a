"""The instrumented memory port: the maple model running inside an execution.

Implements :class:`maple.port.MemoryPort`.  Nodes are
:class:`~rcu_harness.memory.maple_node.SimMapleNode` objects registered with
the execution's heap (allocation site, dead / freed states, KASAN reports);
``ma_root`` and ``ma_flags`` loads and stores are scheduling points; the
tree lock is a :class:`~rcu_harness.sync.spinlock.SpinLock`; RCU goes to the
execution's RCU model.

Publication (the private-node optimisation): a node is *published* when an
encoded pointer to it is stored into ``ma_root`` or into a slot of a
published node; publishing a subtree publishes its children.  Until then it
is private to the writer that allocated it: its accesses are not scheduling
points and record no events (no other thread can observe them), but are
still poison-checked.  Publication is sticky until the free, since readers
may hold pointers to a replaced node.  ``InstrumentedPort(ex,
private_nodes=False)`` publishes every node at allocation, for comparison.

Checks made here (loom style, with the object): use after free; lockdep-RCU
(a load from a published node, or of ``ma_root``, by a thread neither in a
read-side section nor holding the tree lock -- an external lock such as
mmap_lock counts when held for read too, as the kernel's ``mt_locked()``
asks only ``lock_is_held()``; ``rcu_gp`` running callbacks is
exempt); death records (a parent-word store of the node's own address is
``mte_set_node_dead()``); and the counter ``reader_restart`` (a thread not
holding the tree lock loads a parent word that marks the node dead).  Every
such load is followed by a yield point: the reader is about to restart its
walk, which only succeeds once the writer made progress, so every strategy
runs another thread first (see :mod:`rcu_harness.runtime.execution`).
Stores to published words are passed to the ``store`` / ``flags_store``
observer hooks (writer-lock and RCU-mode checkers).

Samples made here (:mod:`rcu_harness.runtime.metrics`): a reader's load of a
retired node (watch bit ``RETIRED``: dead or queued with ``call_rcu``) gives
its pipeline age (``rcu.retired_age``, ``rcu.pipe``), at no cost for live
nodes (one comparison replaces the ``FREED`` test); and while some thread is
inside a write operation on a tree (``writer_enter``/``writer_exit``, called
by ``h.writing()``), loads of that tree by other threads count coverage
pairs (:mod:`rcu_harness.memory.coverage`).

Cost: an observed node-word load is one Python call, inline in
:mod:`rcu_harness.memory.maple_node`; the general path of node words is
:class:`~rcu_harness.memory.node_words.NodeWordsPath` (slices, parent and
meta stores, freed nodes, hooked nodes).  A memory model or a strategy that
wants every thread's pending access sets ``ex.access_hook`` before setup
(:mod:`rcu_harness.memory.access`): the port then allocates hooked nodes,
and the tree words consult the hook too; without one, sequential
consistency pays one attribute test per tree-word access and nothing per
node-word access.  See docs/performance.md.

Node views (:mod:`rcu_harness.memory.maple_node`): a fresh private node
has plain loads and stores (in C) until it is published, retired or
freed; a node published during setup has plain loads until setup ends;
:meth:`InstrumentedPort.quiet_nodes` gives every unfreed node plain loads
for the span of a quiet checker (``mt_validate()``).

``with port.unobserved(): ...`` runs checker work (``mt_validate``, dumps)
without scheduling points, events or lock checks; poison checks stay.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from maple.defs import MT_FLAGS_LOCK_EXTERN, MT_FLAGS_LOCK_MASK
from maple.node import NODE_SIZE, MapleEnode, MapleNode
from maple.port import NodeAccounting, rcu_head_init
from rcu_harness.memory.access import HookedSimMapleNode, HookedWords
from rcu_harness.memory.coverage import reader_load, writer_enter, writer_exit
from rcu_harness.memory.heap import FREED, PUBLISHED
from rcu_harness.memory.lockdep import suspicious_rcu_usage
from rcu_harness.memory.maple_node import (
    TRANSPARENT,
    RawSimMapleNode,
    RawWords,
    SimMapleNode,
    new_node,
    observed_view,
    quiet_view,
)
from rcu_harness.memory.node_words import NodeWordsPath, _code
from rcu_harness.memory.records import AllocState
from rcu_harness.rcu import api as rcu_api
from rcu_harness.runtime.pending import maple_access
from rcu_harness.runtime.thread import Phase
from rcu_harness.sync.sleep import check_may_sleep
from rcu_harness.sync.spinlock import SpinLock, spin_lock_ex, spin_unlock_ex
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maple.port import RcuCallback
    from maple.tree import MapleTree
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

_RUN = Phase.RUN
_LOAD = EventKind.LOAD.value
_STORE = EventKind.STORE.value
_SCHEDULE = EventKind.SCHEDULE.value
_getframe = sys._getframe
_lget = list.__getitem__
_lset = list.__setitem__
_ADDR_MASK = ~0xFF
TREE_BASE = 0xFFFF_C900_0000_0000


class InstrumentedPort(NodeWordsPath):
    """MemoryPort whose every observable access is a scheduling point."""

    def __init__(self, ex: Execution, *, private_nodes: bool = True) -> None:
        self.ex = ex
        self.private_nodes = private_nodes
        self.heap: dict[int, Any] = ex.heap.objects
        self.locks: dict[int, SpinLock] = {}
        self.external: dict[int, Any] = {}
        """External locks of trees with MT_FLAGS_LOCK_EXTERN (tree addr -> lock)."""
        self.trees: list[MapleTree] = []
        self._next_tree = TREE_BASE
        self.writers = ex.metrics.writers
        """Trees being written (coverage; see :mod:`rcu_harness.memory.coverage`)."""
        self.nodes: list[SimMapleNode] = []
        """The nodes of the plain classes this port allocated (freed ones
        dropped at each :meth:`quiet_nodes`)."""
        self.setup_quiet: list[SimMapleNode] = []
        """Nodes published during setup, in their quiet view until it ends."""
        if ex.phase is Phase.SETUP:
            ex.after_setup.append(self._setup_done)
        mm = ex.memory_model
        if mm is not None:
            self.smp_wmb = mm.smp_wmb  # type: ignore[method-assign]
            self.smp_rmb = mm.smp_rmb  # type: ignore[method-assign]
            self.smp_mb = mm.smp_mb  # type: ignore[method-assign]

    # -- memory ------------------------------------------------------------
    def tree_init(self, mt: MapleTree) -> None:
        """Give @mt an address and its lock."""
        mt.addr = self._next_tree
        self._next_tree += NODE_SIZE
        self.heap[mt.addr] = mt
        self.locks[mt.addr] = SpinLock(f"{mt.name}->ma_lock")
        self.trees.append(mt)

    def tree_lock(self, mt: MapleTree) -> Any:
        """The lock that protects @mt's writers: its spinlock, or the external
        lock set with :meth:`set_external_lock` (None if there is none)."""
        if mt.ma_flags & MT_FLAGS_LOCK_MASK == MT_FLAGS_LOCK_EXTERN:
            return self.external.get(mt.addr)
        return self.locks[mt.addr]

    def writer_enter(self, mt: MapleTree, t: SimThread) -> None:
        """@t starts a write operation on @mt (for interleaving coverage)."""
        if mt.addr in self.locks:
            writer_enter(self.ex.metrics, self.tree_lock(mt), t)

    def writer_exit(self, mt: MapleTree, t: SimThread) -> None:
        """@t completed its write operation on @mt."""
        if mt.addr in self.locks:
            writer_exit(self.ex.metrics, self.tree_lock(mt), t)

    def set_external_lock(self, mt: MapleTree, lock: Any) -> None:
        """mt_set_external_lock(): @lock (an rwsem held for write, such as
        mmap_lock) protects @mt, which has MT_FLAGS_LOCK_EXTERN."""
        self.external[mt.addr] = lock

    def node_alloc(self, gfp: int) -> SimMapleNode | None:
        """kmem_cache_alloc(): a fresh zeroed, private node."""
        heap = self.ex.heap
        hook = self.ex.access_hook
        if hook is None or hook.passive:
            if self.private_nodes:
                node = new_node(self, heap.new_addr(NODE_SIZE), self.heap,
                                RawSimMapleNode, RawWords)
            else:
                node = new_node(self, heap.new_addr(NODE_SIZE), self.heap)
            self.nodes.append(node)
        else:
            node = new_node(self, heap.new_addr(NODE_SIZE), self.heap,
                            HookedSimMapleNode, HookedWords)
        node._rec = heap.register(node, node.addr, NODE_SIZE, "maple_node")
        if not self.private_nodes:
            node._w |= PUBLISHED
        return node

    def node_alloc_bulk(self, gfp: int, count: int) -> list[MapleNode]:
        """kmem_cache_alloc_bulk(): @count fresh nodes."""
        return [n for n in (self.node_alloc(gfp) for _ in range(count)) if n]

    def node_free(self, node: Any) -> None:
        """kmem_cache_free(): a scheduling point, then the free."""
        ex = self.ex
        if ex.in_threads:
            ex.point()
        ex.heap.free(node)

    def call_rcu(self, node: Any, func: RcuCallback) -> None:
        """call_rcu(&node->rcu, func): write the rcu_head, queue the callback."""
        rcu_head_init(node, func)

        def callback(obj: Any) -> None:
            func(self, obj)

        callback.__name__ = getattr(func, "__name__", "callback")
        rcu_api.call_rcu_ex(self.ex, node, callback)

    def rcu_barrier(self) -> None:
        """rcu_barrier(), usable from a simulated thread."""
        rcu_api.rcu_barrier_ex(self.ex)

    def synchronize_rcu(self) -> None:
        """synchronize_rcu(), usable from a simulated thread."""
        rcu_api.synchronize_rcu_ex(self.ex)

    # -- tree words -------------------------------------------------------------
    @staticmethod
    def _watched_point(ex: Execution, addr: int, word: str, store: bool) -> None:
        """The scheduling point of a tree word access (@word of the tree at
        @addr) under a hook that wants pending accesses: the keeper's
        answer under a watch lease, else the point with the pending access."""
        if ex.watch_lease:  # the keeper's answer at a maple word
            ex.watch_lease -= 1
            ex.step += 1
            ex.decisions.append(ex.cur_tid)
        else:
            ex.cur.pending = maple_access(addr, word, -1, store)
            ex.point()

    def root_load(self, mt: MapleTree) -> object:
        """rcu_dereference(mt->ma_root)."""
        ex = self.ex
        if ex.phase is not _RUN or ex.quiet:  # not ex.in_threads
            return mt.ma_root
        hook = ex.access_hook
        if hook is None or not hook.wants_pending:
            ex.point()
        else:
            self._watched_point(ex, mt.addr, "ma_root", False)
        t = ex.cur
        lock = self.tree_lock(mt)
        value = shown = mt.ma_root
        if hook is not None:
            if not hook.passive:
                value = shown = hook.load(ex, mt, "ma_root", -1, value)
                if hook.last_read is not None:
                    shown = hook.last_read
            t.pending = None
        if not (t.rcu_nesting or lock is None or lock.owner is t or t.tid == 0
                or t in getattr(lock, "readers", ())):
            ex.fail(suspicious_rcu_usage(ex, mt, "ma_root", lock))
        if ex.record:
            ex.emit(_LOAD, mt.addr, "ma_root", -1, shown, _code(ex, 2))
        if self.writers and lock in self.writers and not t.write_ops:
            reader_load(ex.metrics, t, None, lock)
        return value

    def root_store(self, mt: MapleTree, value: object, *,
                   release: bool = True) -> None:
        """rcu_assign_pointer(mt->ma_root, value): publishes the new root
        (@release False: a plain WRITE_ONCE(), for the barrier mutants)."""
        ex = self.ex
        lock = self.tree_lock(mt)
        if ex.in_threads:
            access = ex.access_hook
            if access is None or not access.wants_pending:
                ex.point()
            else:
                self._watched_point(ex, mt.addr, "ma_root", True)
            for hook in ex.hooks.store:
                hook(ex, ex.cur, mt, "ma_root", -1, value, lock)
            if access is not None:
                mm = ex.memory_model
                if release and mm is not None:
                    mm.release_next()
                if not access.passive:
                    access.store(ex, mt, "ma_root", -1, value)
                ex.cur.pending = None
            ex.emit(_STORE, mt.addr, "ma_root", -1, value, _code(ex, 2))
        if type(value) is MapleEnode:
            self.publish(cast("SimMapleNode", value[0]), lock)
        mt.ma_root = value

    def flags_load(self, mt: MapleTree) -> int:
        """mt->ma_flags."""
        ex = self.ex
        if ex.phase is not _RUN or ex.quiet:  # not ex.in_threads
            return mt.ma_flags
        hook = ex.access_hook
        if hook is None or not hook.wants_pending:
            ex.point()
        else:
            self._watched_point(ex, mt.addr, "ma_flags", False)
        value = mt.ma_flags
        shown: object = value
        if hook is not None:
            if not hook.passive:
                value = shown = hook.load(ex, mt, "ma_flags", -1, value)
                if hook.last_read is not None:
                    shown = hook.last_read
            ex.cur.pending = None
        if ex.record:
            ex.emit(_LOAD, mt.addr, "ma_flags", -1, shown, _code(ex, 2))
        return value

    def flags_store(self, mt: MapleTree, value: int) -> None:
        """mt->ma_flags = value."""
        ex = self.ex
        if ex.in_threads:
            access = ex.access_hook
            if access is None or not access.wants_pending:
                ex.point()
            else:
                self._watched_point(ex, mt.addr, "ma_flags", True)
            lock = self.tree_lock(mt)
            for hook in ex.hooks.store:
                hook(ex, ex.cur, mt, "ma_flags", -1, value, lock)
            for fhook in ex.hooks.flags_store:
                fhook(ex, ex.cur, mt, mt.ma_flags, value, lock)
            if access is not None:
                if not access.passive:
                    access.store(ex, mt, "ma_flags", -1, value)
                ex.cur.pending = None
            ex.emit(_STORE, mt.addr, "ma_flags", -1, value, _code(ex, 2))
        mt.ma_flags = value

    # -- barriers -----------------------------------------------------------------
    # Under sequential consistency a barrier orders nothing: these are the
    # no-ops; a memory model installed before the port was made replaces
    # them per port (__init__), so sc never tests for one.
    def smp_wmb(self) -> None:
        """smp_wmb()."""

    def smp_rmb(self) -> None:
        """smp_rmb()."""

    def smp_mb(self) -> None:
        """smp_mb()."""

    def rcu_assign_pointer(self, words: Any, index: int, value: Any) -> None:
        """rcu_assign_pointer(words[index], value): a release store."""
        mm = self.ex.memory_model
        if mm is None:
            words[index] = value
            return
        mm.release_next()
        words[index] = value
        mm.plain_next()  # consumed by the store, or it did not reach the model

    # -- locking and RCU ----------------------------------------------------------
    def mtree_lock(self, mt: MapleTree) -> None:
        """spin_lock(&mt->ma_lock)."""
        spin_lock_ex(self.ex, self.locks[mt.addr])

    def mtree_unlock(self, mt: MapleTree) -> None:
        """spin_unlock(&mt->ma_lock)."""
        spin_unlock_ex(self.ex, self.locks[mt.addr])

    def rcu_read_lock(self) -> None:
        """rcu_read_lock()."""
        rcu_api.rcu_read_lock_ex(self.ex)

    def rcu_read_unlock(self) -> None:
        """rcu_read_unlock()."""
        rcu_api.rcu_read_unlock_ex(self.ex)

    def might_sleep(self) -> None:
        """might_sleep(): a GFP_KERNEL allocation may block here."""
        ex = self.ex
        check_may_sleep(ex, "might_sleep()")
        ex.point()
        ex.emit(_SCHEDULE, 0, "might_sleep")

    def _setup_done(self) -> None:
        """The threads start: nodes published during setup get observed."""
        for node in self.setup_quiet:
            observed_view(node)
        self.setup_quiet = []

    def quiet_nodes(self) -> list[SimMapleNode]:
        """Put every observed, unfreed node in its quiet view (for a checker
        about to run with the execution quiet, such as ``mt_validate()``);
        returns them, for :meth:`observe_again` when it is done."""
        nodes = self.nodes = [n for n in self.nodes if not n._w & FREED]
        quiet = [n for n in nodes if type(n) is SimMapleNode]
        for node in quiet:
            quiet_view(node)
        return quiet

    @staticmethod
    def observe_again(nodes: list[SimMapleNode]) -> None:
        """Undo :meth:`quiet_nodes`."""
        for node in nodes:
            observed_view(node)

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """No scheduling points, events or lock checks inside (poison stays)."""
        self.ex.quiet += 1
        try:
            yield
        finally:
            self.ex.quiet -= 1

    # -- accounting -----------------------------------------------------------------
    def accounting(self) -> NodeAccounting:
        """Counts over every node this execution's heap handed out."""
        heap = self.ex.heap
        nodes = [r for r in heap.records.values() if r.type_name == "maple_node"]
        live = [r for r in nodes if r.state is not AllocState.FREED]
        return NodeAccounting(
            allocated=len(live),
            dead_waiting=sum(1 for r in live if r.state is AllocState.DEAD),
            rcu_callbacks=len(self.ex.rcu.pending),
            total_allocated=len(nodes),
            freed=len(nodes) - len(live),
        )


TRANSPARENT.add(InstrumentedPort.rcu_assign_pointer.__code__)
