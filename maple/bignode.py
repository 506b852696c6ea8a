"""The maple big node (struct maple_big_node) and the copies in and out of it.

A big node holds up to two nodes' worth of data while a write rebalances or
splits.  It lives on the writer's stack in the kernel, so it is private: the
model keeps it as plain lists, never instrumented.  As in the kernel, the
gaps share storage with the upper slots (``gap[i]`` is the word of
``slot[MAPLE_BIG_NODE_GAPS + i]``), so a gap written for a leaf lands where
the kernel's would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.defs import (
    MA_STATE_BULK,
    MA_STATE_REBALANCE,
    MAPLE_BIG_NODE_GAPS,
    MAPLE_BIG_NODE_SLOTS,
    ULONG_MAX,
    mt_min_slots,
    mt_pivots,
    mt_slots,
)
from maple.gap import mas_max_gap
from maple.node import MapleCorruption, ma_is_leaf, ma_set_meta, mte_is_root
from maple.tree import mt_is_alloc
from maple.walk import mas_safe_pivot

if TYPE_CHECKING:
    from collections.abc import MutableSequence

    from maple.state import MaState, MaWrState

G = MAPLE_BIG_NODE_GAPS
"""Index in ``slot`` of ``gap[0]``: the gaps overlay the upper slots."""
_SLOT_WORDS = 2 * MAPLE_BIG_NODE_GAPS


class MapleBigNode:
    """struct maple_big_node: pivots, slots (overlaid by gaps), end and type."""

    __slots__ = ("b_end", "pivot", "slot", "type")

    def __init__(self) -> None:
        self.pivot: list[int] = [0] * (MAPLE_BIG_NODE_SLOTS - 1)
        self.slot: list[Any] = [None] * _SLOT_WORDS
        self.b_end = 0
        self.type = 0

    def clear(self) -> None:
        """memset(b_node, 0, sizeof(struct maple_big_node))."""
        self.pivot[:] = [0] * (MAPLE_BIG_NODE_SLOTS - 1)
        self.slot[:] = [None] * _SLOT_WORDS
        self.b_end = 0
        self.type = 0

    def gap(self, i: int) -> int:
        """b_node->gap[i] (a NULL word reads as a zero gap)."""
        value = self.slot[G + i]
        return value if value is not None else 0

    def set_gap(self, i: int, value: int) -> None:
        """b_node->gap[i] = value."""
        self.slot[G + i] = value


def memcpy(dst: MutableSequence[Any], dpos: int, src: MutableSequence[Any],
           spos: int, n: int) -> None:
    """memcpy() between word arrays; copying past an array's end is a bug."""
    if n <= 0:
        return
    if spos + n > len(src) or dpos + n > len(dst):
        raise MapleCorruption(f"memcpy of {n} words past the end of an array")
    dst[dpos:dpos + n] = src[spos:spos + n]


def mab_shift_right(b_node: MapleBigNode, shift: int) -> None:
    """Model of mab_shift_right(): move the data right by @shift."""
    size = b_node.b_end
    memcpy(b_node.pivot, shift, b_node.pivot, 0, size)
    memcpy(b_node.slot, shift, b_node.slot, 0, size)
    if b_node.type == 3:  # maple_arange_64
        memcpy(b_node.slot, G + shift, b_node.slot, G, size)


def mab_middle_node(b_node: MapleBigNode, split: int, slot_count: int) -> bool:
    """Model of mab_middle_node(): is a 3-way split needed?"""
    size = b_node.b_end
    if size >= 2 * slot_count:
        return True
    return b_node.slot[split] is None and size >= 2 * slot_count - 1


def mab_no_null_split(b_node: MapleBigNode, split: int, slot_count: int) -> int:
    """Model of mab_no_null_split(): do not split on a NULL entry."""
    if b_node.slot[split] is None:
        right = b_node.b_end - split
        if split < slot_count - 1 and right > mt_min_slots[b_node.type]:
            split += 1
        else:
            split -= 1
    return split


def mab_calc_split(mas: MaState, bn: MapleBigNode) -> tuple[int, int]:
    """Model of mab_calc_split(): (split, mid_split) for the big node."""
    b_end = bn.b_end
    split = b_end // 2
    slot_count = mt_slots[bn.type]
    if mas.mas_flags & MA_STATE_BULK:
        split = b_end - mt_min_slots[bn.type]
        if not ma_is_leaf(bn.type):
            return split, 0
        mas.mas_flags |= MA_STATE_REBALANCE
        if bn.slot[split] is None:
            split -= 1
        return split, 0
    mid_split = 0
    if mab_middle_node(bn, split, slot_count):
        split = b_end // 3
        mid_split = split * 2
    split = mab_no_null_split(bn, split, slot_count)
    if mid_split:
        mid_split = mab_no_null_split(bn, mid_split, slot_count)
    return split, mid_split


def mas_mab_cp(mas: MaState, mas_start: int, mas_end: int, b_node: MapleBigNode,
               mab_start: int) -> None:
    """Model of mas_mab_cp(): copy slots [mas_start, mas_end] into the big node."""
    enode = mas.node
    node = enode[0]
    mt = enode[1]
    pivots = node.pivot
    i = mas_start
    j = mab_start
    complete = False
    if not i:
        b_node.pivot[j] = pivots[i]
        i += 1
        if i > mas_end:
            complete = True
        else:
            j += 1
    if not complete:
        piv_end = min(mas_end, mt_pivots[mt])
        while i < piv_end:
            b_node.pivot[j] = pivots[i]
            if not b_node.pivot[j]:
                break
            if mas.max == b_node.pivot[j]:
                complete = True
                break
            i += 1
            j += 1
        if not complete and i <= mas_end:
            b_node.pivot[j] = mas_safe_pivot(mas, pivots, i, mt)
    j += 1
    b_node.b_end = j
    j -= mab_start
    memcpy(b_node.slot, mab_start, node.slot, mas_start, j)
    if not ma_is_leaf(mt) and mt_is_alloc(mas.tree):
        memcpy(b_node.slot, G + mab_start, node.gap, mas_start, j)


def mas_leaf_set_meta(node: Any, mt: int, end: int) -> None:
    """Model of mas_leaf_set_meta(): only when the last slot is free."""
    if end < mt_slots[mt] - 1:
        ma_set_meta(node, mt, 0, end)


def mab_mas_cp(b_node: MapleBigNode, mab_start: int, mab_end: int, mas: MaState,
               new_max: bool) -> None:
    """Model of mab_mas_cp(): copy big node [mab_start, mab_end] into mas->node."""
    enode = mas.node
    node = enode[0]
    mt = enode[1]
    slots = node.slot
    pivots = node.pivot
    npiv = mt_pivots[mt]
    if mab_end - mab_start > npiv:
        mab_end -= 1
    if not pivots[npiv - 1]:
        slots[npiv] = None
    i = mab_start
    j = 0
    bpiv = b_node.pivot
    while True:
        # A pivot past the last one lands on slot 0, which the copy below
        # overwrites: the model skips the store.
        if j < npiv:
            pivots[j] = bpiv[i]
        j += 1
        i += 1
        if not (i <= mab_end and bpiv[i]):
            break
    memcpy(slots, 0, b_node.slot, mab_start, i - mab_start)
    if new_max:
        mas.max = bpiv[i - 1]
    end = j - 1
    if not ma_is_leaf(mt) and mt_is_alloc(mas.tree):
        max_gap = 0
        offset = 0
        gaps = node.gap
        while True:
            j -= 1
            i -= 1
            gaps[j] = b_node.gap(i)
            if gaps[j] > max_gap:
                offset = j
                max_gap = gaps[j]
            if not j:
                break
        ma_set_meta(node, mt, offset, end)
    else:
        mas_leaf_set_meta(node, mt, end)


def mas_bulk_rebalance(mas: MaState, end: int, mt: int) -> None:
    """Model of mas_bulk_rebalance(): clear REBALANCE once the end is sufficient."""
    if not mas.mas_flags & MA_STATE_BULK:
        return
    if mte_is_root(mas.node):
        return
    if end > mt_min_slots[mt]:
        mas.mas_flags &= ~MA_STATE_REBALANCE


def mas_store_b_node(wr_mas: MaWrState, b_node: MapleBigNode, offset_end: int) -> None:
    """Model of mas_store_b_node(): the node's data plus the new entry, in @b_node."""
    mas = wr_mas.mas
    b_node.type = wr_mas.type
    b_end = 0
    slot = mas.offset
    if slot:
        mas_mab_cp(mas, 0, slot - 1, b_node, 0)
        b_end = b_node.b_end
        piv = b_node.pivot[b_end - 1]
    else:
        piv = (mas.min - 1) & ULONG_MAX
    if ((piv + 1) & ULONG_MAX) < mas.index:
        # Handle range starting after old range.
        b_node.slot[b_end] = wr_mas.content
        if wr_mas.content is None:
            b_node.set_gap(b_end, mas.index - 1 - piv)
        b_node.pivot[b_end] = mas.index - 1
        b_end += 1
    # Store the new entry.
    mas.offset = b_end
    b_node.slot[b_end] = wr_mas.entry
    b_node.pivot[b_end] = mas.last
    if mas.last >= mas.max:
        b_node.b_end = b_end
        return
    # Handle new range ending before old range ends.
    piv = mas_safe_pivot(mas, wr_mas.pivots, offset_end, wr_mas.type)
    if piv > mas.last:
        if piv == ULONG_MAX:
            mas_bulk_rebalance(mas, b_node.b_end, wr_mas.type)
        if offset_end != slot:
            wr_mas.content = wr_mas.slots[offset_end]
        b_end += 1
        b_node.slot[b_end] = wr_mas.content
        if wr_mas.content is None:
            b_node.set_gap(b_end, piv - mas.last + 1)
        b_node.pivot[b_end] = piv
    slot = offset_end + 1
    if slot > mas.end:
        b_node.b_end = b_end
        return
    # Copy end data to the end of the node.
    b_end += 1
    mas_mab_cp(mas, slot, mas.end + 1, b_node, b_end)
    b_node.b_end -= 1


def mab_set_b_end(b_node: MapleBigNode, mas: MaState, entry: Any) -> None:
    """Model of mab_set_b_end(): append @entry with mas->max as its pivot."""
    if entry is None:
        return
    b_node.slot[b_node.b_end] = entry
    if mt_is_alloc(mas.tree):
        b_node.set_gap(b_node.b_end, mas_max_gap(mas))
    b_node.pivot[b_node.b_end] = mas.max
    b_node.b_end += 1
