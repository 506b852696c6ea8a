"""Searching for empty ranges (gaps): mas_empty_area() and mas_empty_area_rev().

These walk the gap records of an MT_FLAGS_ALLOC_RANGE tree (or the slots of
a plain tree) under the lock, as mmap's get_unmapped_area() does.
"""

from __future__ import annotations

from maple.defs import EBUSY, EINVAL, MAPLE_NODE_SLOTS, ULONG_MAX
from maple.node import ma_gaps, ma_is_dense, ma_is_leaf, mte_is_root
from maple.state import (
    MaState,
    mas_is_err,
    mas_is_none,
    mas_is_ptr,
    mas_is_start,
    mas_set_err,
    xa_err,
)
from maple.walk import (
    ma_data_end,
    mas_ascend,
    mas_data_end,
    mas_safe_min,
    mas_safe_pivot,
    mas_start,
)


def mas_skip_node(mas: MaState) -> bool:
    """Model of mas_skip_node(): move past the current node."""
    if mas_is_err(mas):
        return False
    while True:
        if mte_is_root(mas.node):
            if mas.offset >= mas_data_end(mas):
                mas_set_err(mas, -EBUSY)
                return False
        else:
            mas_ascend(mas)
        if mas.offset < mas_data_end(mas):
            break
    mas.offset += 1
    return True


def mas_rewind_node(mas: MaState) -> bool:
    """Model of mas_rewind_node(): move to the previous slot, ascending if needed."""
    while True:
        if mte_is_root(mas.node):
            slot = mas.offset
            if not slot:
                return False
        else:
            mas_ascend(mas)
            slot = mas.offset
        if slot:
            break
    mas.offset = slot - 1
    return True


def mas_anode_descend(mas: MaState, size: int) -> bool:
    """Model of mas_anode_descend(): find a gap of @size, descending a level."""
    enode = mas.node
    mtype = enode[1]
    if ma_is_dense(mtype):
        mas.offset = (mas.index - mas.min) & 0xFF
        return True
    node = enode[0]
    pivots = node.pivot
    gaps = ma_gaps(node, mtype)
    offset = mas.offset
    min = mas_safe_min(mas, pivots, offset)
    data_end = ma_data_end(node, mtype, pivots, mas.max)
    found = False
    gap = 0
    while offset <= data_end:
        pivot = mas_safe_pivot(mas, pivots, offset, mtype)
        if mas.index <= pivot:
            skip = False
            if gaps is not None:
                gap = gaps[offset]
            elif node.slot[offset] is None:
                gap = (pivot if pivot < mas.last else mas.last) - \
                    (mas.index if mas.index > min else min) + 1
            else:
                skip = True
            if not skip and gap >= size:
                if ma_is_leaf(mtype):
                    mas.offset = offset
                    return True
                if mas.index <= pivot:
                    mas.node = node.slot[offset]
                    mas.min = min
                    mas.max = pivot
                    mas.offset = 0
                    return False
        # next_slot:
        min = (pivot + 1) & ULONG_MAX
        if mas.last <= pivot:
            mas_set_err(mas, -EBUSY)
            return True
        offset += 1
    if mte_is_root(mas.node):
        found = True
    mas.offset = offset
    return found


def mas_awalk(mas: MaState, size: int) -> None:
    """Model of mas_awalk(): search low to high for a gap of @size."""
    last = None
    while not mas_is_err(mas) and not mas_anode_descend(mas, size):
        if last == mas.node:
            mas_skip_node(mas)
        else:
            last = mas.node


def mas_sparse_area(mas: MaState, min: int, max: int, size: int,
                    fwd: bool) -> int:
    """Model of mas_sparse_area(): a gap in an empty or single-entry tree."""
    if not mas_is_none(mas) and min == 0:
        min += 1
        if min > max or max - min + 1 < size:
            return -EBUSY
    if fwd:
        mas.index = min
        mas.last = min + size - 1
    else:
        mas.last = max
        mas.index = max - size + 1
    return 0


def mas_empty_area(mas: MaState, min: int, max: int, size: int) -> int:
    """Model of mas_empty_area(): the lowest gap of @size in [min, max]."""
    if min > max:
        return -EINVAL
    if size == 0 or max - min < size - 1:
        return -EINVAL
    if mas_is_start(mas):
        mas_start(mas)
    elif mas.offset >= 2:
        mas.offset -= 2
    elif not mas_skip_node(mas):
        return -EBUSY
    if mas_is_none(mas) or mas_is_ptr(mas):
        return mas_sparse_area(mas, min, max, size, True)
    mas.index = min
    mas.last = max
    mas_awalk(mas, size)
    if mas_is_err(mas):
        return xa_err(mas.node)
    offset = mas.offset
    if offset == MAPLE_NODE_SLOTS:
        return -EBUSY
    node = mas.node[0]
    mt = mas.node[1]
    min = mas_safe_min(mas, node.pivot, offset)
    if mas.index < min:
        mas.index = min
    mas.last = mas.index + size - 1
    mas.end = ma_data_end(node, mt, node.pivot, mas.max)
    return 0


def mas_rev_awalk(mas: MaState, size: int) -> tuple[bool, int, int]:
    """Model of mas_rev_awalk(): (found in a leaf, gap_min, gap_max)."""
    if mas_is_err(mas):
        return True, 0, 0
    enode = mas.node
    mtype = enode[1]
    node = enode[0]
    if ma_is_dense(mtype):
        mas.offset = (mas.index - mas.min) & 0xFF
        return True, 0, 0
    pivots = node.pivot
    gaps = ma_gaps(node, mtype)
    offset = mas.offset
    min = mas_safe_min(mas, pivots, offset)
    while mas.last < min:  # Skip out of bounds.
        offset -= 1
        min = mas_safe_min(mas, pivots, offset)
    max = mas_safe_pivot(mas, pivots, offset, mtype)
    gap = 0
    ascend = False
    while mas.index <= max:
        gap = 0
        if gaps is not None:
            gap = gaps[offset]
        elif node.slot[offset] is None:
            gap = max - min + 1
        if gap:
            if size <= gap and size <= mas.last - min + 1:
                break
            if gaps is None:
                # Skip the next slot, it cannot be a gap.
                if offset < 2:
                    ascend = True
                    break
                offset -= 2
                max = pivots[offset]
                min = mas_safe_min(mas, pivots, offset)
                continue
        if not offset:
            ascend = True
            break
        offset -= 1
        max = min - 1
        min = mas_safe_min(mas, pivots, offset)
    if ascend:
        if not mte_is_root(mas.node):
            return False, 0, 0
        mas_set_err(mas, -EBUSY)
        return False, 0, 0
    if mas.index > max or size - 1 > max - mas.index:
        mas_set_err(mas, -EBUSY)
        return False, 0, 0
    if ma_is_leaf(mtype):
        mas.offset = offset
        return True, min, min + gap - 1
    # descend, only happens under lock.
    mas.node = node.slot[offset]
    mas.min = min
    mas.max = max
    mas.offset = mas_data_end(mas)
    return False, 0, 0


def mas_empty_area_rev(mas: MaState, min: int, max: int, size: int) -> int:
    """Model of mas_empty_area_rev(): the highest gap of @size in [min, max]."""
    last = mas.node
    if min > max:
        return -EINVAL
    if size == 0 or max - min < size - 1:
        return -EINVAL
    if mas_is_start(mas):
        mas_start(mas)
    elif mas.offset < 2 and not mas_rewind_node(mas):
        return -EBUSY
    if mas_is_none(mas) or mas_is_ptr(mas):
        return mas_sparse_area(mas, min, max, size, False)
    if mas.offset >= 2:
        mas.offset -= 2
    else:
        mas.offset = mas_data_end(mas)
    # The start of the window can only be within these values.
    mas.index = min
    mas.last = max
    while True:
        found, gmin, gmax = mas_rev_awalk(mas, size)
        if found:
            min, max = gmin, gmax
            break
        if last == mas.node:
            if not mas_rewind_node(mas):
                return -EBUSY
        else:
            last = mas.node
    if mas_is_err(mas):
        return xa_err(mas.node)
    if mas.offset == MAPLE_NODE_SLOTS:
        return -EBUSY
    # Trim the upper limit to the max.
    if max < mas.last:
        mas.last = max
    mas.index = mas.last - size + 1
    mas.end = mas_data_end(mas)
    return 0


__all__ = ["mas_empty_area", "mas_empty_area_rev"]

