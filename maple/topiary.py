"""Replacing nodes and disposing of the old ones (lib/maple_tree.c).

A write that replaces nodes publishes the new node first
(``rcu_assign_pointer`` into the parent slot or ``ma_root``) and only then
marks the old one dead.  Old nodes are freed through RCU in RCU mode, or
pushed back on the operation's list for reuse otherwise.  Whole dead
subtrees are marked dead level by level and freed by a walk that runs after
the grace period (``mt_free_walk``) in RCU mode, or at once.

Dead-node bookkeeping is written where the kernel writes it: the topiary
``next`` pointer over pivot 0, ``piv_parent``/``parent_slot``/``type``/
``slot_len`` over pivots 2-4, and leaf pointers rewritten without their type
bits (``mte_dead_leaves``).

Not modelled: ``mte_dead_walk()`` reads ``next->type`` through a slot value
that, for internal children, still carries its type bits, so the kernel
reads the type word at a small offset; the model reads the intended field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.alloc import ma_free_rcu, mas_free, mas_push_node
from maple.defs import ma_none, mt_slots
from maple.gap import mas_update_gap
from maple.node import (
    MapleEnode,
    MapleNode,
    MapleWarning,
    dead_parent_slot,
    dead_set_info,
    dead_set_slot_len,
    dead_set_type,
    dead_slot_len,
    dead_type,
    enode_from_word,
    enode_word,
    ma_is_leaf,
    mt_clear_meta,
    mt_mk_node,
    mte_dead_node,
    mte_is_leaf,
    mte_is_root,
    mte_parent,
    mte_parent_slot,
    mte_set_node_dead,
)
from maple.state import MaState, mas_is_none
from maple.tree import mt_in_rcu
from maple.walk import (
    ma_data_end,
    mas_descend,
    mas_set_height,
    mas_set_parent,
    mas_tree_parent,
)

if TYPE_CHECKING:
    from collections.abc import MutableSequence

    from maple.port import MemoryPort
    from maple.tree import MapleTree


def mas_adopt_children(mas: MaState, parent: MapleEnode) -> None:
    """Model of mas_adopt_children(): point every child's parent word at @parent."""
    node = parent[0]
    slots = node.slot
    offset = ma_data_end(node, parent[1], node.pivot, mas.max)
    while True:
        child = slots[offset]
        mas_set_parent(mas, child, parent, offset)
        if not offset:
            break
        offset -= 1


def mas_put_in_tree(mas: MaState, old_enode: MapleEnode) -> None:
    """Model of mas_put_in_tree(): publish mas->node, then mark @old_enode dead."""
    mt = mas.tree
    enode = mas.node
    if mte_is_root(enode):
        enode[0].parent = mas_tree_parent(mas)
        mt.port.root_store(mt, enode)
        mas_set_height(mas)
    else:
        offset = mte_parent_slot(enode)
        mt.port.rcu_assign_pointer(mte_parent(enode).slot, offset, enode)
    mte_set_node_dead(old_enode)


def mas_replace_node(mas: MaState, old_enode: MapleEnode) -> None:
    """Model of mas_replace_node(): put the new node in the tree, free the old."""
    mas_put_in_tree(mas, old_enode)
    mas_free(mas, old_enode)


def mas_find_child(mas: MaState, child: MaState) -> bool:
    """Model of mas_find_child(): find the next child whose parent is mas->node."""
    enode = mas.node
    node = enode[0]
    slots = node.slot
    end = ma_data_end(node, enode[1], node.pivot, mas.max)
    offset = mas.offset
    while offset <= end:
        entry = slots[offset]
        if mte_parent(entry) is node:
            child.assign(mas)
            mas.offset = offset + 1
            child.offset = offset
            mas_descend(child)
            child.offset = 0
            return True
        offset += 1
    return False


class MaTopiary:
    """struct ma_topiary: a list of dead subtrees to destroy."""

    __slots__ = ("head", "mtree", "tail")

    def __init__(self, mt: MapleTree) -> None:
        self.head: MapleEnode | None = None
        self.tail: MapleEnode | None = None
        self.mtree = mt


def mat_add(mat: MaTopiary, dead_enode: MapleEnode) -> None:
    """Model of mat_add(): mark @dead_enode dead and append it to the list."""
    mte_set_node_dead(dead_enode)
    dead_enode[0].pivot[0] = 0  # mte_to_mat(dead_enode)->next = NULL
    if mat.tail is None:
        mat.tail = mat.head = dead_enode
        return
    mat.tail[0].pivot[0] = enode_word(dead_enode)
    mat.tail = dead_enode


def mas_mat_destroy(mas: MaState, mat: MaTopiary) -> None:
    """Model of mas_mat_destroy(): destroy every subtree on the dead list."""
    mt = mas.tree
    in_rcu = mt_in_rcu(mt)
    while mat.head is not None:
        head = mat.head
        word = head[0].pivot[0]
        nxt = enode_from_word(head[0].heap, word) if word else None
        mt_destroy_walk(head, mt, not in_rcu)
        if in_rcu:
            mt.port.call_rcu(head[0], mt_free_walk)
        mat.head = nxt


def mas_topiary_node(mas: MaState, tmp_mas: MaState, in_rcu: bool) -> None:
    """Model of mas_topiary_node(): dispose of one replaced node."""
    if mas_is_none(tmp_mas):
        return
    enode = tmp_mas.node
    tmp = enode[0]
    mte_set_node_dead(enode)
    if in_rcu:
        ma_free_rcu(mas.tree, tmp)
    else:
        mas_push_node(mas, tmp)


def _none_state(mas: MaState) -> MaState:
    """A state with status ma_none (the kernel leaves the rest uninitialised)."""
    tmp = MaState(mas.tree)
    tmp.status = ma_none
    return tmp


def _no_children(mas: MaState, which: str) -> None:
    """mas_topiary_replace()'s ``MAS_WARN_ON(mas, n == 0)``: a level of the
    @which subtree, above its leaves, whose nodes gave no child to go on
    with (the kernel stops its walk there)."""
    raise MapleWarning(
        "mas_topiary_replace", "n == 0", f"no child below a level of the {which} "
        "subtree", f"the walk down the {which} subtree found no child to go on "
        f"with below a level that is not the leaves (store of [{mas.index:#x}, "
        f"{mas.last:#x}]); the kernel stops the walk there.", macro="MAS_WARN_ON")


def mas_topiary_replace(mas: MaState, old_enode: MapleEnode) -> None:
    """Model of mas_topiary_replace(): publish a new subtree, repair parent
    links below it, and dispose of the old subtree."""
    subtrees = MaTopiary(mas.tree)
    mas_put_in_tree(mas, old_enode)

    # Update the parent pointers in the tree.
    tmp = [mas.copy(), _none_state(mas), _none_state(mas)]
    tmp[0].offset = 0
    tmp_next = [_none_state(mas) for _ in range(3)]
    while not mte_is_leaf(tmp[0].node):
        n = 0
        for i in range(3):
            if mas_is_none(tmp[i]):
                continue
            while n < 3:
                if not mas_find_child(tmp[i], tmp_next[n]):
                    break
                n += 1
            mas_adopt_children(tmp[i], tmp[i].node)
        if n == 0:
            _no_children(mas, "new")
        while n < 3:
            tmp_next[n].status = ma_none
            n += 1
        for i in range(3):
            tmp[i].assign(tmp_next[i])

    # Collect the old nodes that need to be discarded.
    if mte_is_leaf(old_enode):
        mas_free(mas, old_enode)
        return
    tmp[0].assign(mas)
    tmp[0].offset = 0
    tmp[0].node = old_enode
    tmp[1].status = ma_none
    tmp[2].status = ma_none
    in_rcu = mt_in_rcu(mas.tree)
    while True:
        n = 0
        for i in range(3):
            if mas_is_none(tmp[i]):
                continue
            while n < 3:
                if not mas_find_child(tmp[i], tmp_next[n]):
                    break
                if tmp_next[n].min >= tmp_next[0].index and \
                        tmp_next[n].max <= tmp_next[0].last:
                    mat_add(subtrees, tmp_next[n].node)
                    tmp_next[n].status = ma_none
                else:
                    n += 1
        if n == 0:
            _no_children(mas, "old")
        while n < 3:
            tmp_next[n].status = ma_none
            n += 1
        for i in range(3):
            mas_topiary_node(mas, tmp[i], in_rcu)
            tmp[i].assign(tmp_next[i])
        if mte_is_leaf(tmp[0].node):
            break
    for i in range(3):
        mas_topiary_node(mas, tmp[i], in_rcu)
    mas_mat_destroy(mas, subtrees)


def mas_wmb_replace(mas: MaState, old_enode: MapleEnode) -> None:
    """Model of mas_wmb_replace(): replace, then update the gap above."""
    mas_topiary_replace(mas, old_enode)
    if mte_is_leaf(mas.node):
        return
    mas_update_gap(mas)


# -- destroying dead subtrees -------------------------------------------------


def mte_dead_leaves(enode: MapleEnode, mt: MapleTree,
                    slots: MutableSequence[Any]) -> int:
    """Model of mte_dead_leaves(): mark every leaf below @enode dead."""
    offset = 0
    count = mt_slots[enode[1]]
    while offset < count:
        entry = slots[offset]
        if not isinstance(entry, MapleEnode) or not entry[1]:
            break
        mte_set_node_dead(entry)
        dead_set_type(entry[0], entry[1])
        # the bare node, without its type bits
        mt.port.rcu_assign_pointer(slots, offset, entry[0])
        offset += 1
    return offset


def _dead_type(entry: Any) -> int:
    """``next->type`` for a slot value that is a bare node or an enode."""
    node = entry[0] if isinstance(entry, MapleEnode) else entry
    return dead_type(node)


def mte_dead_walk(enode: MapleEnode,
                  offset: int) -> tuple[MapleEnode, MutableSequence[Any]]:
    """Model of mte_dead_walk(): descend a dead tree to just above the leaves.

    Returns the (updated enode, slots) pair the kernel returns through
    its ``enode`` out-parameter and return value.
    """
    nxt: Any = enode[0]
    while True:
        node = nxt[0] if isinstance(nxt, MapleEnode) else nxt
        enode = mt_mk_node(node, 0)
        slots = node.slot
        nxt = slots[offset]
        offset = 0
        if ma_is_leaf(_dead_type(nxt)):
            return enode, slots


def _free_bulk(port: MemoryPort, count: int, slots: MutableSequence[Any]) -> None:
    """mt_free_bulk(): free the first @count nodes of @slots."""
    for i in range(count):
        entry = slots[i]
        port.node_free(entry[0] if isinstance(entry, MapleEnode) else entry)


def mt_free_walk(port: MemoryPort, head: MapleNode) -> None:
    """Model of mt_free_walk(): the RCU callback that frees a dead subtree."""
    node = head
    if not ma_is_leaf(dead_type(node)):
        start = node
        enode, slots = mte_dead_walk(mt_mk_node(node, dead_type(node)), 0)
        node = enode[0]
        while True:
            _free_bulk(port, dead_slot_len(node), slots)
            offset = dead_parent_slot(node) + 1
            enode = enode_from_word(node.heap, node.pivot[2])
            if enode[0] is node:
                port.node_free(node)
                return
            type = enode[1]
            slots = enode[0].slot
            if offset < mt_slots[type] and slots[offset] is not None:
                enode, slots = mte_dead_walk(enode, offset)
            node = enode[0]
            if node is start and dead_slot_len(node) >= offset:
                break
        slots = node.slot
        _free_bulk(port, dead_slot_len(node), slots)
    port.node_free(node)


def mte_destroy_descend(enode: MapleEnode, mt: MapleTree, prev: MapleEnode,
                        offset: int) -> tuple[MapleEnode, MutableSequence[Any]]:
    """Model of mte_destroy_descend(): mark nodes dead down to the leaves.

    Returns (the last internal enode, its slots).
    """
    nxt = enode
    next_offset = 0
    while True:
        enode = nxt
        node = enode[0]
        type = enode[1]
        slots = node.slot
        nxt = slots[next_offset]
        if mte_dead_node(nxt):
            next_offset += 1
            nxt = slots[next_offset]
        mte_set_node_dead(enode)
        dead_set_info(node, enode_word(prev), offset, type)
        offset = next_offset
        next_offset = 0
        prev = enode
        if mte_is_leaf(nxt):
            return enode, slots


def mt_destroy_walk(enode: MapleEnode, mt: MapleTree, free: bool) -> None:
    """Model of mt_destroy_walk(): mark a subtree dead, freeing it if @free."""
    port = mt.port
    node = enode[0]
    if not mte_is_leaf(enode):
        start = enode
        enode, slots = mte_destroy_descend(enode, mt, start, 0)
        node = enode[0]
        while True:
            dead_set_slot_len(node, mte_dead_leaves(enode, mt, slots))
            if free:
                _free_bulk(port, dead_slot_len(node), slots)
            offset = dead_parent_slot(node) + 1
            enode = enode_from_word(node.heap, node.pivot[2])
            if enode[0] is node:
                break
            type = enode[1]
            slots = enode[0].slot
            if offset < mt_slots[type]:
                tmp = slots[offset]
                if isinstance(tmp, MapleEnode) and tmp[1]:
                    parent = enode
                    enode, slots = mte_destroy_descend(tmp, mt, parent, offset)
            node = enode[0]
            if start == enode:
                node = enode[0]
                dead_set_slot_len(node, mte_dead_leaves(enode, mt, slots))
                if free:
                    _free_bulk(port, dead_slot_len(node), slots)
                break
    else:
        mte_set_node_dead(enode)
        dead_set_type(node, enode[1])
    # free_leaf:
    if free:
        port.node_free(node)
    else:
        mt_clear_meta(node, dead_type(node))


def mte_destroy_walk(enode: MapleEnode, mt: MapleTree) -> None:
    """Model of mte_destroy_walk(): free a subtree, through RCU in RCU mode."""
    node = enode[0]
    if mt_in_rcu(mt):
        mt_destroy_walk(enode, mt, False)
        mt.port.call_rcu(node, mt_free_walk)
    else:
        mt_destroy_walk(enode, mt, True)


__all__ = ["MaTopiary", "mas_replace_node", "mas_topiary_replace", "mte_destroy_walk"]

