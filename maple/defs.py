"""Constants, node-type tables and enums of include/linux/maple_tree.h (64-bit).

Names are the kernel's.  Node types, store types and cursor states are plain
``int`` constants (the kernel's enums) so that they can index the per-type
tables exactly as ``mt_slots[type]`` does in lib/maple_tree.c; ``MapleType``,
``StoreType`` and ``MapleStatus`` give them readable names for reports.
"""

from __future__ import annotations

from enum import IntEnum

ULONG_MAX = (1 << 64) - 1
"""Largest index of the 64-bit index space [0, 2**64 - 1]."""

# -- node geometry (64-bit) -------------------------------------------------
MAPLE_NODE_SLOTS = 31
MAPLE_RANGE64_SLOTS = 16
MAPLE_ARANGE64_SLOTS = 10
MAPLE_ALLOC_SLOTS = MAPLE_NODE_SLOTS - 1
MAPLE_NODE_MASK = 255
MAPLE_BIG_NODE_SLOTS = MAPLE_RANGE64_SLOTS * 2 + 2
MAPLE_BIG_NODE_GAPS = MAPLE_ARANGE64_SLOTS * 2 + 1
MAPLE_HEIGHT_MAX = 31
MAPLE_RESERVED_RANGE = 4096

# -- tree flags -------------------------------------------------------------
MT_FLAGS_ALLOC_RANGE = 0x01
MT_FLAGS_USE_RCU = 0x02
MT_FLAGS_HEIGHT_OFFSET = 0x02
MT_FLAGS_HEIGHT_MASK = 0x7C
MT_FLAGS_LOCK_MASK = 0x300
MT_FLAGS_LOCK_IRQ = 0x100
MT_FLAGS_LOCK_BH = 0x200
MT_FLAGS_LOCK_EXTERN = 0x300
MT_FLAGS_ALLOC_WRAPPED = 0x0800

# -- ma_state flags (lib/maple_tree.c) ----------------------------------------
MA_STATE_BULK = 1
MA_STATE_REBALANCE = 2
MA_STATE_PREALLOC = 4

# -- parent pointer encoding ------------------------------------------------
MA_ROOT_PARENT = 1
MAPLE_PARENT_ROOT = 0x01
MAPLE_PARENT_SLOT_SHIFT = 0x03
MAPLE_PARENT_SLOT_MASK = 0xF8
MAPLE_PARENT_16B_SLOT_SHIFT = 0x02
MAPLE_PARENT_16B_SLOT_MASK = 0xFC
MAPLE_PARENT_RANGE64 = 0x06
MAPLE_PARENT_RANGE32 = 0x04
MAPLE_PARENT_NOT_RANGE16 = 0x02

# -- enum maple_type --------------------------------------------------------
maple_dense = 0
maple_leaf_64 = 1
maple_range_64 = 2
maple_arange_64 = 3


class MapleType(IntEnum):
    """enum maple_type."""

    maple_dense = maple_dense
    maple_leaf_64 = maple_leaf_64
    maple_range_64 = maple_range_64
    maple_arange_64 = maple_arange_64


mt_slots = (MAPLE_NODE_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_RANGE64_SLOTS,
            MAPLE_ARANGE64_SLOTS)
mt_pivots = (0, MAPLE_RANGE64_SLOTS - 1, MAPLE_RANGE64_SLOTS - 1,
             MAPLE_ARANGE64_SLOTS - 1)
mt_min_slots = (MAPLE_NODE_SLOTS // 2, MAPLE_RANGE64_SLOTS // 2 - 2,
                MAPLE_RANGE64_SLOTS // 2 - 2, MAPLE_ARANGE64_SLOTS // 2 - 1)
mt_max = (MAPLE_NODE_SLOTS, ULONG_MAX, ULONG_MAX, ULONG_MAX)

# -- enum store_type ----------------------------------------------------------
wr_invalid = 0
wr_new_root = 1
wr_store_root = 2
wr_exact_fit = 3
wr_spanning_store = 4
wr_split_store = 5
wr_rebalance = 6
wr_append = 7
wr_node_store = 8
wr_slot_store = 9


class StoreType(IntEnum):
    """enum store_type: the write path mas_wr_store_type() chose."""

    wr_invalid = wr_invalid
    wr_new_root = wr_new_root
    wr_store_root = wr_store_root
    wr_exact_fit = wr_exact_fit
    wr_spanning_store = wr_spanning_store
    wr_split_store = wr_split_store
    wr_rebalance = wr_rebalance
    wr_append = wr_append
    wr_node_store = wr_node_store
    wr_slot_store = wr_slot_store


# -- enum maple_status ------------------------------------------------------
ma_active = 0
ma_start = 1
ma_root = 2
ma_none = 3
ma_pause = 4
ma_overflow = 5
ma_underflow = 6
ma_error = 7


class MapleStatus(IntEnum):
    """enum maple_status: the state of a struct ma_state."""

    ma_active = ma_active
    ma_start = ma_start
    ma_root = ma_root
    ma_none = ma_none
    ma_pause = ma_pause
    ma_overflow = ma_overflow
    ma_underflow = ma_underflow
    ma_error = ma_error


# -- errno values returned by the API ----------------------------------------
ENOMEM = 12
EEXIST = 17
EINVAL = 22
EBUSY = 16

# -- gfp flags (only what the tree distinguishes) ----------------------------
__GFP_DIRECT_RECLAIM = 0x400
__GFP_NOWARN = 0x2000
GFP_NOWAIT = 0x800
GFP_KERNEL = 0xCC0
"""GFP_KERNEL includes __GFP_DIRECT_RECLAIM: the allocation may sleep."""


def gfpflags_allow_blocking(gfp: int) -> bool:
    """Model of include/linux/gfp.h:gfpflags_allow_blocking()."""
    return bool(gfp & __GFP_DIRECT_RECLAIM)
