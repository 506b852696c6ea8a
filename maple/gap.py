"""Gap tracking for MT_FLAGS_ALLOC_RANGE trees (lib/maple_tree.c).

Every arange64 node records, per child, the largest run of NULL indices
below it, and in its metadata the offset of the largest of those; writers
keep them current with ``mas_update_gap()`` after changing a node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.defs import ULONG_MAX, maple_arange_64
from maple.node import (
    MapleCorruption,
    ma_is_leaf,
    ma_is_root,
    ma_meta_end,
    ma_meta_gap,
    ma_set_meta_gap,
    mt_mk_node,
    mte_is_root,
    mte_parent,
    mte_parent_slot,
)
from maple.tree import mt_is_alloc
from maple.walk import MapleBug, ma_data_end, mas_parent_type

if TYPE_CHECKING:
    from collections.abc import MutableSequence

    from maple.node import MapleNode
    from maple.state import MaState


def mas_leaf_max_gap(mas: MaState) -> int:
    """Model of mas_leaf_max_gap(): the largest NULL range in a leaf."""
    enode = mas.node
    mn = enode[0]
    mt = enode[1]
    slots = mn.slot
    pivots = mn.pivot
    max_gap = 0
    if slots[0] is None:
        max_gap = pivots[0] - mas.min + 1
        i = 2
    else:
        i = 1
    # unsigned char arithmetic: an empty leaf wraps to 255, as in C.
    max_piv = (ma_data_end(mn, mt, pivots, mas.max) - 1) & 0xFF
    if max_piv + 1 >= len(slots):
        raise MapleCorruption(f"mas_leaf_max_gap: data end of {mn!r} is 0")
    if mas.max == ULONG_MAX and slots[max_piv + 1] is None:
        gap = ULONG_MAX - pivots[max_piv]
        if gap > max_gap:
            max_gap = gap
        if max_gap > pivots[max_piv] - mas.min:
            return max_gap
    while i <= max_piv:
        if slots[i] is not None:
            i += 1
            continue
        gap = pivots[i] - pivots[i - 1]
        if gap > max_gap:
            max_gap = gap
        i += 2  # there cannot be two gaps in a row
    return max_gap


def ma_max_gap(node: MapleNode, gaps: MutableSequence[int], mt: int) -> tuple[int, int]:
    """Model of ma_max_gap(): (largest gap, its offset), scanning back from end."""
    i = offset = ma_meta_end(node, mt)
    max_gap = 0
    while True:
        if gaps[i] > max_gap:
            max_gap = gaps[i]
            offset = i
        if not i:
            break
        i -= 1
    return max_gap, offset


def mas_max_gap(mas: MaState) -> int:
    """Model of mas_max_gap(): the largest gap of mas->node."""
    enode = mas.node
    mt = enode[1]
    if ma_is_leaf(mt):
        return mas_leaf_max_gap(mas)
    node: MapleNode = enode[0]
    if mt != maple_arange_64:
        raise MapleBug("mas_max_gap", "mt != maple_arange_64",
                       "internal node is not arange64", macro="MAS_BUG_ON")
    return node.gap[ma_meta_gap(node)]


def mas_parent_gap(mas: MaState, offset: int, new: int) -> None:
    """Model of mas_parent_gap(): set a parent's gap and propagate upwards."""
    pnode = mte_parent(mas.node)
    pmt = mas_parent_type(mas, mas.node)
    penode = mt_mk_node(pnode, pmt)
    pgaps = pnode.gap
    while True:
        if pmt != maple_arange_64:
            raise MapleBug("mas_parent_gap", "pmt != maple_arange_64",
                           "parent is not arange64", macro="MAS_BUG_ON")
        meta_offset = ma_meta_gap(pnode)
        meta_gap = pgaps[meta_offset]
        pgaps[offset] = new
        if meta_gap == new:
            return
        if offset != meta_offset:
            if meta_gap > new:
                return
            ma_set_meta_gap(pnode, pmt, offset)
        elif new < meta_gap:
            new, meta_offset = ma_max_gap(pnode, pgaps, pmt)
            ma_set_meta_gap(pnode, pmt, meta_offset)
        if ma_is_root(pnode):
            return
        # Go to the parent node.
        pnode = mte_parent(penode)
        pmt = mas_parent_type(mas, penode)
        pgaps = pnode.gap
        offset = mte_parent_slot(penode)
        penode = mt_mk_node(pnode, pmt)


def mas_update_gap(mas: MaState) -> None:
    """Model of mas_update_gap(): update the parent gap of mas->node if needed."""
    if not mt_is_alloc(mas.tree):
        return
    if mte_is_root(mas.node):
        return
    max_gap = mas_max_gap(mas)
    pslot = mte_parent_slot(mas.node)
    p_gap = mte_parent(mas.node).gap[pslot]
    if p_gap != max_gap:
        mas_parent_gap(mas, pslot, max_gap)
