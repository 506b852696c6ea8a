"""Entry encoding of include/linux/xarray.h, as the maple tree uses it.

In the kernel an entry is a pointer-sized word whose two low bits say what it
is: ``x1`` a tagged value (``xa_mk_value``), ``10`` an internal entry
(reserved below 4096, node pointers above), ``00`` a pointer.  The model keeps
the distinction without the bits:

* ``None`` is NULL;
* a Python ``int`` is a value entry (``xa_mk_value(v)`` is ``v``);
* :class:`XaInternal` is an internal entry; ``XA_ZERO_ENTRY`` and
  ``XA_RETRY_ENTRY`` are the two the tree knows about.  Node pointers are
  :class:`maple.node.MapleEnode` objects, which users cannot make;
* any other object is a pointer entry (a VMA, say).
"""

from __future__ import annotations

from dataclasses import dataclass

from maple.defs import MAPLE_RESERVED_RANGE

MAX_ERRNO = 4095


@dataclass(frozen=True, slots=True)
class XaInternal:
    """An internal entry: xa_mk_internal(v), the word ``(v << 2) | 2``."""

    v: int

    def __repr__(self) -> str:
        if self.v == 257:
            return "XA_ZERO_ENTRY"
        if self.v == 256:
            return "XA_RETRY_ENTRY"
        return f"xa_mk_internal({self.v})"


XA_RETRY_ENTRY = XaInternal(256)
XA_ZERO_ENTRY = XaInternal(257)


def xa_mk_internal(v: int) -> XaInternal:
    """Model of xa_mk_internal()."""
    return XaInternal(v)


def xa_mk_value(v: int) -> int:
    """Model of xa_mk_value(): value entries are plain Python ints."""
    return v


def xa_to_value(entry: object) -> int:
    """Model of xa_to_value()."""
    assert isinstance(entry, int)
    return entry


def xa_is_value(entry: object) -> bool:
    """Model of xa_is_value()."""
    return isinstance(entry, int) and not isinstance(entry, bool)


def xa_is_internal(entry: object) -> bool:
    """Model of xa_is_internal(): the low two bits are ``10``."""
    return isinstance(entry, XaInternal)


def xa_is_zero(entry: object) -> bool:
    """Model of xa_is_zero()."""
    return entry == XA_ZERO_ENTRY


def xa_is_advanced(entry: object) -> bool:
    """Model of xa_is_advanced(): internal entries up to XA_RETRY_ENTRY."""
    return isinstance(entry, XaInternal) and entry.v <= 256


def mt_is_reserved(entry: object) -> bool:
    """Model of lib/maple_tree.c:mt_is_reserved(): internal and below 4096."""
    return isinstance(entry, XaInternal) and (entry.v << 2 | 2) < MAPLE_RESERVED_RANGE


def xa_is_err(entry: object) -> bool:
    """Model of xa_is_err(): an internal entry that encodes -errno."""
    return isinstance(entry, XaInternal) and entry.v < 0 and entry.v >= -MAX_ERRNO
