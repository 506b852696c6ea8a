"""Rebalancing (lib/maple_tree.c): spanning rebalance, rebalance, bulk end fix-up.

An insufficient node (fewer than ``mt_min_slots`` entries and not the
rightmost of its level) is combined with its right neighbour, or its left
one when it has no right neighbour, and the combined data is split again
into one or two sufficient nodes; the parent may then be insufficient in
turn, up to the root.
"""

from __future__ import annotations

from maple.alloc import mas_pop_node
from maple.bignode import (
    MapleBigNode,
    mab_mas_cp,
    mab_set_b_end,
    mab_shift_right,
    memcpy,
)
from maple.bignode import mas_mab_cp as _mas_mab_cp
from maple.defs import ULONG_MAX, ma_none, mt_min_slots, mt_pivots, mt_slots
from maple.gap import mas_leaf_max_gap, mas_update_gap
from maple.node import (
    MapleNode,
    ma_set_meta,
    mt_mk_node,
    mte_is_root,
    mte_parent,
    mte_parent_slot,
    node_copy,
)
from maple.state import MaState, mas_is_root_limits
from maple.subtree import (
    MapleSubtreeState,
    mas_mab_to_node,
    mas_next_sibling,
    mas_prev_sibling,
    mast_ascend,
    mast_combine_cp_left,
    mast_combine_cp_right,
    mast_cp_to_nodes,
    mast_overflow,
    mast_set_split_parents,
    mast_spanning_rebalance,
    mast_sufficient,
)
from maple.topiary import mas_adopt_children, mas_replace_node, mas_wmb_replace
from maple.tree import mt_in_rcu
from maple.walk import (
    mas_ascend,
    mas_data_end,
    mas_mt_height,
    mas_parent_type,
    mas_set_parent,
    mas_tree_parent,
    mte_set_gap,
    mte_set_pivot,
    mtree_range_walk,
)


def mas_spanning_rebalance(mas: MaState, mast: MapleSubtreeState, count: int) -> None:
    """Model of mas_spanning_rebalance(): rebuild the subtree upwards from bn."""
    slot = 0
    left = middle = right = None
    l_mas = MaState(mas.tree, mas.index, mas.index)
    r_mas = MaState(mas.tree, mas.index, mas.last)
    m_mas = MaState(mas.tree, mas.index, mas.index)
    mast.l = l_mas
    mast.m = m_mas
    mast.r = r_mas
    l_mas.status = r_mas.status = m_mas.status = ma_none

    # Check if this is not root and has sufficient data.
    if (mast.orig_l.min != 0 or mast.orig_r.max != ULONG_MAX) and \
            mast.bn.b_end <= mt_min_slots[mast.bn.type]:
        mast_spanning_rebalance(mast)

    l_mas.depth = 0
    new_root = False
    while count:
        count -= 1
        mast.bn.b_end -= 1
        mast.bn.type = mast.orig_l.node[1]
        split, left, right, middle, mid_split = mas_mab_to_node(mas, mast.bn)
        mast_set_split_parents(mast, left, middle, right, split, mid_split)
        mast_cp_to_nodes(mast, left, middle, right, split, mid_split)

        # Copy data from next level in the tree to mast->bn from next iteration.
        mast.bn.clear()
        mast.bn.type = left[1]
        l_mas.depth += 1

        # Root already stored in l->node.
        if mas_is_root_limits(mast.l):
            new_root = True
            break

        mast_ascend(mast)
        mast_combine_cp_left(mast)
        l_mas.offset = mast.bn.b_end
        mab_set_b_end(mast.bn, l_mas, left)
        mab_set_b_end(mast.bn, m_mas, middle)
        mab_set_b_end(mast.bn, r_mas, right)

        # Copy anything necessary out of the right node.
        mast_combine_cp_right(mast)
        mast.orig_l.last = mast.orig_l.max

        if mast_sufficient(mast):
            continue
        if mast_overflow(mast):
            continue
        # May be a new root stored in mast->bn.
        if mas_is_root_limits(mast.orig_l):
            break
        mast_spanning_rebalance(mast)
        # rebalancing from other nodes may require another loop.
        if not count:
            count += 1

    if not new_root:
        l_mas.node = mt_mk_node(mas_pop_node(mas), mast.orig_l.node[1])
        l_mas.depth += 1
        mab_mas_cp(mast.bn, 0, mt_slots[mast.bn.type] - 1, l_mas, True)
        assert left is not None
        mas_set_parent(mas, left, l_mas.node, slot)
        if middle is not None:
            slot += 1
            mas_set_parent(mas, middle, l_mas.node, slot)
        if right is not None:
            slot += 1
            mas_set_parent(mas, right, l_mas.node, slot)

    if new_root or mas_is_root_limits(mast.l):
        mast.l.node[0].parent = mas_tree_parent(mas)
        while not mte_is_root(mast.orig_l.node):
            mast_ascend(mast)
    else:
        l_mas.node[0].parent = mast.orig_l.node[0].parent

    old_enode = mast.orig_l.node
    mas.depth = l_mas.depth
    mas.node = l_mas.node
    mas.min = l_mas.min
    mas.max = l_mas.max
    mas.offset = l_mas.offset
    mas_wmb_replace(mas, old_enode)
    mtree_range_walk(mas)


def mas_rebalance(mas: MaState, b_node: MapleBigNode) -> None:
    """Model of mas_rebalance(): rebalance an insufficient node with a neighbour."""
    empty_count = mas_mt_height(mas)
    b_node.b_end += 1
    b_end = b_node.b_end
    l_mas = mas.copy()
    r_mas = mas.copy()
    mast = MapleSubtreeState(l_mas, r_mas, b_node)
    mast.bn.type = mas.node[1]
    if mas_next_sibling(r_mas):
        _mas_mab_cp(r_mas, 0, mt_slots[r_mas.node[1]], b_node, b_end)
        r_mas.last = r_mas.index = r_mas.max
    else:
        mas_prev_sibling(l_mas)
        shift = mas_data_end(l_mas) + 1
        mab_shift_right(b_node, shift)
        mas.offset += shift
        _mas_mab_cp(l_mas, 0, shift - 1, b_node, 0)
        b_node.b_end = shift + b_end
        l_mas.index = l_mas.last = l_mas.min
    mas_spanning_rebalance(mas, mast, empty_count)


def mas_destroy_rebalance(mas: MaState, end: int) -> None:
    """Model of mas_destroy_rebalance(): fix the insufficient last leaf after a
    bulk insert by moving data over from its left neighbour."""
    mt = mas.node[1]
    split = mt_slots[mt] // 2
    in_rcu = mt_in_rcu(mas.tree)
    l_mas = mas.copy()
    mas_prev_sibling(l_mas)

    # set up node.
    if in_rcu:
        newnode = mas_pop_node(mas)
    else:
        # struct maple_node reuse: a stack node, never published.
        newnode = MapleNode(0, {})
    node = mas.node[0]
    newnode.parent = node.parent
    slots = newnode.slot
    pivs = newnode.pivot
    left = l_mas.node[0]
    l_slots = left.slot
    l_pivs = left.pivot
    if l_slots[split] is None:
        split += 1
    tmp = (mas_data_end(l_mas) - split) & 0xFF
    memcpy(slots, 0, l_slots, split + 1, tmp)
    memcpy(pivs, 0, l_pivs, split + 1, tmp)
    pivs[tmp] = l_mas.max
    memcpy(slots, tmp, node.slot, 0, end)
    memcpy(pivs, tmp, node.pivot, 0, end)
    l_mas.max = l_pivs[split]
    mas.min = l_mas.max + 1
    old_eparent = mt_mk_node(mte_parent(l_mas.node), mas_parent_type(l_mas, l_mas.node))
    tmp += end
    if not in_rcu:
        max_p = mt_pivots[mt]
        max_s = mt_slots[mt]
        if tmp < max_p:
            pivs[tmp:max_p] = [0] * (max_p - tmp)
        if tmp < max_s:
            slots[tmp:max_s] = [None] * (max_s - tmp)
        node_copy(node, newnode)
        ma_set_meta(node, mt, 0, tmp - 1)
        mte_set_pivot(old_eparent, mte_parent_slot(l_mas.node), l_pivs[split])
        # Remove data from l_pivs.
        tmp = split + 1
        l_pivs[tmp:max_p] = [0] * (max_p - tmp)
        l_slots[tmp:max_s] = [None] * (max_s - tmp)
        ma_set_meta(left, mt, 0, split)
        eparent = old_eparent
    else:
        # RCU requires replacing both l_mas, mas, and parent.
        mas.node = mt_mk_node(newnode, mt)
        ma_set_meta(newnode, mt, 0, tmp)
        new_left = mas_pop_node(mas)
        new_left.parent = left.parent
        mt = l_mas.node[1]
        memcpy(new_left.slot, 0, l_slots, 0, split)
        memcpy(new_left.pivot, 0, l_pivs, 0, split)
        ma_set_meta(new_left, mt, 0, split)
        l_mas.node = mt_mk_node(new_left, mt)
        # replace parent.
        offset = mte_parent_slot(mas.node)
        mt = mas_parent_type(l_mas, l_mas.node)
        parent = mas_pop_node(mas)
        node_copy(parent, old_eparent[0])
        port = mas.tree.port
        port.rcu_assign_pointer(parent.slot, offset, mas.node)
        port.rcu_assign_pointer(parent.slot, offset - 1, l_mas.node)
        parent.pivot[offset - 1] = l_mas.max
        eparent = mt_mk_node(parent, mt)
    # done:
    gap = mas_leaf_max_gap(mas)
    mte_set_gap(eparent, mte_parent_slot(mas.node), gap)
    gap = mas_leaf_max_gap(l_mas)
    mte_set_gap(eparent, mte_parent_slot(l_mas.node), gap)
    mas_ascend(mas)
    if in_rcu:
        mas_replace_node(mas, old_eparent)
        mas_adopt_children(mas, mas.node)
    mas_update_gap(mas)
