"""The write paths of lib/maple_tree.c, one per store type.

``mas_wr_store_entry()`` dispatches on the store type that
``mas_wr_store_type()`` chose (see :mod:`maple.store`).  What RCU mode
changes is visible here: ``mas_wr_node_store()`` builds a new node and
replaces the old one in RCU mode but copies over the live node otherwise;
``mas_wr_slot_store()`` expands across two boundaries only outside RCU mode;
``mas_wr_append()`` is never chosen in RCU mode.
"""

from __future__ import annotations

from typing import Any

from maple.alloc import mas_pop_node
from maple.bignode import (
    MapleBigNode,
    mas_bulk_rebalance,
    mas_leaf_set_meta,
    mas_mab_cp,
    mas_store_b_node,
    memcpy,
)
from maple.defs import (
    ULONG_MAX,
    ma_active,
    ma_start,
    maple_leaf_64,
    mt_pivots,
    wr_append,
    wr_exact_fit,
    wr_invalid,
    wr_new_root,
    wr_node_store,
    wr_rebalance,
    wr_slot_store,
    wr_spanning_store,
    wr_split_store,
    wr_store_root,
)
from maple.gap import mas_update_gap
from maple.node import MapleEnode, MapleNode, ma_set_meta, mt_mk_node, node_copy
from maple.rebalance import mas_rebalance, mas_spanning_rebalance
from maple.split import mas_split
from maple.state import MaState, MaWrState, mas_set_range
from maple.subtree import MapleSubtreeState
from maple.topiary import mas_replace_node, mte_destroy_walk
from maple.tree import mt_in_rcu
from maple.walk import (
    MapleBug,
    MapleWarning,
    mas_mt_height,
    mas_root_locked,
    mas_set_height,
    mas_tree_parent,
)
from maple.wrwalk import mas_extend_spanning_null, mas_wr_new_end, mas_wr_walk_index
from maple.xarray import xa_is_internal


def mas_root_expand(mas: MaState, entry: Any) -> int:
    """Model of mas_root_expand(): turn a root entry into a leaf node."""
    mt = mas.tree
    contents = mas_root_locked(mas)
    node = mas_pop_node(mas)
    pivots = node.pivot
    slots = node.slot
    node.parent = mas_tree_parent(mas)
    mas.node = mt_mk_node(node, maple_leaf_64)
    mas.status = ma_active
    slot = 0
    if mas.index:
        if contents is not None:
            mt.port.rcu_assign_pointer(slots, slot, contents)
            if mas.index > 1:
                slot += 1
        pivots[slot] = mas.index - 1
        slot += 1
    mt.port.rcu_assign_pointer(slots, slot, entry)
    mas.offset = slot
    pivots[slot] = mas.last
    if mas.last != ULONG_MAX:
        slot += 1
        pivots[slot] = ULONG_MAX
    mas.depth = 1
    mas_set_height(mas)
    ma_set_meta(node, maple_leaf_64, 0, slot)
    # swap the new root into the tree
    mt.port.root_store(mt, mas.node)
    return slot


def mas_store_root(mas: MaState, entry: Any) -> None:
    """Model of mas_store_root(): store into an empty or single-entry tree."""
    mt = mas.tree
    if entry is None:
        if not mas.index:
            mt.port.root_store(mt, None)
    elif mas.last != 0 or mas.index != 0 or xa_is_internal(entry):
        mas_root_expand(mas, entry)
    else:
        mt.port.root_store(mt, entry)
        mas.status = ma_start


def mas_new_root(mas: MaState, entry: Any) -> None:
    """Model of mas_new_root(): a store over [0, ULONG_MAX]."""
    mt = mas.tree
    root = mas_root_locked(mas)
    if entry is None and not mas.index and mas.last == ULONG_MAX:
        mas.depth = 0
        mas_set_height(mas)
        mt.port.root_store(mt, entry)
        mas.status = ma_start
    else:
        node = mas_pop_node(mas)
        node.parent = mas_tree_parent(mas)
        mas.node = mt_mk_node(node, maple_leaf_64)
        mas.status = ma_active
        mt.port.rcu_assign_pointer(node.slot, 0, entry)
        node.pivot[0] = mas.last
        mas.depth = 1
        mas_set_height(mas)
        mt.port.root_store(mt, mas.node)
    if isinstance(root, MapleEnode):
        mte_destroy_walk(root, mt)


def mas_wr_spanning_store(wr_mas: MaWrState) -> None:
    """Model of mas_wr_spanning_store(): a store whose range spans nodes."""
    mas = wr_mas.mas
    if not mas.index and mas.last == ULONG_MAX:
        mas_new_root(mas, wr_mas.entry)
        return
    # Node rebalancing may occur due to this store, so there may be three
    # new entries per level plus a new root.
    height = mas_mt_height(mas)

    # Set up right side.
    r_mas = mas.copy()
    r_wr_mas = MaWrState(r_mas, wr_mas.entry)
    # Avoid overflow, walk to next slot in the tree.
    if (r_mas.last + 1) & ULONG_MAX:
        r_mas.last += 1
    r_mas.index = r_mas.last
    mas_wr_walk_index(r_wr_mas)
    r_mas.last = r_mas.index = mas.last

    # Set up left side.
    l_mas = mas.copy()
    l_wr_mas = MaWrState(l_mas, wr_mas.entry)
    mas_wr_walk_index(l_wr_mas)

    if wr_mas.entry is None:
        mas_extend_spanning_null(l_wr_mas, r_wr_mas)
        mas.offset = l_mas.offset
        mas.index = l_mas.index
        mas.last = l_mas.last = r_mas.last

    # expanding NULLs may make this cover the entire range
    if not l_mas.index and r_mas.last == ULONG_MAX:
        mas_set_range(mas, 0, ULONG_MAX)
        mas_new_root(mas, wr_mas.entry)
        return

    b_node = MapleBigNode()
    # Copy l_mas and store the value in b_node.
    mas_store_b_node(l_wr_mas, b_node, l_mas.end)
    # Copy r_mas into b_node if there is anything to copy.
    if r_mas.max > r_mas.last:
        mas_mab_cp(r_mas, r_mas.offset, r_mas.end, b_node, b_node.b_end + 1)
    else:
        b_node.b_end += 1

    # Stop spanning searches by searching for just index.
    l_mas.index = l_mas.last = mas.index
    mast = MapleSubtreeState(l_mas, r_mas, b_node)
    # Combine l_mas and r_mas and split them up evenly again.
    mas_spanning_rebalance(mas, mast, height + 1)


def mas_wr_node_store(wr_mas: MaWrState, new_end: int) -> None:
    """Model of mas_wr_node_store(): rewrite the node, new in RCU mode."""
    mas = wr_mas.mas
    offset_end = wr_mas.offset_end
    node_pivots = mt_pivots[wr_mas.type]
    in_rcu = mt_in_rcu(mas.tree)
    if mas.last == wr_mas.end_piv:
        offset_end += 1  # don't copy this offset
    elif wr_mas.r_max == ULONG_MAX:
        mas_bulk_rebalance(mas, mas.end, wr_mas.type)

    # set up node.
    if in_rcu:
        newnode = mas_pop_node(mas)
    else:
        newnode = MapleNode(0, {})  # struct maple_node reuse, zeroed
    newnode.parent = mas.node[0].parent
    dst_pivots = newnode.pivot
    dst_slots = newnode.slot
    # Copy from start to insert point
    memcpy(dst_pivots, 0, wr_mas.pivots, 0, mas.offset)
    memcpy(dst_slots, 0, wr_mas.slots, 0, mas.offset)

    # Handle insert of new range starting after old range
    port = mas.tree.port
    if wr_mas.r_min < mas.index:
        port.rcu_assign_pointer(dst_slots, mas.offset, wr_mas.content)
        dst_pivots[mas.offset] = mas.index - 1
        mas.offset += 1

    # Store the new entry and range end.
    if mas.offset < node_pivots:
        dst_pivots[mas.offset] = mas.last
    port.rcu_assign_pointer(dst_slots, mas.offset, wr_mas.entry)

    # this range wrote to the end of the node or it overwrote the rest of the data
    if offset_end <= mas.end:
        dst_offset = mas.offset + 1
        # Copy to the end of node if necessary.
        copy_size = mas.end - offset_end + 1
        memcpy(dst_slots, dst_offset, wr_mas.slots, offset_end, copy_size)
        memcpy(dst_pivots, dst_offset, wr_mas.pivots, offset_end, copy_size - 1)
        if new_end < node_pivots:
            dst_pivots[new_end] = mas.max

    mas_leaf_set_meta(newnode, maple_leaf_64, new_end)
    if in_rcu:
        old_enode = mas.node
        mas.node = mt_mk_node(newnode, wr_mas.type)
        mas_replace_node(mas, old_enode)
    else:
        assert wr_mas.node is not None
        node_copy(wr_mas.node, newnode)
    mas_update_gap(mas)
    mas.end = new_end


def mas_wr_slot_store(wr_mas: MaWrState) -> None:
    """Model of mas_wr_slot_store(): move one boundary (two outside RCU mode)."""
    mas = wr_mas.mas
    offset = mas.offset
    slots = wr_mas.slots
    pivots = wr_mas.pivots
    port = mas.tree.port
    gap = slots[offset] is None
    gap |= slots[offset + 1] is None
    if wr_mas.offset_end - offset == 1:
        if mas.index == wr_mas.r_min:
            # Overwriting the range and a part of the next one
            port.rcu_assign_pointer(slots, offset, wr_mas.entry)
            pivots[offset] = mas.last
        else:
            # Overwriting a part of the range and the next one
            port.rcu_assign_pointer(slots, offset + 1, wr_mas.entry)
            pivots[offset] = mas.index - 1
            mas.offset += 1  # Keep mas accurate.
    elif not mt_in_rcu(mas.tree):
        # Expand the range, only partially overwriting the previous and next ranges
        gap |= slots[offset + 2] is None
        port.rcu_assign_pointer(slots, offset + 1, wr_mas.entry)
        pivots[offset] = mas.index - 1
        pivots[offset + 1] = mas.last
        mas.offset += 1  # Keep mas accurate.
    else:
        return
    # Only update gap when the new entry is empty or there is an empty entry
    # in the original two ranges.
    if wr_mas.entry is None or gap:
        mas_update_gap(mas)


def mas_wr_append(wr_mas: MaWrState, new_end: int) -> None:
    """Model of mas_wr_append(): append in place at the end of the node.

    The kernel calls this unsafe in RCU mode, since a reader may have cached
    the old end; mas_wr_store_type() never chooses it there.
    """
    mas = wr_mas.mas
    end = mas.end
    pivots = wr_mas.pivots
    if new_end < mt_pivots[wr_mas.type]:
        pivots[new_end] = pivots[end]
        assert wr_mas.node is not None
        ma_set_meta(wr_mas.node, wr_mas.type, 0, new_end)
    slots = wr_mas.slots
    port = mas.tree.port
    if new_end == end + 1:
        if mas.last == wr_mas.r_max:
            # Append to end of range
            port.rcu_assign_pointer(slots, new_end, wr_mas.entry)
            pivots[end] = mas.index - 1
            mas.offset = new_end
        else:
            # Append to start of range
            port.rcu_assign_pointer(slots, new_end, wr_mas.content)
            pivots[end] = mas.last
            port.rcu_assign_pointer(slots, end, wr_mas.entry)
    else:
        # Append to the range without touching any boundaries.
        port.rcu_assign_pointer(slots, new_end, wr_mas.content)
        pivots[end + 1] = mas.last
        port.rcu_assign_pointer(slots, end + 1, wr_mas.entry)
        pivots[end] = mas.index - 1
        mas.offset = end + 1
    if wr_mas.content is None or wr_mas.entry is None:
        mas_update_gap(mas)
    mas.end = new_end


def mas_wr_bnode(wr_mas: MaWrState) -> None:
    """Model of mas_wr_bnode(): the slow path through a big node."""
    b_node = MapleBigNode()
    mas_store_b_node(wr_mas, b_node, wr_mas.offset_end)
    mas_commit_b_node(wr_mas, b_node)


def mas_commit_b_node(wr_mas: MaWrState, b_node: MapleBigNode) -> None:
    """Model of mas_commit_b_node(): rebalance or split."""
    store_type = wr_mas.mas.store_type
    if store_type not in (wr_rebalance, wr_split_store):
        raise MapleWarning(
            "mas_commit_b_node", "type != wr_rebalance && type != wr_split_store",
            "a big node committed by another store type",
            f"store type {store_type} is neither wr_rebalance nor wr_split_store; "
            "the kernel splits.", macro="WARN_ON_ONCE")
    if store_type == wr_rebalance:
        mas_rebalance(wr_mas.mas, b_node)
    else:
        mas_split(wr_mas.mas, b_node)


def mas_wr_store_entry(wr_mas: MaWrState) -> None:
    """Model of mas_wr_store_entry(): run the write path chosen for the store."""
    mas = wr_mas.mas
    new_end = mas_wr_new_end(wr_mas)
    store_type = mas.store_type
    if store_type == wr_invalid:
        raise MapleBug("mas_wr_store_entry", "1", "wr_invalid store type",
                       macro="MT_BUG_ON")
    if store_type == wr_new_root:
        mas_new_root(mas, wr_mas.entry)
    elif store_type == wr_store_root:
        mas_store_root(mas, wr_mas.entry)
    elif store_type == wr_exact_fit:
        mas.tree.port.rcu_assign_pointer(wr_mas.slots, mas.offset, wr_mas.entry)
        if (wr_mas.entry is None) != (wr_mas.content is None):
            mas_update_gap(mas)
    elif store_type == wr_append:
        mas_wr_append(wr_mas, new_end)
    elif store_type == wr_slot_store:
        mas_wr_slot_store(wr_mas)
    elif store_type == wr_node_store:
        mas_wr_node_store(wr_mas, new_end)
    elif store_type == wr_spanning_store:
        mas_wr_spanning_store(wr_mas)
    elif store_type in (wr_split_store, wr_rebalance):
        mas_wr_bnode(wr_mas)
