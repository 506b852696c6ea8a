"""The memory port: the one interface through which maple/ reaches memory and RCU.

The model never allocates a node, takes a lock or queues an RCU callback on
its own: it asks the port of the tree (``mt.port``).  Node words are reached
through the node objects the port hands out, so a port decides what a load
or store of a node word costs:

* :class:`PassThroughPort` (the default) hands out plain :class:`MapleNode`
  objects: a load is a list index, and sequential use runs at full speed.
  Grace periods end when the caller says so (:meth:`rcu_barrier`), since a
  sequential caller has no concurrent readers.
* The harness's instrumented port (``rcu_harness.memory``) hands out nodes
  whose every word access is a scheduling point and is checked against the
  node's allocation state, and runs RCU as a simulated thread.

The tree words ``ma_root`` and ``ma_flags`` are loaded and stored through
:meth:`MemoryPort.root_load` and friends, for the same reason.

Memory barriers go to the port too, exactly where lib/maple_tree.c has
them: ``smp_wmb()`` in ``mte_set_node_dead()`` and ``smp_rmb()`` in
``ma_dead_node()``/``mte_dead_node()`` (through ``node.port``, the port that
allocated the node), ``rcu_assign_pointer()`` of a slot
(:meth:`MemoryPort.rcu_assign_pointer`) or of ``ma_root``
(:meth:`MemoryPort.root_store`, a release).  ``rcu_dereference()`` of a slot
or of ``ma_root`` is the plain load: under the harness's weak memory model
every load heads an address dependency, as ``READ_ONCE()`` does in the
kernel since v4.15, so it needs no call of its own.  lib/maple_tree.c uses
no ``smp_mb()``, ``smp_store_release()``, ``smp_load_acquire()``,
``READ_ONCE()`` or ``WRITE_ONCE()``.  A sequential port's barriers do
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from maple.node import NODE_SIZE, MapleNode, ma_dead_node

if TYPE_CHECKING:
    from maple.tree import MapleTree

RcuCallback = Callable[["MemoryPort", MapleNode], None]
"""An RCU callback: called by the port with itself and the node whose
rcu_head was queued (the kernel passes the rcu_head; the callback frees
through the port)."""

NODE_BASE = 0xFFFF_8880_0000_0000
"""Fake direct-map address of the first node a port allocates."""
TREE_BASE = 0xFFFF_C900_0000_0000
"""Fake address of the first tree a port initialises."""


@dataclass(frozen=True, slots=True)
class NodeAccounting:
    """What happened to the nodes a port handed out."""

    allocated: int
    """Nodes allocated and not yet freed (kmem_cache nr_allocated)."""
    dead_waiting: int
    """Of those, nodes marked dead and not yet freed (waiting for a grace
    period, or on an operation's list for reuse)."""
    rcu_callbacks: int
    """RCU callbacks queued and not yet run."""
    total_allocated: int
    """Every allocation ever made (nr_tallocated)."""
    freed: int
    """Every free ever made."""


class MemoryPort(Protocol):
    """Everything maple/ needs from the world outside the tree."""

    heap: dict[int, Any]

    def tree_init(self, mt: MapleTree) -> None:
        """Give @mt an address and register it in the heap."""

    def node_alloc(self, gfp: int) -> MapleNode | None:
        """kmem_cache_alloc(maple_node_cache, gfp): a zeroed node, or None."""

    def node_alloc_bulk(self, gfp: int, count: int) -> list[MapleNode]:
        """kmem_cache_alloc_bulk(): up to @count zeroed nodes."""

    def node_free(self, node: MapleNode) -> None:
        """kmem_cache_free(): the node's memory is gone."""

    def call_rcu(self, node: MapleNode, func: RcuCallback) -> None:
        """call_rcu(&node->rcu, func): run @func after a grace period."""

    def root_load(self, mt: MapleTree) -> object:
        """Load mt->ma_root."""

    def root_store(self, mt: MapleTree, value: object, *,
                   release: bool = True) -> None:
        """rcu_assign_pointer(mt->ma_root, value) (@release False: a plain
        WRITE_ONCE(), which only mutants do)."""

    def rcu_assign_pointer(self, words: Any, index: int, value: Any) -> None:
        """rcu_assign_pointer(words[index], value): a release store."""

    def smp_wmb(self) -> None:
        """smp_wmb()."""

    def smp_rmb(self) -> None:
        """smp_rmb()."""

    def smp_mb(self) -> None:
        """smp_mb()."""

    def flags_load(self, mt: MapleTree) -> int:
        """Load mt->ma_flags."""

    def flags_store(self, mt: MapleTree, value: int) -> None:
        """Store mt->ma_flags."""

    def mtree_lock(self, mt: MapleTree) -> None:
        """spin_lock(&mt->ma_lock)."""

    def mtree_unlock(self, mt: MapleTree) -> None:
        """spin_unlock(&mt->ma_lock)."""

    def rcu_read_lock(self) -> None:
        """rcu_read_lock()."""

    def rcu_read_unlock(self) -> None:
        """rcu_read_unlock()."""

    def might_sleep(self) -> None:
        """might_sleep(): a GFP_KERNEL allocation may block here."""

    def accounting(self) -> NodeAccounting:
        """Counts of allocated, dead and freed nodes."""


class PassThroughPort:
    """The sequential port: plain nodes, deferred RCU callbacks, no scheduler.

    Locks and read-side sections are checked for balance (a sequential caller
    that takes the tree lock twice would deadlock in the kernel), and
    sleeping inside a read-side section raises, as lockdep would splat.
    """

    def __init__(self) -> None:
        self.heap: dict[int, Any] = {}
        self.live: dict[int, MapleNode] = {}
        self.freed: set[int] = set()
        self.pending: list[tuple[MapleNode, RcuCallback]] = []
        self.locked: set[int] = set()
        self.rcu_nesting = 0
        self.total_allocated = 0
        self._next_node = NODE_BASE
        self._next_tree = TREE_BASE

    # -- memory ---------------------------------------------------------
    def tree_init(self, mt: MapleTree) -> None:
        """Give @mt an address and register it in the heap."""
        mt.addr = self._next_tree
        self._next_tree += NODE_SIZE
        self.heap[mt.addr] = mt

    def node_alloc(self, gfp: int) -> MapleNode | None:
        """A fresh zeroed node at the next fake address."""
        node = MapleNode(self._next_node, self.heap)
        self._next_node += NODE_SIZE
        self.live[node.addr] = node
        self.total_allocated += 1
        return node

    def node_alloc_bulk(self, gfp: int, count: int) -> list[MapleNode]:
        """@count fresh nodes."""
        return [n for n in (self.node_alloc(gfp) for _ in range(count)) if n]

    def node_free(self, node: MapleNode) -> None:
        """Free @node; a second free, or a free of a non-node, raises."""
        if not isinstance(node, MapleNode) or self.heap.get(node.addr) is not node:
            raise RuntimeError(f"kmem_cache_free of an invalid pointer {node!r}")
        if node.addr in self.freed:
            raise RuntimeError(f"double free of {node!r}")
        self.freed.add(node.addr)
        del self.live[node.addr]

    def call_rcu(self, node: MapleNode, func: RcuCallback) -> None:
        """Queue @func; it runs at the next rcu_barrier() or synchronize_rcu()."""
        rcu_head_init(node, func)
        self.pending.append((node, func))

    def rcu_barrier(self) -> int:
        """Run every queued callback (and those they queue); return how many."""
        ran = 0
        while self.pending:
            batch, self.pending = self.pending, []
            for node, func in batch:
                func(self, node)
                ran += 1
        return ran

    synchronize_rcu = rcu_barrier

    # -- tree words -----------------------------------------------------
    def root_load(self, mt: MapleTree) -> object:
        """mt->ma_root."""
        return mt.ma_root

    def root_store(self, mt: MapleTree, value: object, *,
                   release: bool = True) -> None:
        """mt->ma_root = value."""
        mt.ma_root = value

    def rcu_assign_pointer(self, words: Any, index: int, value: Any) -> None:
        """words[index] = value."""
        words[index] = value

    def smp_wmb(self) -> None:
        """Nothing to order sequentially."""

    def smp_rmb(self) -> None:
        """Nothing to order sequentially."""

    def smp_mb(self) -> None:
        """Nothing to order sequentially."""

    def flags_load(self, mt: MapleTree) -> int:
        """mt->ma_flags."""
        return mt.ma_flags

    def flags_store(self, mt: MapleTree, value: int) -> None:
        """mt->ma_flags = value."""
        mt.ma_flags = value

    # -- locking ----------------------------------------------------------
    def mtree_lock(self, mt: MapleTree) -> None:
        """Take the tree lock; taking it twice is a self-deadlock."""
        if mt.addr in self.locked:
            raise RuntimeError("mtree_lock: lock already held (self-deadlock)")
        self.locked.add(mt.addr)

    def mtree_unlock(self, mt: MapleTree) -> None:
        """Release the tree lock."""
        if mt.addr not in self.locked:
            raise RuntimeError("mtree_unlock: lock not held")
        self.locked.discard(mt.addr)

    def rcu_read_lock(self) -> None:
        """Enter a read-side critical section."""
        self.rcu_nesting += 1

    def rcu_read_unlock(self) -> None:
        """Leave a read-side critical section."""
        if not self.rcu_nesting:
            raise RuntimeError("rcu_read_unlock: not in a read-side section")
        self.rcu_nesting -= 1

    def might_sleep(self) -> None:
        """A blocking allocation inside rcu_read_lock() is a bug."""
        if self.rcu_nesting:
            raise RuntimeError("might_sleep() inside an RCU read-side section")

    # -- accounting -------------------------------------------------------
    def accounting(self) -> NodeAccounting:
        """Counts over the nodes this port handed out (walks the live ones)."""
        return NodeAccounting(
            allocated=len(self.live),
            dead_waiting=sum(1 for n in self.live.values() if ma_dead_node(n)),
            rcu_callbacks=len(self.pending),
            total_allocated=self.total_allocated,
            freed=len(self.freed),
        )


# -- the rcu_head overlay -----------------------------------------------------

RCU_FUNC_ADDR: dict[str, int] = {
    "mt_free_rcu": 0xFFFF_FFFF_8145_2A30,
    "mt_free_walk": 0xFFFF_FFFF_8145_2B90,
}
"""Fake text addresses of the RCU callbacks, written into a node's rcu_head."""


def rcu_head_init(node: MapleNode, func: RcuCallback) -> None:
    """call_rcu() writes head->next and head->func: pivots 0 and 1 of the node."""
    node.pivot[0] = 0
    node.pivot[1] = RCU_FUNC_ADDR.get(getattr(func, "__name__", ""), 1)
