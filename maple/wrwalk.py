"""The write-side walk (struct ma_wr_state helpers of lib/maple_tree.c).

A writer holds the tree lock, so its walk reads slots with
``mas_slot_locked()`` and never checks for dead nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.defs import ULONG_MAX, mt_pivots
from maple.node import MapleCorruption, ma_is_dense, ma_is_leaf
from maple.walk import ma_data_end, mas_safe_min, mas_safe_pivot

if TYPE_CHECKING:
    from maple.state import MaWrState


def mas_wr_node_walk(wr_mas: MaWrState) -> None:
    """Model of mas_wr_node_walk(): find the offset of mas->index in the node."""
    mas = wr_mas.mas
    if ma_is_dense(wr_mas.type):
        wr_mas.r_max = wr_mas.r_min = mas.index
        mas.offset = mas.index = mas.min
        return
    node = mas.node[0]
    wr_mas.node = node
    pivots = wr_mas.pivots = node.pivot
    count = mas.end = ma_data_end(node, wr_mas.type, pivots, mas.max)
    offset = mas.offset
    index = mas.index
    while offset < count and index > pivots[offset]:
        offset += 1
    wr_mas.r_max = pivots[offset] if offset < count else mas.max
    wr_mas.r_min = mas_safe_min(mas, pivots, offset)
    wr_mas.offset_end = mas.offset = offset


def mas_is_span_wr(wr_mas: MaWrState) -> bool:
    """Model of mas_is_span_wr(): does the write span beyond this node?"""
    max = wr_mas.r_max
    last = wr_mas.mas.last
    if last < max:
        return False
    if ma_is_leaf(wr_mas.type):
        max = wr_mas.mas.max
        if last < max:
            return False
    # The last entry of a leaf cannot be NULL unless it is the rightmost
    # node (writing ULONG_MAX), otherwise it spans slots.
    return not (last == max and (wr_mas.entry is not None or last == ULONG_MAX))


def mas_wr_walk_descend(wr_mas: MaWrState) -> None:
    """Model of mas_wr_walk_descend()."""
    wr_mas.type = wr_mas.mas.node[1]
    mas_wr_node_walk(wr_mas)
    wr_mas.slots = wr_mas.mas.node[0].slot


def mas_wr_walk_traverse(wr_mas: MaWrState) -> None:
    """Model of mas_wr_walk_traverse(): step into the child."""
    mas = wr_mas.mas
    mas.max = wr_mas.r_max
    mas.min = wr_mas.r_min
    mas.node = wr_mas.content
    mas.offset = 0
    mas.depth += 1


def mas_wr_walk(wr_mas: MaWrState) -> bool:
    """Model of mas_wr_walk(): walk to the leaf; False for a spanning write."""
    mas = wr_mas.mas
    while True:
        mas_wr_walk_descend(wr_mas)
        if mas_is_span_wr(wr_mas):
            return False
        wr_mas.content = wr_mas.slots[mas.offset]
        if ma_is_leaf(wr_mas.type):
            return True
        mas_wr_walk_traverse(wr_mas)


def mas_wr_walk_index(wr_mas: MaWrState) -> None:
    """Model of mas_wr_walk_index(): walk to the leaf holding mas->index."""
    mas = wr_mas.mas
    while True:
        mas_wr_walk_descend(wr_mas)
        wr_mas.content = wr_mas.slots[mas.offset]
        if ma_is_leaf(wr_mas.type):
            return
        mas_wr_walk_traverse(wr_mas)


def mas_wr_end_piv(wr_mas: MaWrState) -> None:
    """Model of mas_wr_end_piv(): find the offset and pivot where the write ends."""
    mas = wr_mas.mas
    pivots = wr_mas.pivots
    while wr_mas.offset_end < mas.end and mas.last > pivots[wr_mas.offset_end]:
        wr_mas.offset_end += 1
    if wr_mas.offset_end < mas.end:
        wr_mas.end_piv = pivots[wr_mas.offset_end]
    else:
        wr_mas.end_piv = mas.max


def mas_wr_extend_null(wr_mas: MaWrState) -> None:
    """Model of mas_wr_extend_null(): grow a NULL store over adjacent NULLs."""
    mas = wr_mas.mas
    slots = wr_mas.slots
    if slots[wr_mas.offset_end] is None:
        # If this one is null, the next and prev are not.
        mas.last = wr_mas.end_piv
    elif mas.last == wr_mas.end_piv and mas.end != wr_mas.offset_end and \
            slots[wr_mas.offset_end + 1] is None:
        # Check next slot(s) if we are overwriting the end.
        wr_mas.offset_end += 1
        if wr_mas.offset_end == mas.end:
            mas.last = mas.max
        else:
            mas.last = wr_mas.pivots[wr_mas.offset_end]
        wr_mas.end_piv = mas.last

    if wr_mas.content is None:
        # If this one is null, the next and prev are not.
        mas.index = wr_mas.r_min
    elif mas.index == wr_mas.r_min and mas.offset and slots[mas.offset - 1] is None:
        # Check prev slot if we are overwriting the start.
        mas.offset -= 1
        wr_mas.r_min = mas.index = mas_safe_min(mas, wr_mas.pivots, mas.offset)
        wr_mas.r_max = wr_mas.pivots[mas.offset]


def mas_wr_new_end(wr_mas: MaWrState) -> int:
    """Model of mas_wr_new_end(): the node's data end after the write."""
    mas = wr_mas.mas
    new_end = mas.end + 2
    new_end -= wr_mas.offset_end - mas.offset
    if wr_mas.r_min == mas.index:
        new_end -= 1
    if wr_mas.end_piv == mas.last:
        new_end -= 1
    return new_end & 0xFF


def mas_extend_spanning_null(l_wr_mas: MaWrState, r_wr_mas: MaWrState) -> None:
    """Model of mas_extend_spanning_null(): widen a spanning NULL store."""
    r_mas = r_wr_mas.mas
    l_mas = l_wr_mas.mas
    l_slot = l_mas.offset
    if l_wr_mas.content is None:
        l_mas.index = l_wr_mas.r_min
    if l_mas.index == l_wr_mas.r_min and l_slot and l_wr_mas.slots[l_slot - 1] is None:
        if l_slot > 1:
            l_mas.index = l_wr_mas.pivots[l_slot - 2] + 1
        else:
            l_mas.index = l_mas.min
        l_mas.offset = l_slot - 1

    if r_wr_mas.content is None:
        if r_mas.last < r_wr_mas.r_max:
            r_mas.last = r_wr_mas.r_max
        r_mas.offset += 1
    elif r_mas.last == r_wr_mas.r_max and r_mas.last < r_mas.max and \
            r_wr_mas.slots[r_mas.offset + 1] is None:
        # The kernel passes (type, offset + 1) where mas_safe_pivot() takes
        # (piv, type).  The branch cannot be reached (r_wr_mas walked to
        # last + 1, so r_max > last); reaching it would index mt_pivots[]
        # out of bounds, which the model reports.
        if r_mas.offset + 1 >= len(mt_pivots):
            raise MapleCorruption("mas_extend_spanning_null: mt_pivots[] out of bounds")
        r_mas.last = mas_safe_pivot(r_mas, r_wr_mas.pivots, r_wr_mas.type,
                                    r_mas.offset + 1)
        r_mas.offset += 1

