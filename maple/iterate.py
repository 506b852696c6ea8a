"""Iteration: mas_find(), mas_next(), mas_prev(), mas_pause(), mt_find().

These run under rcu_read_lock() (or the tree lock).  After every load they
re-check that the node is not dead and, if it is, rewalk from the saved
point (``mas_rewalk``) exactly where the kernel does, so a reader racing a
writer in RCU mode may restart but never uses a value from a dead node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.defs import (
    ULONG_MAX,
    ma_active,
    ma_error,
    ma_none,
    ma_overflow,
    ma_pause,
    ma_root,
    ma_start,
    ma_underflow,
)
from maple.node import MapleNode, decode_slot, ma_dead_node, ma_is_root, mte_dead_node
from maple.nullptr import walked_type
from maple.state import (
    MaState,
    mas_is_active,
    mas_is_none,
    mas_is_overflow,
    mas_is_ptr,
    mas_is_start,
    mas_is_underflow,
    mas_mn,
)
from maple.walk import (
    MapleWarning,
    ma_data_end,
    mas_ascend,
    mas_data_end,
    mas_rewalk,
    mas_rewalk_if_dead,
    mas_root,
    mas_safe_min,
    mas_safe_pivot,
    mas_state_walk,
    mas_walk,
)
from maple.xarray import xa_is_zero

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maple.tree import MapleTree


def mas_prev_node(mas: MaState, min: int) -> int:
    """Model of mas_prev_node(): move to the previous node at the same level.

    Returns 1 on a dead node, else 0 (status ma_underflow if there is none).
    """
    node = mas.node[0]
    if not mas.min or mas.min - 1 < min:
        return _prev_node_no_entry(mas, node)
    max = mas.min - 1
    level = 0
    while True:
        if ma_is_root(node):
            return _prev_node_no_entry(mas, node)
        if mas_ascend(mas):
            return 1
        offset = mas.offset
        level += 1
        node = mas.node[0]
        if offset:
            break
    offset -= 1
    mt = mas.node[1]
    while level > 1:
        level -= 1
        mas.node = node.slot[offset]
        if ma_dead_node(node):
            return 1
        mt = walked_type(mas.node)
        node = mas_mn(mas)
        offset = ma_data_end(node, mt, node.pivot, max)
        if ma_dead_node(node):
            return 1
    mas.node = node.slot[offset]
    pivots = node.pivot
    if ma_dead_node(node):
        return 1
    if offset:
        mas.min = pivots[offset - 1] + 1
    mas.max = max
    mas.offset = mas_data_end(mas)
    if mte_dead_node(mas.node):
        return 1
    mas.end = mas.offset
    return 0


def _prev_node_no_entry(mas: MaState, node: Any) -> int:
    """The no_entry: label of mas_prev_node()."""
    if ma_dead_node(node):
        return 1
    mas.status = ma_underflow
    return 0


def _pivot_before(node: MapleNode, offset: int) -> int:
    """``pivots[offset - 1]``; at offset 0 C reads the word before the pivots,
    the parent word."""
    return node.pivot[offset - 1] if offset else node.parent


def mas_prev_slot(mas: MaState, min: int, empty: bool) -> Any:
    """Model of mas_prev_slot(): the entry in the previous slot (maybe NULL)."""
    save_point = mas.index
    while True:  # retry:
        node = mas_mn(mas)
        pivots = node.pivot
        if mas_rewalk_if_dead(mas, node, save_point):
            continue
        if mas.min <= min:
            pivot = mas_safe_min(mas, pivots, mas.offset)
            if mas_rewalk_if_dead(mas, node, save_point):
                continue
            if pivot <= min:
                mas.status = ma_underflow
                return None
        retry = False
        while True:  # again:
            if mas.offset:
                mas.offset -= 1
                mas.last = (mas.index - 1) & ULONG_MAX
                mas.index = mas_safe_min(mas, pivots, mas.offset)
            else:
                if mas.index <= min:
                    mas.status = ma_underflow
                    return None
                if mas_prev_node(mas, min):
                    mas_rewalk(mas, save_point)
                    retry = True
                    break
                if mas_is_underflow(mas):
                    raise MapleWarning(
                        "mas_prev_slot", "mas_is_underflow(mas)",
                        "no previous node though the index is above the minimum",
                        f"mas_prev_node() left the state in underflow with index "
                        f"{mas.index:#x} above the minimum {min:#x}; the kernel "
                        "returns NULL.", macro="WARN_ON_ONCE")
                mas.last = mas.max
                node = mas_mn(mas)
                pivots = node.pivot
                mas.index = (_pivot_before(node, mas.offset) + 1) & ULONG_MAX
            entry = node.slot[mas.offset]
            if mas_rewalk_if_dead(mas, node, save_point):
                retry = True
                break
            if entry is not None:
                return entry
            if not empty:
                if mas.index <= min:
                    mas.status = ma_underflow
                    return None
                continue
            return entry
        if retry:
            continue


def mas_next_node(mas: MaState, node: Any, max: int) -> int:
    """Model of mas_next_node(): move to the next node at the same level.

    Returns 1 on a dead node, else 0 (status ma_overflow if there is none).
    """
    if mas.max >= max:
        return _next_node_overflow(mas, node)
    min = mas.max + 1
    level = 0
    while True:
        if ma_is_root(node):
            return _next_node_overflow(mas, node)
        if mas_ascend(mas):
            return 1
        level += 1
        node = mas.node[0]
        mt = mas.node[1]
        pivots = node.pivot
        node_end = ma_data_end(node, mt, pivots, mas.max)
        if ma_dead_node(node):
            return 1
        if mas.offset != node_end:
            break
    slots = node.slot
    mas.offset += 1
    enode = slots[mas.offset]
    if ma_dead_node(node):
        return 1
    if level > 1:
        mas.offset = 0
    while level > 1:
        level -= 1
        mas.node = enode
        node = mas_mn(mas)
        mt = walked_type(mas.node)
        enode = node.slot[0]
        if ma_dead_node(node):
            return 1
    if not mas.offset:
        pivots = node.pivot
    mas.max = mas_safe_pivot(mas, pivots, mas.offset, mt)
    tmp, mt = decode_slot(enode)
    mas.end = ma_data_end(tmp, mt, tmp.pivot, mas.max) if tmp is not None else 0
    if ma_dead_node(node):
        return 1
    mas.node = enode
    mas.min = min
    return 0


def _next_node_overflow(mas: MaState, node: Any) -> int:
    """The overflow: label of mas_next_node()."""
    if ma_dead_node(node):
        return 1
    mas.status = ma_overflow
    return 0


def mas_next_slot(mas: MaState, max: int, empty: bool) -> Any:
    """Model of mas_next_slot(): the entry in the next slot (maybe NULL)."""
    save_point = mas.last
    while True:  # retry:
        node = mas_mn(mas)
        pivots = node.pivot
        if mas_rewalk_if_dead(mas, node, save_point):
            continue
        if mas.max >= max:
            if mas.offset < mas.end:
                pivot = pivots[mas.offset]
            else:
                pivot = mas.max
            if mas_rewalk_if_dead(mas, node, save_point):
                continue
            if pivot >= max:  # Was at the limit, next will extend beyond
                mas.status = ma_overflow
                return None
        retry = False
        if mas.offset < mas.end:
            mas.index = pivots[mas.offset] + 1
            advance = True
        else:
            if mas.last >= max:
                mas.status = ma_overflow
                return None
            if mas_next_node(mas, node, max):
                mas_rewalk(mas, save_point)
                continue
            if mas_is_overflow(mas):
                raise MapleWarning(
                    "mas_next_slot", "mas_is_overflow(mas)",
                    "no next node though the last index is below the maximum",
                    f"mas_next_node() left the state in overflow with last "
                    f"{mas.last:#x} below the maximum {max:#x}; the kernel "
                    "returns NULL.", macro="WARN_ON_ONCE")
            mas.offset = 0
            mas.index = mas.min
            node = mas_mn(mas)
            pivots = node.pivot
            mas.last = pivots[0]
            advance = False
        while True:  # again:
            if advance:
                mas.offset += 1
                if mas.offset < mas.end:
                    mas.last = pivots[mas.offset]
                else:
                    mas.last = mas.max
            advance = True
            entry = node.slot[mas.offset]
            if mas_rewalk_if_dead(mas, node, save_point):
                retry = True
                break
            if entry is not None:
                return entry
            if not empty:
                if mas.last >= max:
                    mas.status = ma_overflow
                    return None
                mas.index = mas.last + 1
                continue
            return entry
        if retry:
            continue


def mas_next_entry(mas: MaState, limit: int) -> Any:
    """Model of mas_next_entry(): the next non-NULL entry up to @limit."""
    if mas.last >= limit:
        mas.status = ma_overflow
        return None
    return mas_next_slot(mas, limit, False)


def mas_next_setup(mas: MaState, max: int) -> tuple[bool, Any]:
    """Model of mas_next_setup(): (done, entry) before stepping forward."""
    was_none = mas_is_none(mas)
    entry = None
    if mas.last >= max:
        mas.status = ma_overflow
        return True, None
    status = mas.status
    if status == ma_active:
        return False, None
    if status in (ma_none, ma_pause):
        mas.status = ma_start
        status = ma_start
    if status == ma_start:
        mas_walk(mas)  # Retries on dead nodes handled by mas_walk
    elif status == ma_overflow:
        # Overflowed before, but the max changed
        mas.status = ma_active
    elif status == ma_underflow:
        # The user expects the mas to be one before where it is
        mas.status = ma_active
        entry = mas_walk(mas)
        if entry is not None:
            return True, entry
    elif status == ma_error:
        return True, None
    if mas_is_active(mas):
        return False, None
    if mas_is_ptr(mas):
        if was_none and mas.index == 0:
            mas.index = mas.last = 0
            return True, None
        mas.index = 1
        mas.last = ULONG_MAX
        mas.status = ma_none
        return True, None
    return mas_is_none(mas), None


def mas_next(mas: MaState, max: int) -> Any:
    """Model of mas_next(): the next entry after mas->index, up to @max."""
    done, entry = mas_next_setup(mas, max)
    if done:
        return entry
    return mas_next_slot(mas, max, False)


def mas_next_range(mas: MaState, max: int) -> Any:
    """Model of mas_next_range(): advance to the next range (maybe NULL)."""
    done, entry = mas_next_setup(mas, max)
    if done:
        return entry
    return mas_next_slot(mas, max, True)


def mas_prev_setup(mas: MaState, min: int) -> tuple[bool, Any]:
    """Model of mas_prev_setup(): (done, entry) before stepping backward."""
    if mas.index <= min:
        mas.status = ma_underflow
        return True, None
    status = mas.status
    if status == ma_active:
        return False, None
    if status in (ma_none, ma_pause):
        mas.status = ma_start
    elif status == ma_underflow:
        mas.status = ma_active
    elif status == ma_overflow:
        mas.status = ma_active
        entry = mas_walk(mas)
        if entry is not None:
            return True, entry
    elif status == ma_error:
        return True, None
    if mas_is_start(mas):
        mas_walk(mas)
    if mas_is_ptr(mas):
        if not mas.index:
            mas.status = ma_none
            return True, None
        mas.index = mas.last = 0
        return True, mas_root(mas)
    if mas_is_none(mas):
        if mas.index:
            # Walked to out-of-range pointer?
            mas.index = mas.last = 0
            mas.status = ma_root
            return True, mas_root(mas)
        return True, None
    return False, None


def mas_prev(mas: MaState, min: int) -> Any:
    """Model of mas_prev(): the previous entry before mas->index, down to @min."""
    done, entry = mas_prev_setup(mas, min)
    if done:
        return entry
    return mas_prev_slot(mas, min, False)


def mas_prev_range(mas: MaState, min: int) -> Any:
    """Model of mas_prev_range(): move to the previous range (maybe NULL)."""
    done, entry = mas_prev_setup(mas, min)
    if done:
        return entry
    return mas_prev_slot(mas, min, True)


def mas_pause(mas: MaState) -> None:
    """Model of mas_pause(): the next find restarts from the root at last + 1."""
    mas.status = ma_pause
    mas.node = None


def mas_find_setup(mas: MaState, max: int) -> tuple[bool, Any]:
    """Model of mas_find_setup(): (done, entry) before mas_find() steps."""
    status = mas.status
    if status == ma_active:
        return mas.last >= max, None
    if status == ma_pause:
        if mas.last >= max:
            return True, None
        mas.last = (mas.last + 1) & ULONG_MAX
        mas.index = mas.last
        mas.status = ma_start
    elif status == ma_none:
        if mas.last >= max:
            return True, None
        mas.index = mas.last
        mas.status = ma_start
    elif status == ma_underflow:
        # mas is pointing at entry before unable to go lower
        if mas.index >= max:
            mas.status = ma_overflow
            return True, None
        mas.status = ma_active
        entry = mas_walk(mas)
        if entry is not None:
            return True, entry
    elif status == ma_overflow:
        if mas.last >= max:
            return True, None
        mas.status = ma_active
        entry = mas_walk(mas)
        if entry is not None:
            return True, entry
    elif status == ma_error:
        return True, None
    if mas_is_start(mas):
        # First run or continue
        if mas.index > max:
            return True, None
        entry = mas_walk(mas)
        if entry is not None:
            return True, entry
    if mas_is_ptr(mas):
        mas.status = ma_none
        mas.index = 1
        mas.last = ULONG_MAX
        return True, None
    if mas_is_none(mas):
        return True, None
    if mas.index == max:
        return True, None
    return False, None


def mas_find(mas: MaState, max: int) -> Any:
    """Model of mas_find(): the entry at or after mas->index, then the next one.

    On the first call returns the entry covering mas->index if any, else the
    next non-NULL entry up to @max; index/last become that entry's range.
    """
    done, entry = mas_find_setup(mas, max)
    if done:
        return entry
    # Retries on dead nodes handled by mas_next_slot
    entry = mas_next_slot(mas, max, False)
    # Ignore overflow
    mas.status = ma_active
    return entry


def mas_find_range(mas: MaState, max: int) -> Any:
    """Model of mas_find_range(): like mas_find() but stops at NULL ranges too."""
    done, entry = mas_find_setup(mas, max)
    if done:
        return entry
    return mas_next_slot(mas, max, True)


def mas_for_each(mas: MaState, max: int) -> Iterator[Any]:
    """Model of mas_for_each() (a macro): ``while ((e = mas_find(mas, max)))``.

    Yields each entry with mas.index/mas.last set to its range.
    """
    while True:
        entry = mas_find(mas, max)
        if entry is None:
            return
        yield entry


def mt_find(mt: MapleTree, index: int, max: int) -> tuple[Any, int]:
    """Model of mt_find(): the first entry at or after @index, up to @max.

    Takes the RCU read lock itself.  Returns (entry, new index): the index
    just past the entry found (the kernel updates ``*index``), or @index
    unchanged if nothing was found.
    """
    mas = MaState(mt, index, index)
    if index > max:
        return None, index
    port = mt.port
    port.rcu_read_lock()
    while True:
        entry = mas_state_walk(mas)
        if not mas_is_start(mas):
            break
    if xa_is_zero(entry):
        entry = None
    if entry is None:
        while mas_is_active(mas) and mas.last < max:
            entry = mas_next_entry(mas, max)
            if entry is not None and not xa_is_zero(entry):
                break
        if xa_is_zero(entry):
            entry = None
    port.rcu_read_unlock()
    if entry is not None:
        return entry, (mas.last + 1) & ULONG_MAX
    return None, index


def mt_find_after(mt: MapleTree, index: int, max: int) -> tuple[Any, int]:
    """Model of mt_find_after(): mt_find() unless @index wrapped to 0."""
    if not index:
        return None, index
    return mt_find(mt, index, max)


def mt_next(mt: MapleTree, index: int, max: int) -> Any:
    """Model of mt_next(): the entry after @index, under rcu_read_lock()."""
    mas = MaState(mt, index, index)
    mt.port.rcu_read_lock()
    entry = mas_next(mas, max)
    mt.port.rcu_read_unlock()
    return entry


def mt_prev(mt: MapleTree, index: int, min: int) -> Any:
    """Model of mt_prev(): the entry before @index, under rcu_read_lock()."""
    mas = MaState(mt, index, index)
    mt.port.rcu_read_lock()
    entry = mas_prev(mas, min)
    mt.port.rcu_read_unlock()
    return entry


def mas_find_rev_setup(mas: MaState, min: int) -> tuple[bool, Any]:
    """Model of mas_find_rev_setup(): (done, entry) before mas_find_rev() steps."""
    status = mas.status
    if status != ma_active:
        if status == ma_pause:
            if mas.index <= min:
                mas.status = ma_underflow
                return True, None
            mas.index = mas.index - 1
            mas.last = mas.index
            mas.status = ma_start
        elif status == ma_none:
            if mas.index <= min:
                mas.status = ma_none
                return True, None
            mas.last = mas.index
            mas.status = ma_start
        elif status == ma_overflow:
            if mas.index <= min:
                mas.status = ma_underflow
                return True, None
            mas.status = ma_active
        elif status == ma_underflow:
            if mas.index <= min:
                return True, None
            mas.status = ma_active
        elif status == ma_error:
            return True, None
        if mas_is_start(mas):
            # First run or continue
            if mas.index < min:
                return True, None
            entry = mas_walk(mas)
            if entry is not None:
                return True, entry
        if mas_is_ptr(mas):
            mas.status = ma_none
            return True, None
        if mas_is_none(mas):
            # Walked to the location, and there was nothing so the previous
            # location is 0.
            mas.last = mas.index = 0
            mas.status = ma_root
            return True, mas_root(mas)
    # active:
    if mas.index < min:
        return True, None
    return False, None


def mas_find_rev(mas: MaState, min: int) -> Any:
    """Model of mas_find_rev(): the entry at or below mas->index, then the previous."""
    done, entry = mas_find_rev_setup(mas, min)
    if done:
        return entry
    # Retries on dead nodes handled by mas_prev_slot
    return mas_prev_slot(mas, min, False)


def mas_find_range_rev(mas: MaState, min: int) -> Any:
    """Model of mas_find_range_rev(): like mas_find_rev() but stops at NULLs."""
    done, entry = mas_find_rev_setup(mas, min)
    if done:
        return entry
    return mas_prev_slot(mas, min, True)
