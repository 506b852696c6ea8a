"""Splitting (lib/maple_tree.c): mas_split() and pushing data to a neighbour.

The maple tree splits upwards: the leaf's data, plus the new entry, is in a
big node; it is split into two new nodes (or pushed into a neighbour with
room, which stops the split from rippling up), their parent's data is
rebuilt in the big node with the two new children, and so on until a level
fits in one node, possibly a new root.
"""

from __future__ import annotations

from maple.bignode import (
    MapleBigNode,
    mab_calc_split,
    mab_mas_cp,
    mab_no_null_split,
    mab_set_b_end,
    mab_shift_right,
    mas_mab_cp,
)
from maple.defs import ULONG_MAX, maple_arange_64, maple_range_64, mt_slots
from maple.node import ma_is_leaf, mte_is_leaf, mte_is_root, mte_parent_slot
from maple.state import MaState
from maple.subtree import (
    MapleSubtreeState,
    mas_new_ma_node,
    mas_next_sibling,
    mas_prev_sibling,
    mas_set_split_parent,
)
from maple.topiary import mas_wmb_replace
from maple.tree import mt_is_alloc
from maple.walk import (
    mas_ascend,
    mas_data_end,
    mas_mt_height,
    mas_set_parent,
    mte_set_pivot,
    mtree_range_walk,
)


def mas_split_final_node(mast: MapleSubtreeState, mas: MaState, height: int) -> None:
    """Model of mas_split_final_node(): the single node that ends a split."""
    if mte_is_root(mas.node):
        mast.bn.type = maple_arange_64 if mt_is_alloc(mas.tree) else maple_range_64
        mas.depth = height
    # Only a single node is used here, could be root.
    ancestor = mas_new_ma_node(mas, mast.bn)
    mas_set_parent(mas, mast.l.node, ancestor, mast.l.offset)
    mas_set_parent(mas, mast.r.node, ancestor, mast.r.offset)
    ancestor[0].parent = mas.node[0].parent
    mast.l.node = ancestor
    mab_mas_cp(mast.bn, 0, mt_slots[mast.bn.type] - 1, mast.l, True)
    mas.offset = mast.bn.b_end - 1


def mast_fill_bnode(mast: MapleSubtreeState, mas: MaState, skip: int) -> None:
    """Model of mast_fill_bnode(): the parent level's data with the new children."""
    cp = True
    mast.bn.clear()
    if mte_is_root(mas.node):
        cp = False
    else:
        mas_ascend(mas)
        mas.offset = mte_parent_slot(mas.node)
    if cp and mast.l.offset:
        mas_mab_cp(mas, 0, mast.l.offset - 1, mast.bn, 0)
    split = mast.bn.b_end
    mab_set_b_end(mast.bn, mast.l, mast.l.node)
    mast.r.offset = mast.bn.b_end
    mab_set_b_end(mast.bn, mast.r, mast.r.node)
    if mast.bn.pivot[mast.bn.b_end - 1] == mas.max:
        cp = False
    if cp:
        mas_mab_cp(mas, split + skip, mt_slots[mas.node[1]] - 1, mast.bn, mast.bn.b_end)
    mast.bn.b_end -= 1
    mast.bn.type = mas.node[1]


def mast_split_data(mast: MapleSubtreeState, mas: MaState, split: int) -> None:
    """Model of mast_split_data(): copy the big node out to l and r."""
    mab_mas_cp(mast.bn, 0, split, mast.l, True)
    mte_set_pivot(mast.r.node, 0, mast.r.max)
    mab_mas_cp(mast.bn, split + 1, mast.bn.b_end, mast.r, False)
    mast.l.offset = mte_parent_slot(mas.node)
    mast.l.max = mast.bn.pivot[split]
    mast.r.min = mast.l.max + 1
    if mte_is_leaf(mas.node):
        return
    p_slot = mast.orig_l.offset
    p_slot = mas_set_split_parent(mast.orig_l, mast.l.node, mast.r.node, p_slot, split)
    mas_set_split_parent(mast.orig_r, mast.l.node, mast.r.node, p_slot, split)


def mas_push_data(mas: MaState, height: int, mast: MapleSubtreeState,
                  left: bool) -> bool:
    """Model of mas_push_data(): move data into a neighbour instead of splitting."""
    bn = mast.bn
    slot_total = bn.b_end
    tmp_mas = mas.copy()
    tmp_mas.depth = mast.l.depth
    if left and not mas_prev_sibling(tmp_mas):
        return False
    if not left and not mas_next_sibling(tmp_mas):
        return False
    end = mas_data_end(tmp_mas)
    slot_total = (slot_total + end) & 0xFF
    space = 2 * mt_slots[mas.node[1]] - 2
    # -2 instead of -1 to ensure there isn't a triple split
    if ma_is_leaf(bn.type):
        space -= 1
    if mas.max == ULONG_MAX:
        space -= 1
    if slot_total >= space:
        return False

    # Get the data; Fill mast->bn
    bn.b_end += 1
    if left:
        mab_shift_right(bn, end + 1)
        mas_mab_cp(tmp_mas, 0, end, bn, 0)
        bn.b_end = slot_total + 1
    else:
        mas_mab_cp(tmp_mas, 0, end, bn, bn.b_end)

    # Configure mast for splitting of mast->bn
    split = mt_slots[bn.type] - 2
    if left:
        # Switch mas to prev node
        mas.assign(tmp_mas)
        # Start using mast->l for the left side.
        tmp_mas.node = mast.l.node
        mast.l.assign(tmp_mas)
    else:
        tmp_mas.node = mast.r.node
        mast.r.assign(tmp_mas)
        split = (slot_total - split) & 0xFF
    split = mab_no_null_split(bn, split, mt_slots[bn.type])
    # Update parent slot for split calculation.
    if left:
        mast.orig_l.offset += end + 1
    mast_split_data(mast, mas, split)
    mast_fill_bnode(mast, mas, 2)
    mas_split_final_node(mast, mas, height + 1)
    return True


def mas_split(mas: MaState, b_node: MapleBigNode) -> None:
    """Model of mas_split(): split the data in @b_node upwards as needed."""
    height = 0
    l_mas = MaState(mas.tree, mas.index, mas.last)
    r_mas = MaState(mas.tree, mas.index, mas.last)
    prev_l_mas = MaState(mas.tree, mas.index, mas.last)
    prev_r_mas = MaState(mas.tree, mas.index, mas.last)
    mas.depth = mas_mt_height(mas)
    mast = MapleSubtreeState(prev_l_mas, prev_r_mas, b_node)
    mast.l = l_mas
    mast.r = r_mas
    while True:
        go = height <= mas.depth
        height += 1
        if not go:
            break
        if mt_slots[b_node.type] > b_node.b_end:
            mas_split_final_node(mast, mas, height)
            break
        l_mas.assign(mas)
        r_mas.assign(mas)
        l_mas.node = mas_new_ma_node(mas, b_node)
        r_mas.node = mas_new_ma_node(mas, b_node)
        # Try to push left, then right.
        if mas_push_data(mas, height, mast, True):
            break
        if mas_push_data(mas, height, mast, False):
            break
        split, _mid_split = mab_calc_split(mas, b_node)
        mast_split_data(mast, mas, split)
        # Usually correct, mab_mas_cp in the above call overwrites r->max.
        mast.r.max = mas.max
        mast_fill_bnode(mast, mas, 1)
        prev_l_mas.assign(mast.l)
        prev_r_mas.assign(mast.r)

    # Set the original node as dead
    old = mas.node
    mas.node = l_mas.node
    mas_wmb_replace(mas, old)
    mtree_range_walk(mas)
