"""struct maple_tree and its tree-level helpers (include/linux/maple_tree.h).

``ma_root`` and ``ma_flags`` are words another thread can observe, so the
model reads and writes them only through the tree's memory port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.defs import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_HEIGHT_MASK,
    MT_FLAGS_HEIGHT_OFFSET,
    MT_FLAGS_LOCK_EXTERN,
    MT_FLAGS_LOCK_MASK,
    MT_FLAGS_USE_RCU,
)
from maple.port import PassThroughPort

if TYPE_CHECKING:
    from maple.port import MemoryPort


class MapleTree:
    """struct maple_tree: ``MapleTree(flags)`` is mt_init_flags().

    Args:
        flags: the tree flags (``MT_FLAGS_ALLOC_RANGE`` for gap tracking,
            ``MT_FLAGS_USE_RCU`` to start in RCU mode).
        port: the memory port; a fresh :class:`PassThroughPort` by default.
    """

    __slots__ = ("addr", "ma_flags", "ma_root", "name", "port")

    def __init__(self, flags: int = 0, *, port: MemoryPort | None = None,
                 name: str = "mt") -> None:
        self.port: MemoryPort = port if port is not None else PassThroughPort()
        self.name = name
        self.addr = 0
        self.ma_flags = flags
        self.ma_root: object = None
        self.port.tree_init(self)

    def __repr__(self) -> str:
        return f"<maple_tree {self.name} {self.addr:#x}>"


def mt_init_flags(mt: MapleTree, flags: int) -> None:
    """Model of mt_init_flags(): set the flags and an empty root."""
    mt.port.flags_store(mt, flags)
    mt.port.root_store(mt, None)


def mt_external_lock(mt: MapleTree) -> bool:
    """Model of mt_external_lock()."""
    return (mt.port.flags_load(mt) & MT_FLAGS_LOCK_MASK) == MT_FLAGS_LOCK_EXTERN


def mt_in_rcu(mt: MapleTree) -> bool:
    """Model of mt_in_rcu(): is the tree in RCU mode?"""
    return bool(mt.port.flags_load(mt) & MT_FLAGS_USE_RCU)


def mt_is_alloc(mt: MapleTree) -> bool:
    """Model of mt_is_alloc(): does the tree track gaps?"""
    return bool(mt.port.flags_load(mt) & MT_FLAGS_ALLOC_RANGE)


def mt_height(mt: MapleTree) -> int:
    """Model of mt_height(): the height stored in the flags."""
    return (mt.port.flags_load(mt) & MT_FLAGS_HEIGHT_MASK) >> MT_FLAGS_HEIGHT_OFFSET


def mt_attr(mt: MapleTree) -> int:
    """Model of mt_attr(): the flags without the height."""
    return mt.port.flags_load(mt) & ~MT_FLAGS_HEIGHT_MASK


def mt_set_in_rcu(mt: MapleTree) -> None:
    """Model of mt_set_in_rcu(): enter RCU mode under the tree lock."""
    port = mt.port
    if port.flags_load(mt) & MT_FLAGS_USE_RCU:
        return
    if mt_external_lock(mt):
        port.flags_store(mt, port.flags_load(mt) | MT_FLAGS_USE_RCU)
        return
    port.mtree_lock(mt)
    port.flags_store(mt, port.flags_load(mt) | MT_FLAGS_USE_RCU)
    port.mtree_unlock(mt)


def mt_clear_in_rcu(mt: MapleTree) -> None:
    """Model of mt_clear_in_rcu(): leave RCU mode under the tree lock."""
    port = mt.port
    if not port.flags_load(mt) & MT_FLAGS_USE_RCU:
        return
    if mt_external_lock(mt):
        port.flags_store(mt, port.flags_load(mt) & ~MT_FLAGS_USE_RCU)
        return
    port.mtree_lock(mt)
    port.flags_store(mt, port.flags_load(mt) & ~MT_FLAGS_USE_RCU)
    port.mtree_unlock(mt)


def mtree_empty(mt: MapleTree) -> bool:
    """Model of mtree_empty()."""
    return mt.port.root_load(mt) is None


def mtree_lock(mt: MapleTree) -> None:
    """Model of mtree_lock()."""
    mt.port.mtree_lock(mt)


def mtree_unlock(mt: MapleTree) -> None:
    """Model of mtree_unlock()."""
    mt.port.mtree_unlock(mt)
