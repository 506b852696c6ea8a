"""Node allocation for an operation: the ma_state's list of preallocated nodes.

The kernel chains preallocated nodes through the nodes themselves
(``struct maple_alloc``); the model keeps them in a Python list used as a
stack, which pops and pushes in the same order the kernel does for every
count the tree asks for.  Running out of preallocated nodes is a bug in the
kernel (a WARN_ON and a NULL dereference); the model raises
:class:`MaplePreallocExhausted`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.defs import (
    __GFP_NOWARN,
    ENOMEM,
    GFP_NOWAIT,
    MA_STATE_PREALLOC,
    gfpflags_allow_blocking,
    ma_start,
)
from maple.node import MapleBug, MapleWarning, ma_dead_node, node_zero
from maple.state import MA_ERROR, MaState, mas_set_err
from maple.tree import mt_external_lock, mt_in_rcu

if TYPE_CHECKING:
    from maple.node import MapleEnode, MapleNode
    from maple.port import MemoryPort
    from maple.tree import MapleTree


class MaplePreallocExhausted(Exception):
    """mas_pop_node() found no preallocated node (WARN_ON(!total) in the kernel)."""


def mas_allocated(mas: MaState) -> int:
    """Model of mas_allocated(): nodes held by the state."""
    return len(mas.alloc)


def mas_set_alloc_req(mas: MaState, count: int) -> None:
    """Model of mas_set_alloc_req()."""
    mas.alloc_req = count


def mas_alloc_req(mas: MaState) -> int:
    """Model of mas_alloc_req()."""
    return mas.alloc_req


def mas_pop_node(mas: MaState) -> MapleNode:
    """Model of mas_pop_node(): take a preallocated node and zero it."""
    if not mas.alloc:
        raise MaplePreallocExhausted(
            f"mas_pop_node: no preallocated node left (requested {mas.alloc_req})")
    node = mas.alloc.pop()
    if mas.alloc_req:
        mas.alloc_req += 1
    node_zero(node)
    node.type = 0
    return node


def mas_push_node(mas: MaState, used: MapleNode) -> None:
    """Model of mas_push_node(): give a node back to the state for reuse."""
    requested = mas.alloc_req
    mas.alloc.append(used)
    if requested > 1:
        mas.alloc_req = requested - 1


def mas_alloc_nodes(mas: MaState, gfp: int) -> None:
    """Model of mas_alloc_nodes(): allocate the requested number of nodes."""
    requested = mas.alloc_req
    if not requested:
        return
    mas.alloc_req = 0
    if mas.mas_flags & MA_STATE_PREALLOC:
        if mas.alloc:
            return
        raise MapleBug("mas_alloc_nodes", "!allocated",
                       f"a preallocated state asks for {requested} more nodes "
                       "and holds none")
    port = mas.tree.port
    if gfpflags_allow_blocking(gfp):
        port.might_sleep()
    nodes = port.node_alloc_bulk(gfp, requested)
    mas.alloc.extend(nodes)
    if len(nodes) < requested:
        mas.alloc_req = requested - len(nodes)
        mas_set_err(mas, -ENOMEM)


def mas_node_count_gfp(mas: MaState, count: int, gfp: int) -> None:
    """Model of mas_node_count_gfp(): make sure @count nodes are allocated."""
    allocated = len(mas.alloc)
    if allocated < count:
        mas.alloc_req = count - allocated
        mas_alloc_nodes(mas, gfp)


def mas_node_count(mas: MaState, count: int) -> None:
    """Model of mas_node_count(): GFP_NOWAIT | __GFP_NOWARN."""
    mas_node_count_gfp(mas, count, GFP_NOWAIT | __GFP_NOWARN)


def mas_nomem(mas: MaState, gfp: int) -> bool:
    """Model of mas_nomem(): after -ENOMEM, allocate (maybe dropping the lock)."""
    if mas.node != MA_ERROR(-ENOMEM):
        return False
    mt = mas.tree
    if gfpflags_allow_blocking(gfp) and not mt_external_lock(mt):
        mt.port.mtree_unlock(mt)
        mas_alloc_nodes(mas, gfp)
        mt.port.mtree_lock(mt)
    else:
        mas_alloc_nodes(mas, gfp)
    if not mas.alloc:
        return False
    mas.status = ma_start
    return True


def mt_free_one(mt: MapleTree, node: MapleNode) -> None:
    """Model of mt_free_one(): kmem_cache_free()."""
    mt.port.node_free(node)


def mt_free_rcu(port: MemoryPort, node: MapleNode) -> None:
    """Model of mt_free_rcu(): the RCU callback that frees one node."""
    port.node_free(node)


def _freed_alive(node: MapleNode) -> MapleWarning:
    """ma_free_rcu()'s ``WARN_ON(node->parent != ma_parent_ptr(node))``."""
    return MapleWarning(
        "ma_free_rcu", "node->parent != ma_parent_ptr(node)",
        "a node freed that is not dead",
        f"{node!r} is not marked dead (its parent word does not point at "
        "itself): the kernel queues it with call_rcu() all the same, and a "
        "reader that reaches it before the grace period ends cannot tell.",
        node=node)


def ma_free_rcu(mt: MapleTree, node: MapleNode) -> None:
    """Model of ma_free_rcu(): free a dead node after a grace period."""
    if not ma_dead_node(node):
        raise _freed_alive(node)
    mt.port.call_rcu(node, mt_free_rcu)


def mas_free(mas: MaState, used: MapleEnode) -> None:
    """Model of mas_free(): RCU-free in RCU mode, else push back for reuse."""
    tmp = used[0]
    if mt_in_rcu(mas.tree):
        ma_free_rcu(mas.tree, tmp)
    else:
        mas_push_node(mas, tmp)


def free_preallocated(mas: MaState) -> None:
    """The freeing loop of mas_destroy(): free every node still held."""
    port = mas.tree.port
    while mas.alloc:
        port.node_free(mas.alloc.pop())
