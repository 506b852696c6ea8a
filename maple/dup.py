"""Duplicating a tree node by node: __mt_dup() and mtree_dup().

Since Linux 6.8 dup_mmap() copies the parent's tree shape in one pass with
__mt_dup() (DFS pre-order, memcpy of each node, children allocated in bulk)
instead of storing VMA by VMA; the modern design of the scenarios uses it.
"""

from __future__ import annotations

from maple.defs import EINVAL, ENOMEM, GFP_KERNEL, ULONG_MAX, ma_none
from maple.node import (
    MapleEnode,
    mt_mk_node,
    mte_is_leaf,
    mte_is_root,
    node_copy,
)
from maple.state import (
    MaState,
    mas_is_err,
    mas_is_none,
    mas_is_ptr,
    mas_set_err,
    xa_err,
)
from maple.tree import MapleTree, mt_attr, mtree_empty
from maple.walk import mas_ascend, mas_data_end, mas_descend, mas_start, mas_tree_parent


def mas_copy_node(mas: MaState, new_mas: MaState, parent: int) -> None:
    """Model of mas_copy_node(): copy the node, keeping the slot bits of the
    parent word and replacing its address with @parent."""
    node = mas.node[0]
    new_node = new_mas.node[0]
    node_copy(new_node, node)
    val = node.parent & 0xFF
    new_node.parent = val | parent


def mas_dup_alloc(mas: MaState, new_mas: MaState, gfp: int) -> None:
    """Model of mas_dup_alloc(): allocate the children of the new node."""
    node = mas.node[0]
    new_node = new_mas.node[0]
    request = mas_data_end(mas) + 1
    port = new_mas.tree.port
    if gfp & 0x400:
        port.might_sleep()
    nodes = port.node_alloc_bulk(gfp, request)
    if len(nodes) < request:
        for child in nodes:
            port.node_free(child)
        new_node.slot[:request] = [None] * request
        mas_set_err(mas, -ENOMEM)
        return
    # Restore node type information in slots.
    for i, child in enumerate(nodes):
        old = node.slot[i]
        new_node.slot[i] = mt_mk_node(child, old[1])


def mas_dup_build(mas: MaState, new_mas: MaState, gfp: int) -> None:
    """Model of mas_dup_build(): build the new tree in DFS pre-order."""
    if mt_attr(mas.tree) != mt_attr(new_mas.tree) or not mtree_empty(new_mas.tree):
        mas_set_err(mas, -EINVAL)
        return
    root = mas_start(mas)
    new_port = new_mas.tree.port
    if not (mas_is_ptr(mas) or mas_is_none(mas)):
        node = new_port.node_alloc(gfp)
        if node is None:
            new_mas.status = ma_none
            mas_set_err(mas, -ENOMEM)
            return
        root = mt_mk_node(node, mas.node[1])
        new_mas.node = root
        new_mas.min = 0
        new_mas.max = ULONG_MAX
        parent = 0
        while True:
            mas_copy_node(mas, new_mas, parent)
            if not mte_is_leaf(mas.node):
                # Only allocate child nodes for non-leaf nodes.
                mas_dup_alloc(mas, new_mas, gfp)
                if mas_is_err(mas):
                    return
            else:
                # This is the last leaf node and duplication is completed.
                if mas.max == ULONG_MAX:
                    break
                # This is not the last leaf node and needs to go up.
                while True:
                    mas_ascend(mas)
                    mas_ascend(new_mas)
                    if mas.offset != mas_data_end(mas):
                        break
                # Move to the next subtree.
                mas.offset += 1
                new_mas.offset += 1
            mas_descend(mas)
            parent = new_mas.node[0].addr
            mas_descend(new_mas)
            mas.offset = 0
            new_mas.offset = 0
        # Specially handle the parent of the root node.
        root[0].parent = mas_tree_parent(new_mas)
    # Make them the same height.
    new_mt = new_mas.tree
    new_port.flags_store(new_mt, mas.tree.port.flags_load(mas.tree))
    new_port.root_store(new_mt, root)


def mas_dup_free(mas: MaState) -> None:
    """Model of mas_dup_free(): free an incomplete duplicate."""
    if mas_is_none(mas):
        return
    port = mas.tree.port
    while not mte_is_root(mas.node):
        mas_ascend(mas)
        if mas.offset:
            mas.offset -= 1
            while True:
                mas_descend(mas)
                mas.offset = mas_data_end(mas)
                if mte_is_leaf(mas.node):
                    break
            mas_ascend(mas)
        node = mas.node[0]
        count = mas_data_end(mas) + 1
        for i in range(count):
            child = node.slot[i]
            port.node_free(child[0] if isinstance(child, MapleEnode) else child)
    port.node_free(mas.node[0])


def __mt_dup(mt: MapleTree, new: MapleTree, gfp: int = GFP_KERNEL) -> int:
    """Model of __mt_dup(): duplicate @mt into the empty @new (caller locks)."""
    mas = MaState(mt, 0, 0)
    new_mas = MaState(new, 0, 0)
    mas_dup_build(mas, new_mas, gfp)
    if mas_is_err(mas):
        ret = xa_err(mas.node)
        if ret == -ENOMEM:
            mas_dup_free(new_mas)
        return ret
    return 0


def mtree_dup(mt: MapleTree, new: MapleTree, gfp: int = GFP_KERNEL) -> int:
    """Model of mtree_dup(): __mt_dup() taking both tree locks."""
    mas = MaState(mt, 0, 0)
    new_mas = MaState(new, 0, 0)
    new.port.mtree_lock(new)
    mt.port.mtree_lock(mt)
    mas_dup_build(mas, new_mas, gfp)
    mt.port.mtree_unlock(mt)
    ret = 0
    if mas_is_err(mas):
        ret = xa_err(mas.node)
        if ret == -ENOMEM:
            mas_dup_free(new_mas)
    new.port.mtree_unlock(new)
    return ret


__all__ = ["__mt_dup", "mtree_dup"]

