"""The maple subtree state (struct maple_subtree_state) and its helpers.

Rebalancing, splitting and spanning stores build a new subtree beside the
old one from a big node, level by level upwards, and then swap it in
(``mas_wmb_replace``).  ``orig_l``/``orig_r`` track the old left and right
sides, ``l``/``m``/``r`` the new nodes of the level being built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.alloc import mas_pop_node
from maple.bignode import (
    MapleBigNode,
    mab_calc_split,
    mab_mas_cp,
    mab_shift_right,
    mas_mab_cp,
)
from maple.defs import ma_active, ma_none, mt_min_slots, mt_slots
from maple.node import MapleEnode, mt_mk_node, mte_is_root, mte_parent_slot
from maple.state import MaState, MaWrState, mas_is_none
from maple.walk import mas_ascend, mas_data_end, mas_descend, mas_set_parent
from maple.wrwalk import mas_wr_node_walk

if TYPE_CHECKING:
    from maple.node import MapleEnode as Enode


class MapleSubtreeState:
    """struct maple_subtree_state."""

    __slots__ = ("bn", "l", "m", "orig_l", "orig_r", "r")

    def __init__(self, orig_l: MaState, orig_r: MaState, bn: MapleBigNode) -> None:
        self.orig_l = orig_l
        self.orig_r = orig_r
        self.l: MaState = orig_l
        self.m: MaState = orig_l
        self.r: MaState = orig_r
        self.bn = bn


def mas_prev_sibling(mas: MaState) -> bool:
    """Model of mas_prev_sibling(): move to the previous node with the same parent."""
    p_slot = mte_parent_slot(mas.node)
    if mte_is_root(mas.node):
        return False
    if not p_slot:
        return False
    mas_ascend(mas)
    mas.offset = p_slot - 1
    mas_descend(mas)
    return True


def mas_next_sibling(mas: MaState) -> bool:
    """Model of mas_next_sibling(): move to the next node with the same parent."""
    if mte_is_root(mas.node):
        return False
    parent = mas.copy()
    mas_ascend(parent)
    parent.offset = mte_parent_slot(mas.node) + 1
    if parent.offset > mas_data_end(parent):
        return False
    mas.assign(parent)
    mas_descend(mas)
    return True


def mas_node_or_none(mas: MaState, enode: Enode | None) -> None:
    """Model of mas_node_or_none()."""
    if enode is not None:
        mas.node = enode
        mas.status = ma_active
    else:
        mas.node = None
        mas.status = ma_none


def mast_rebalance_next(mast: MapleSubtreeState) -> None:
    """Model of mast_rebalance_next(): append the next node's data."""
    b_end = mast.bn.b_end
    mas_mab_cp(mast.orig_r, 0, mt_slots[mast.orig_r.node[1]], mast.bn, b_end)
    mast.orig_r.last = mast.orig_r.max


def mast_rebalance_prev(mast: MapleSubtreeState) -> None:
    """Model of mast_rebalance_prev(): prepend the previous node's data."""
    end = mas_data_end(mast.orig_l) + 1
    b_end = mast.bn.b_end
    mab_shift_right(mast.bn, end)
    mas_mab_cp(mast.orig_l, 0, end - 1, mast.bn, 0)
    mast.l.min = mast.orig_l.min
    mast.orig_l.index = mast.orig_l.min
    mast.bn.b_end = end + b_end
    mast.l.offset += end


def mast_spanning_rebalance(mast: MapleSubtreeState) -> bool:
    """Model of mast_spanning_rebalance(): pull in a neighbour, right first."""
    r_tmp = mast.orig_r.copy()
    l_tmp = mast.orig_l.copy()
    depth = 0
    while True:
        mas_ascend(mast.orig_r)
        mas_ascend(mast.orig_l)
        depth += 1
        if mast.orig_r.offset < mas_data_end(mast.orig_r):
            mast.orig_r.offset += 1
            while True:
                mas_descend(mast.orig_r)
                mast.orig_r.offset = 0
                depth -= 1
                if not depth:
                    break
            mast_rebalance_next(mast)
            mast.orig_l.assign(l_tmp)
            return True
        if mast.orig_l.offset != 0:
            mast.orig_l.offset -= 1
            while True:
                mas_descend(mast.orig_l)
                mast.orig_l.offset = mas_data_end(mast.orig_l)
                depth -= 1
                if not depth:
                    break
            mast_rebalance_prev(mast)
            mast.orig_r.assign(r_tmp)
            return True
        if mte_is_root(mast.orig_r.node):
            break
    mast.orig_r.assign(r_tmp)
    mast.orig_l.assign(l_tmp)
    return False


def mast_ascend(mast: MapleSubtreeState) -> None:
    """Model of mast_ascend(): ascend orig_l and orig_r to the next level."""
    wr_mas = MaWrState(mast.orig_r, None)
    mas_ascend(mast.orig_l)
    mas_ascend(mast.orig_r)
    mast.orig_r.offset = 0
    mast.orig_r.index = mast.r.max
    # last should be larger than or equal to index
    if mast.orig_r.last < mast.orig_r.index:
        mast.orig_r.last = mast.orig_r.index
    wr_mas.type = mast.orig_r.node[1]
    mas_wr_node_walk(wr_mas)
    # Set up the left side of things.
    mast.orig_l.offset = 0
    mast.orig_l.index = mast.l.min
    wr_mas.mas = mast.orig_l
    wr_mas.type = mast.orig_l.node[1]
    mas_wr_node_walk(wr_mas)
    mast.bn.type = wr_mas.type


def mas_new_ma_node(mas: MaState, b_node: MapleBigNode) -> MapleEnode:
    """Model of mas_new_ma_node(): a new node of the big node's type."""
    return mt_mk_node(mas_pop_node(mas), b_node.type)


def mas_mab_to_node(mas: MaState, b_node: MapleBigNode
                    ) -> tuple[int, MapleEnode, Enode | None, Enode | None, int]:
    """Model of mas_mab_to_node(): (split, left, right, middle, mid_split)."""
    slot_count = mt_slots[b_node.type]
    left = mas_new_ma_node(mas, b_node)
    right = middle = None
    mid_split = 0
    if b_node.b_end < slot_count:
        split = b_node.b_end
    else:
        split, mid_split = mab_calc_split(mas, b_node)
        right = mas_new_ma_node(mas, b_node)
    if mid_split:
        middle = mas_new_ma_node(mas, b_node)
    return split, left, right, middle, mid_split


def mas_set_split_parent(mas: MaState, left: MapleEnode, right: Enode | None,
                         slot: int, split: int) -> int:
    """Model of mas_set_split_parent(); returns the incremented @slot."""
    if mas_is_none(mas):
        return slot
    if slot <= split:
        mas_set_parent(mas, mas.node, left, slot)
    elif right is not None:
        mas_set_parent(mas, mas.node, right, slot - split - 1)
    return slot + 1


def mte_mid_split_check(l: MapleEnode, r: Enode | None, right: Enode | None,
                        slot: int, split: int, mid_split: int
                        ) -> tuple[MapleEnode, Enode | None, int]:
    """Model of mte_mid_split_check(); returns the new (l, r, split)."""
    if r == right:
        return l, r, split
    if slot < mid_split:
        return l, r, split
    assert r is not None
    return r, right, mid_split


def mast_set_split_parents(mast: MapleSubtreeState, left: MapleEnode,
                           middle: Enode | None, right: Enode | None, split: int,
                           mid_split: int) -> None:
    """Model of mast_set_split_parents(): parent l, m and r in the new nodes."""
    l: MapleEnode = left
    r = right
    if mas_is_none(mast.l):
        return
    if middle is not None:
        r = middle
    slot = mast.l.offset
    for side in (mast.l, mast.m, mast.r):
        l, r, split = mte_mid_split_check(l, r, right, slot, split, mid_split)
        slot = mas_set_split_parent(side, l, r, slot, split)


def mast_cp_to_nodes(mast: MapleSubtreeState, left: MapleEnode, middle: Enode | None,
                     right: Enode | None, split: int, mid_split: int) -> None:
    """Model of mast_cp_to_nodes(): copy the big node out to the new nodes."""
    new_lmax = True
    mas_node_or_none(mast.l, left)
    mas_node_or_none(mast.m, middle)
    mas_node_or_none(mast.r, right)
    mast.l.min = mast.orig_l.min
    if split == mast.bn.b_end:
        mast.l.max = mast.orig_r.max
        new_lmax = False
    mab_mas_cp(mast.bn, 0, split, mast.l, new_lmax)
    if middle is not None:
        mab_mas_cp(mast.bn, 1 + split, mid_split, mast.m, True)
        mast.m.min = mast.bn.pivot[split] + 1
        split = mid_split
    mast.r.max = mast.orig_r.max
    if right is not None:
        mab_mas_cp(mast.bn, 1 + split, mast.bn.b_end, mast.r, False)
        mast.r.min = mast.bn.pivot[split] + 1


def mast_combine_cp_left(mast: MapleSubtreeState) -> None:
    """Model of mast_combine_cp_left(): copy in the original left side."""
    l_slot = mast.orig_l.offset
    if not l_slot:
        return
    mas_mab_cp(mast.orig_l, 0, l_slot - 1, mast.bn, 0)


def mast_combine_cp_right(mast: MapleSubtreeState) -> None:
    """Model of mast_combine_cp_right(): copy in the original right side."""
    if mast.bn.pivot[mast.bn.b_end - 1] >= mast.orig_r.max:
        return
    mas_mab_cp(mast.orig_r, mast.orig_r.offset + 1, mt_slots[mast.orig_r.node[1]],
               mast.bn, mast.bn.b_end)
    mast.orig_r.last = mast.orig_r.max


def mast_sufficient(mast: MapleSubtreeState) -> bool:
    """Model of mast_sufficient()."""
    return mast.bn.b_end > mt_min_slots[mast.orig_l.node[1]]


def mast_overflow(mast: MapleSubtreeState) -> bool:
    """Model of mast_overflow()."""
    return mast.bn.b_end >= mt_slots[mast.orig_l.node[1]]
