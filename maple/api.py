"""The normal API (``mtree_*``): each call takes the lock or RCU itself.

Entries must not be advanced internal entries (``xa_is_advanced``: the
kernel's ``WARN_ON_ONCE()`` fires, :class:`~maple.node.MapleWarning`);
``XA_ZERO_ENTRY`` may be stored and reads back as NULL.  Stores return
0 or a negative errno, as in the kernel.
"""

from __future__ import annotations

from typing import Any

from maple.alloc import mas_nomem
from maple.defs import EINVAL, ENOMEM, GFP_KERNEL
from maple.node import MapleEnode, MapleWarning
from maple.state import (
    MaState,
    mas_is_err,
    mas_is_none,
    mas_is_ptr,
    mas_is_start,
    xa_err,
)
from maple.store import mas_destroy, mas_erase, mas_insert, mas_store_gfp
from maple.topiary import mte_destroy_walk
from maple.tree import MapleTree, mt_attr
from maple.walk import mas_start, mtree_lookup_walk
from maple.xarray import xa_is_advanced, xa_is_zero


def mtree_load(mt: MapleTree, index: int) -> Any:
    """Model of mtree_load(): the entry at @index, under rcu_read_lock()."""
    mas = MaState(mt, index, index)
    port = mt.port
    port.rcu_read_lock()
    while True:
        entry = mas_start(mas)
        if mas_is_none(mas):
            break
        if mas_is_ptr(mas):
            if index:
                entry = None
            break
        entry = mtree_lookup_walk(mas)
        if entry is None and mas_is_start(mas):
            continue
        break
    port.rcu_read_unlock()
    if xa_is_zero(entry):
        return None
    return entry


def _advanced(function: str, entry: Any) -> MapleWarning:
    """The ``WARN_ON_ONCE(xa_is_advanced(entry))`` of the normal API's stores,
    after which the kernel returns -EINVAL."""
    return MapleWarning(function, "xa_is_advanced(entry)",
                        "an advanced internal entry stored",
                        f"the entry {entry!r} is an advanced internal entry, which "
                        "the normal API refuses; the kernel returns -EINVAL.",
                        macro="WARN_ON_ONCE")


def mtree_store_range(mt: MapleTree, index: int, last: int, entry: Any,
                      gfp: int = GFP_KERNEL) -> int:
    """Model of mtree_store_range(): store @entry over [@index, @last]."""
    if xa_is_advanced(entry):
        raise _advanced("mtree_store_range", entry)
    if index > last:
        return -EINVAL
    mas = MaState(mt, index, last)
    mt.port.mtree_lock(mt)
    ret = mas_store_gfp(mas, entry, gfp)
    mt.port.mtree_unlock(mt)
    return ret


def mtree_store(mt: MapleTree, index: int, entry: Any, gfp: int = GFP_KERNEL) -> int:
    """Model of mtree_store(): store @entry at @index."""
    return mtree_store_range(mt, index, index, entry, gfp)


def mtree_insert_range(mt: MapleTree, first: int, last: int, entry: Any,
                       gfp: int = GFP_KERNEL) -> int:
    """Model of mtree_insert_range(): store only into an empty range (-EEXIST)."""
    if xa_is_advanced(entry):
        raise _advanced("mtree_insert_range", entry)
    if first > last:
        return -EINVAL
    ms = MaState(mt, first, last)
    mt.port.mtree_lock(mt)
    while True:
        mas_insert(ms, entry)
        if not mas_nomem(ms, gfp):
            break
    mt.port.mtree_unlock(mt)
    ret = xa_err(ms.node) if mas_is_err(ms) else 0
    mas_destroy(ms)
    return ret


def mtree_insert(mt: MapleTree, index: int, entry: Any, gfp: int = GFP_KERNEL) -> int:
    """Model of mtree_insert()."""
    return mtree_insert_range(mt, index, index, entry, gfp)


def mtree_erase(mt: MapleTree, index: int) -> Any:
    """Model of mtree_erase(): erase the whole range holding @index.

    Returns the entry that was stored there, or None.
    """
    mas = MaState(mt, index, index)
    mt.port.mtree_lock(mt)
    entry = mas_erase(mas)
    mt.port.mtree_unlock(mt)
    return entry


def __mt_destroy(mt: MapleTree) -> None:
    """Model of __mt_destroy(): free every node; the caller holds the lock."""
    port = mt.port
    root = port.root_load(mt)
    port.root_store(mt, None)
    if isinstance(root, MapleEnode):
        mte_destroy_walk(root, mt)
    port.flags_store(mt, mt_attr(mt))


def mtree_destroy(mt: MapleTree) -> None:
    """Model of mtree_destroy(): __mt_destroy() under the tree lock."""
    mt.port.mtree_lock(mt)
    __mt_destroy(mt)
    mt.port.mtree_unlock(mt)


def mas_lock(mas: MaState) -> None:
    """Model of mas_lock(): take the tree lock."""
    mas.tree.port.mtree_lock(mas.tree)


def mas_unlock(mas: MaState) -> None:
    """Model of mas_unlock(): release the tree lock."""
    mas.tree.port.mtree_unlock(mas.tree)


__all__ = ["ENOMEM", "mtree_destroy", "mtree_erase", "mtree_load", "mtree_store_range"]
