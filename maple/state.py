"""The maple state (struct ma_state) and write state (struct ma_wr_state).

``MaState(mt, first, last)`` is ``MA_STATE(name, mt, first, last)``.  C code
copies these structs by value (``l_mas = *mas``); the model spells that
:meth:`MaState.copy` for a new struct and :meth:`MaState.assign` for an
assignment into an existing one, which matters when the target is reached
through a pointer that someone else also holds.
"""

from __future__ import annotations

from operator import attrgetter
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
    wr_invalid,
)
from maple.nullptr import NULL_NODE
from maple.xarray import XaInternal

if TYPE_CHECKING:
    from collections.abc import MutableSequence

    from maple.node import MapleNode
    from maple.tree import MapleTree

_FIELDS = ("tree", "index", "last", "node", "min", "max", "alloc", "alloc_req",
           "status", "depth", "offset", "mas_flags", "end", "store_type")
_fields = attrgetter(*_FIELDS)


class MaState:
    """struct ma_state: a cursor into a tree, with its node allocations.

    ``alloc`` holds the nodes preallocated for the operation (the kernel's
    ``struct maple_alloc`` list, kept here as a stack) and ``alloc_req`` the
    number still requested (the kernel encodes it in ``mas->alloc``).
    ``node`` is a :class:`MapleEnode`, ``None``, or on error the encoded
    errno (``MA_ERROR(err)``).
    """

    __slots__ = _FIELDS

    def __init__(self, mt: MapleTree, first: int = 0, last: int | None = None) -> None:
        self.tree = mt
        self.index = first
        self.last = first if last is None else last
        self.node: Any = None
        self.min = 0
        self.max = ULONG_MAX
        self.alloc: list[MapleNode] = []
        self.alloc_req = 0
        self.status = ma_start
        self.depth = 0
        self.offset = 0
        self.mas_flags = 0
        self.end = 0
        self.store_type = wr_invalid

    def copy(self) -> MaState:
        """``struct ma_state tmp = *mas``: a new struct with the same fields.

        The allocation list is shared, as the kernel's pointer would be.
        """
        new = MaState.__new__(MaState)
        new.assign(self)
        return new

    def assign(self, other: MaState) -> None:
        """``*mas = other``: overwrite every field of this struct."""
        (self.tree, self.index, self.last, self.node, self.min, self.max,
         self.alloc, self.alloc_req, self.status, self.depth, self.offset,
         self.mas_flags, self.end, self.store_type) = _fields(other)

    def __repr__(self) -> str:
        return (f"MaState(index={self.index:#x}, last={self.last:#x}, "
                f"node={self.node!r}, min={self.min:#x}, max={self.max:#x}, "
                f"offset={self.offset}, end={self.end}, status={self.status})")


class MaWrState:
    """struct ma_wr_state: the write-side view of one node during a store."""

    __slots__ = ("content", "end_piv", "entry", "mas", "node", "offset_end",
                 "pivots", "r_max", "r_min", "slots", "type")

    def __init__(self, mas: MaState, entry: object) -> None:
        self.mas = mas
        self.node: MapleNode | None = None
        self.r_min = 0
        self.r_max = 0
        self.type = 0
        self.offset_end = 0
        self.pivots: MutableSequence[int] = []
        self.end_piv = 0
        self.slots: MutableSequence[Any] = []
        self.entry = entry
        self.content: Any = None


MA_STATE = MaState
MA_WR_STATE = MaWrState


def MA_ERROR(err: int) -> XaInternal:
    """Model of MA_ERROR(): an errno encoded as an internal entry."""
    return XaInternal(err)


def mas_set_err(mas: MaState, err: int) -> None:
    """Model of mas_set_err()."""
    mas.node = XaInternal(err)
    mas.status = ma_error


def mas_is_ptr(mas: MaState) -> bool:
    """Model of mas_is_ptr(): the tree is a single entry in the root."""
    return mas.status == ma_root


def mas_is_start(mas: MaState) -> bool:
    """Model of mas_is_start()."""
    return mas.status == ma_start


def mas_is_none(mas: MaState) -> bool:
    """Model of mas_is_none()."""
    return mas.status == ma_none


def mas_is_paused(mas: MaState) -> bool:
    """Model of mas_is_paused()."""
    return mas.status == ma_pause


def mas_is_overflow(mas: MaState) -> bool:
    """Model of mas_is_overflow()."""
    return mas.status == ma_overflow


def mas_is_underflow(mas: MaState) -> bool:
    """Model of mas_is_underflow()."""
    return mas.status == ma_underflow


def mas_is_active(mas: MaState) -> bool:
    """Model of mas_is_active()."""
    return mas.status == ma_active


def mas_is_err(mas: MaState) -> bool:
    """Model of mas_is_err()."""
    return mas.status == ma_error


def mas_reset(mas: MaState) -> None:
    """Model of mas_reset(): walk again from the root next time."""
    mas.status = ma_start
    mas.node = None


def __mas_set_range(mas: MaState, start: int, last: int) -> None:
    """Model of __mas_set_range()."""
    mas.index = start
    mas.last = last


def mas_set_range(mas: MaState, start: int, last: int) -> None:
    """Model of mas_set_range()."""
    mas_reset(mas)
    mas.index = start
    mas.last = last


def mas_set(mas: MaState, index: int) -> None:
    """Model of mas_set()."""
    mas_set_range(mas, index, index)


def mas_is_root_limits(mas: MaState) -> bool:
    """Model of mas_is_root_limits()."""
    return not mas.min and mas.max == ULONG_MAX


def mas_mn(mas: MaState) -> MapleNode:
    """Model of mas_mn(): mte_to_node(mas->node), the decoded node.

    With ``mas->node`` NULL (an empty or root-pointer tree) that is the NULL
    node, whose loads fault as they would in C (:mod:`maple.nullptr`).
    """
    enode = mas.node
    if enode is None:
        return NULL_NODE
    node: MapleNode = enode[0]
    return node


def xa_err(entry: object) -> int:
    """Model of xa_err() for an encoded error node."""
    if isinstance(entry, XaInternal) and entry.v < 0:
        return entry.v
    return 0
