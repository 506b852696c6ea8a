"""A faithful Python model of the Linux kernel maple tree (lib/maple_tree.c).

Pinned kernel: Linux 6.12.117 (Debian ``linux-source-6.12``
6.12.117-1~deb12u1), ``lib/maple_tree.c`` and
``include/linux/maple_tree.h``, 64-bit node geometry.  Every modelled
function's docstring names the kernel function it models; the kernel's names
are kept (``mas_*`` for the cursor, ``mas_wr_*`` for the write state,
``mte_*`` for encoded nodes, ``ma_*`` for decoded nodes, ``mt_*`` for the
tree, ``mtree_*`` for the locked API).

The model reaches memory, locks and RCU only through the tree's memory port
(:mod:`maple.port`), so the same code runs sequentially at full speed and,
inside rcu_harness, with every node-word access a scheduling point.

Layers, bottom up: :mod:`maple.defs` (constants), :mod:`maple.node` (nodes,
encoded pointers, parent words, metadata), :mod:`maple.port`,
:mod:`maple.tree`, :mod:`maple.state`, :mod:`maple.walk`,
:mod:`maple.alloc`, :mod:`maple.gap`, :mod:`maple.bignode`,
:mod:`maple.topiary`, :mod:`maple.subtree`, :mod:`maple.rebalance`,
:mod:`maple.split`, :mod:`maple.wrwalk`, :mod:`maple.write`,
:mod:`maple.store`, :mod:`maple.iterate`, :mod:`maple.area`,
:mod:`maple.dup`, :mod:`maple.api`, :mod:`maple.validate`, :mod:`maple.dump`.
"""

from maple.alloc import MaplePreallocExhausted
from maple.api import (
    mas_lock,
    mas_unlock,
    mtree_destroy,
    mtree_erase,
    mtree_insert,
    mtree_insert_range,
    mtree_load,
    mtree_store,
    mtree_store_range,
)
from maple.area import mas_empty_area, mas_empty_area_rev
from maple.defs import (
    GFP_KERNEL,
    GFP_NOWAIT,
    MAPLE_ARANGE64_SLOTS,
    MAPLE_HEIGHT_MAX,
    MAPLE_NODE_SLOTS,
    MAPLE_RANGE64_SLOTS,
    MAPLE_RESERVED_RANGE,
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_HEIGHT_MASK,
    MT_FLAGS_HEIGHT_OFFSET,
    MT_FLAGS_LOCK_EXTERN,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    MapleStatus,
    MapleType,
    StoreType,
    maple_arange_64,
    maple_dense,
    maple_leaf_64,
    maple_range_64,
)
from maple.dump import mt_dump, mt_dump_canonical
from maple.dup import __mt_dup, mtree_dup
from maple.iterate import (
    mas_find,
    mas_find_range,
    mas_find_rev,
    mas_for_each,
    mas_next,
    mas_next_range,
    mas_pause,
    mas_prev,
    mas_prev_range,
    mt_find,
    mt_find_after,
    mt_next,
    mt_prev,
)
from maple.node import MapleCorruption, MapleEnode, MapleNode
from maple.port import MemoryPort, NodeAccounting, PassThroughPort
from maple.state import MA_STATE, MaState, mas_reset, mas_set, mas_set_range
from maple.store import (
    mas_destroy,
    mas_entry_count,
    mas_erase,
    mas_expected_entries,
    mas_insert,
    mas_preallocate,
    mas_store,
    mas_store_gfp,
    mas_store_prealloc,
)
from maple.tree import (
    MapleTree,
    mt_clear_in_rcu,
    mt_height,
    mt_in_rcu,
    mt_set_in_rcu,
    mtree_empty,
)
from maple.validate import MapleValidationError, mt_validate
from maple.walk import MapleBug, mas_walk
from maple.xarray import (
    XA_ZERO_ENTRY,
    XaInternal,
    xa_is_value,
    xa_mk_value,
    xa_to_value,
)

KERNEL_VERSION = "6.12.117"
KERNEL_SOURCE = "Debian linux-source-6.12 6.12.117-1~deb12u1"


def mt_accounting(mt: MapleTree) -> NodeAccounting:
    """Nodes allocated, dead and waiting for a grace period, and freed."""
    return mt.port.accounting()


__all__ = [
    "GFP_KERNEL",
    "GFP_NOWAIT",
    "KERNEL_SOURCE",
    "KERNEL_VERSION",
    "MAPLE_ARANGE64_SLOTS",
    "MAPLE_HEIGHT_MAX",
    "MAPLE_NODE_SLOTS",
    "MAPLE_RANGE64_SLOTS",
    "MAPLE_RESERVED_RANGE",
    "MA_STATE",
    "MT_FLAGS_ALLOC_RANGE",
    "MT_FLAGS_HEIGHT_MASK",
    "MT_FLAGS_HEIGHT_OFFSET",
    "MT_FLAGS_LOCK_EXTERN",
    "MT_FLAGS_USE_RCU",
    "ULONG_MAX",
    "XA_ZERO_ENTRY",
    "MaState",
    "MapleBug",
    "MapleCorruption",
    "MapleEnode",
    "MapleNode",
    "MaplePreallocExhausted",
    "MapleStatus",
    "MapleTree",
    "MapleType",
    "MapleValidationError",
    "MemoryPort",
    "NodeAccounting",
    "PassThroughPort",
    "StoreType",
    "XaInternal",
    "__mt_dup",
    "maple_arange_64",
    "maple_dense",
    "maple_leaf_64",
    "maple_range_64",
    "mas_destroy",
    "mas_empty_area",
    "mas_empty_area_rev",
    "mas_entry_count",
    "mas_erase",
    "mas_expected_entries",
    "mas_find",
    "mas_find_range",
    "mas_find_rev",
    "mas_for_each",
    "mas_insert",
    "mas_lock",
    "mas_next",
    "mas_next_range",
    "mas_pause",
    "mas_preallocate",
    "mas_prev",
    "mas_prev_range",
    "mas_reset",
    "mas_set",
    "mas_set_range",
    "mas_store",
    "mas_store_gfp",
    "mas_store_prealloc",
    "mas_unlock",
    "mas_walk",
    "mt_accounting",
    "mt_clear_in_rcu",
    "mt_dump",
    "mt_dump_canonical",
    "mt_find",
    "mt_find_after",
    "mt_height",
    "mt_in_rcu",
    "mt_next",
    "mt_prev",
    "mt_set_in_rcu",
    "mt_validate",
    "mtree_destroy",
    "mtree_dup",
    "mtree_empty",
    "mtree_erase",
    "mtree_insert",
    "mtree_insert_range",
    "mtree_load",
    "mtree_store",
    "mtree_store_range",
    "xa_is_value",
    "xa_mk_value",
    "xa_to_value",
]
