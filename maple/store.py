"""Choosing a store type, preallocating for it, and the mas_* write API.

``mas_wr_store_type()`` walks to the leaf and decides how the store will
be done (exact fit, append, slot store, node store, split, rebalance,
spanning store, new root, root store); ``mas_prealloc_calc()`` says how
many nodes that may need.  ``mas_store()``, ``mas_store_gfp()``,
``mas_erase()`` and friends are the kernel's public entry points.
"""

from __future__ import annotations

from typing import Any

from maple.alloc import (
    MaplePreallocExhausted,
    free_preallocated,
    mas_node_count,
    mas_node_count_gfp,
    mas_nomem,
)
from maple.defs import (
    EEXIST,
    EINVAL,
    GFP_KERNEL,
    MA_STATE_BULK,
    MA_STATE_PREALLOC,
    MA_STATE_REBALANCE,
    MAPLE_ARANGE64_SLOTS,
    MAPLE_RANGE64_SLOTS,
    ULONG_MAX,
    ma_none,
    ma_overflow,
    ma_pause,
    ma_start,
    ma_underflow,
    mt_min_slots,
    mt_slots,
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
from maple.node import MapleEnode, mte_is_leaf, mte_is_root
from maple.rebalance import mas_destroy_rebalance
from maple.state import (
    MaState,
    MaWrState,
    mas_is_err,
    mas_is_none,
    mas_is_ptr,
    mas_reset,
    mas_set_err,
    xa_err,
)
from maple.tree import mt_in_rcu, mt_is_alloc
from maple.walk import (
    MapleBug,
    MapleWarning,
    mas_mt_height,
    mas_start,
    mas_state_walk,
    mtree_range_walk,
)
from maple.write import mas_wr_store_entry
from maple.wrwalk import (
    mas_wr_end_piv,
    mas_wr_extend_null,
    mas_wr_new_end,
    mas_wr_walk,
    mas_wr_walk_descend,
)
from maple.xarray import XaInternal, xa_is_internal


def _node_word_is_leaf(node: Any) -> bool:
    """mte_is_leaf() of whatever mas->node holds (NULL reads as a dense leaf)."""
    if isinstance(node, MapleEnode):
        return mte_is_leaf(node)
    if isinstance(node, XaInternal):  # an encoded errno: MA_ERROR(err)
        return bool((((node.v << 2) | 2) & ULONG_MAX) >> 3 & 0x0F < 2)
    return True


def mas_wr_prealloc_setup(wr_mas: MaWrState) -> None:
    """Model of mas_wr_prealloc_setup(): reset the walk unless it can continue."""
    mas = wr_mas.mas
    status = mas.status
    if status == ma_start:
        wr_mas.content = mas_start(mas)
        return
    if status in (ma_pause, ma_none, ma_overflow, ma_underflow) or mas.last > mas.max:
        reset = True
    elif wr_mas.entry is not None:
        reset = False
    else:
        reset = _node_word_is_leaf(mas.node) and mas.last == mas.max
    if reset:
        mas_reset(mas)
    wr_mas.content = mas_start(mas)


def mas_prealloc_calc(mas: MaState, entry: Any) -> int:
    """Model of mas_prealloc_calc(): nodes the chosen store type may need."""
    height = mas_mt_height(mas)
    store_type = mas.store_type
    if store_type == wr_new_root:
        return 1
    if store_type == wr_store_root:
        if mas.last != 0 or mas.index != 0:
            return 1
        return 1 if xa_is_internal(entry) else 0
    if store_type == wr_spanning_store:
        return height * 3 + 1
    if store_type == wr_split_store:
        return height * 2 + 1
    if store_type == wr_rebalance:
        return height * 2 - 1
    if store_type == wr_node_store:
        return 1 if mt_in_rcu(mas.tree) else 0
    if store_type in (wr_append, wr_exact_fit, wr_slot_store):
        return 0
    raise MapleWarning("mas_prealloc_calc", "1", "wr_invalid store type",
                       "the store type is wr_invalid; the kernel asks for "
                       f"{height * 3 + 1} nodes and goes on.", macro="WARN_ON_ONCE")


def mas_wr_store_type(wr_mas: MaWrState) -> None:
    """Model of mas_wr_store_type(): decide how the store will be done."""
    mas = wr_mas.mas
    if mas_is_none(mas) or mas_is_ptr(mas):
        mas.store_type = wr_store_root
        return
    if not mas_wr_walk(wr_mas):
        mas.store_type = wr_spanning_store
        return
    # At this point, we are at the leaf node that needs to be altered.
    mas_wr_end_piv(wr_mas)
    if wr_mas.entry is None:
        mas_wr_extend_null(wr_mas)
    new_end = mas_wr_new_end(wr_mas)
    if wr_mas.r_min == mas.index and wr_mas.r_max == mas.last:
        mas.store_type = wr_exact_fit
        return
    if not mas.index and mas.last == ULONG_MAX:
        mas.store_type = wr_new_root
        return
    # Potential spanning rebalance collapsing a node
    if new_end < mt_min_slots[wr_mas.type]:
        if not mte_is_root(mas.node) and not mas.mas_flags & MA_STATE_BULK:
            mas.store_type = wr_rebalance
            return
        mas.store_type = wr_node_store
        return
    if new_end >= mt_slots[wr_mas.type]:
        mas.store_type = wr_split_store
        return
    if not mt_in_rcu(mas.tree) and mas.offset == mas.end:
        mas.store_type = wr_append
        return
    if new_end == mas.end and (not mt_in_rcu(mas.tree)
                               or wr_mas.offset_end - mas.offset == 1):
        mas.store_type = wr_slot_store
        return
    if mte_is_root(mas.node) or new_end >= mt_min_slots[wr_mas.type] or \
            mas.mas_flags & MA_STATE_BULK:
        mas.store_type = wr_node_store
        return
    mas.store_type = wr_invalid
    raise MapleWarning("mas_wr_store_type", "1", "no store type fits",
                       f"no store type fits the store of [{mas.index:#x}, "
                       f"{mas.last:#x}] (new end {new_end}); the kernel sets "
                       "wr_invalid and goes on.", macro="MAS_WARN_ON")


def mas_wr_preallocate(wr_mas: MaWrState, entry: Any) -> None:
    """Model of mas_wr_preallocate(): choose the store type and preallocate."""
    mas = wr_mas.mas
    mas_wr_prealloc_setup(wr_mas)
    mas_wr_store_type(wr_mas)
    request = mas_prealloc_calc(mas, entry)
    if not request:
        return
    mas_node_count(mas, request)


def mas_insert(mas: MaState, entry: Any) -> Any:
    """Model of mas_insert(): store only if the range is empty (-EEXIST else)."""
    wr_mas = MaWrState(mas, entry)
    wr_mas.content = mas_start(mas)
    if wr_mas.content is not None:
        mas_set_err(mas, -EEXIST)
        return wr_mas.content
    mas_wr_preallocate(wr_mas, entry)
    if mas_is_err(mas):
        return None
    # spanning writes always overwrite something
    if mas.store_type == wr_spanning_store:
        mas_set_err(mas, -EEXIST)
        return wr_mas.content
    if mas.store_type not in (wr_new_root, wr_store_root):
        wr_mas.offset_end = mas.offset
        wr_mas.end_piv = wr_mas.r_max
        if wr_mas.content is not None or mas.last > wr_mas.r_max:
            mas_set_err(mas, -EEXIST)
            return wr_mas.content
    mas_wr_store_entry(wr_mas)
    return wr_mas.content


def mas_store(mas: MaState, entry: Any) -> Any:
    """Model of mas_store(): store @entry over [mas->index, mas->last].

    Returns the first entry that was overwritten.
    """
    wr_mas = MaWrState(mas, entry)
    if mas.index > mas.last:
        mas_set_err(mas, -EINVAL)
        return None
    mas_wr_prealloc_setup(wr_mas)
    mas_wr_store_type(wr_mas)
    if mas.mas_flags & MA_STATE_PREALLOC:
        mas_wr_store_entry(wr_mas)
        if mas_is_err(mas):
            raise MapleBug("mas_store", "mas_is_err(mas)",
                           "error with preallocated nodes", macro="MAS_WR_BUG_ON")
        return wr_mas.content
    request = mas_prealloc_calc(mas, entry)
    if request:
        mas_node_count(mas, request)
        if mas_is_err(mas):
            return None
    mas_wr_store_entry(wr_mas)
    mas_destroy(mas)
    return wr_mas.content


def mas_store_gfp(mas: MaState, entry: Any, gfp: int = GFP_KERNEL) -> int:
    """Model of mas_store_gfp(): store, allocating with @gfp; 0 or -errno."""
    index = mas.index
    last = mas.last
    wr_mas = MaWrState(mas, entry)
    ret = 0
    while True:
        mas_wr_preallocate(wr_mas, entry)
        if not mas_nomem(mas, gfp):
            break
        if entry is None:
            mas.index = index
            mas.last = last
    if mas_is_err(mas):
        ret = xa_err(mas.node)
    else:
        mas_wr_store_entry(wr_mas)
    mas_destroy(mas)
    return ret


def mas_store_prealloc(mas: MaState, entry: Any) -> None:
    """Model of mas_store_prealloc(): store with nodes from mas_preallocate()."""
    wr_mas = MaWrState(mas, entry)
    if mas.store_type == wr_store_root:
        mas_wr_prealloc_setup(wr_mas)
    else:
        mas_wr_walk_descend(wr_mas)
        if mas.store_type != wr_spanning_store:
            # set wr_mas->content to current slot
            wr_mas.content = wr_mas.slots[mas.offset]
            mas_wr_end_piv(wr_mas)
    mas_wr_store_entry(wr_mas)
    if mas_is_err(mas):
        raise MapleBug("mas_store_prealloc", "mas_is_err(mas)",
                       "error with preallocated nodes", macro="MAS_WR_BUG_ON")
    mas_destroy(mas)


def mas_preallocate(mas: MaState, entry: Any, gfp: int = GFP_KERNEL) -> int:
    """Model of mas_preallocate(): allocate enough nodes for the next store."""
    wr_mas = MaWrState(mas, entry)
    mas_wr_prealloc_setup(wr_mas)
    mas_wr_store_type(wr_mas)
    request = mas_prealloc_calc(mas, entry)
    if request:
        mas.mas_flags &= ~MA_STATE_PREALLOC
        mas_node_count_gfp(mas, request, gfp)
        if mas_is_err(mas):
            mas.alloc_req = 0
            ret = xa_err(mas.node)
            mas_destroy(mas)
            mas_reset(mas)
            return ret
    mas.mas_flags |= MA_STATE_PREALLOC
    return 0


def mas_destroy(mas: MaState) -> None:
    """Model of mas_destroy(): fix up a bulk insert, free unused nodes."""
    if mas.mas_flags & MA_STATE_REBALANCE:
        if mas_is_err(mas):
            mas_reset(mas)
        mas_start(mas)
        mtree_range_walk(mas)
        end = mas.end + 1
        if end < mt_min_slots[mas.node[1]] - 1:
            mas_destroy_rebalance(mas, end)
        mas.mas_flags &= ~MA_STATE_REBALANCE
    mas.mas_flags &= ~(MA_STATE_BULK | MA_STATE_PREALLOC)
    free_preallocated(mas)
    mas.alloc_req = 0


def mas_expected_entries(mas: MaState, nr_entries: int) -> int:
    """Model of mas_expected_entries(): bulk mode, preallocating for @nr_entries.

    The 2021 patch called this mas_entry_count().
    """
    nonleaf_cap = MAPLE_ARANGE64_SLOTS - 2
    enode = mas.node
    mas.mas_flags |= MA_STATE_BULK
    nr_nodes = max(nr_entries, nr_entries * 2 + 1)
    if not mt_is_alloc(mas.tree):
        nonleaf_cap = MAPLE_RANGE64_SLOTS - 2
    # Leaves; reduce slots to keep space for expansion
    nr_nodes = -(-nr_nodes // (MAPLE_RANGE64_SLOTS - 2))
    # Internal nodes
    nr_nodes += -(-nr_nodes // nonleaf_cap)
    # Add working room for split (2 nodes) + new parents
    mas_node_count_gfp(mas, nr_nodes + 3, GFP_KERNEL)
    # Detect if allocations run out
    mas.mas_flags |= MA_STATE_PREALLOC
    if not mas_is_err(mas):
        return 0
    ret = xa_err(mas.node)
    mas.node = enode
    mas_destroy(mas)
    return ret


mas_entry_count = mas_expected_entries


def mas_erase(mas: MaState) -> Any:
    """Model of mas_erase(): erase the whole range that holds mas->index.

    Returns the erased entry; index and last become its range.
    """
    index = mas.index
    wr_mas = MaWrState(mas, None)
    mas.status = ma_start
    while True:
        entry = mas_state_walk(mas)
        if entry is None:
            return None
        # Must reset to ensure spanning writes of last slot are detected
        mas_reset(mas)
        mas_wr_preallocate(wr_mas, None)
        if mas_nomem(mas, GFP_KERNEL):
            # in case the range of entry changed when unlocked
            mas.index = mas.last = index
            continue
        break
    if not mas_is_err(mas):
        mas_wr_store_entry(wr_mas)
    mas_destroy(mas)
    return entry


__all__ = ["MaplePreallocExhausted", "mas_erase", "mas_store", "mas_store_gfp"]
