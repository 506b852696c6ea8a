"""Reference Python side of the canonical tree dump (FORMAT.md, ``<tree>``).

``mt_dump_canonical(mt)`` prints the Python model's tree exactly as the kernel
driver prints the real one (``dump_node()`` in driver.c), so that the two
can be compared as strings.  It is meant to move into ``maple/dump.py``; it
reads the model only through ``mt.port.root_load()``, ``MapleEnode``, the
node words ``pivot``/``slot``/``gap``/``meta`` and ``maple.walk.ma_data_end``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

ULONG_MAX = (1 << 64) - 1
MAPLE_LEAF_64, MAPLE_RANGE_64, MAPLE_ARANGE_64 = 1, 2, 3
TYPE_LETTER = {MAPLE_LEAF_64: "L", MAPLE_RANGE_64: "R", MAPLE_ARANGE_64: "A"}


@functools.cache
def _zero_entry() -> object:
    """The model's XA_ZERO_ENTRY (imported on first use)."""
    from maple.xarray import XA_ZERO_ENTRY

    return XA_ZERO_ENTRY


def entry_token(entry: object) -> str:
    """The token of one entry: ``-`` NULL, ``v<hex>`` value, ``Z`` zero, ``?``."""
    if entry is None:
        return "-"
    if type(entry) is int:
        return f"v{entry:x}"
    if entry == _zero_entry():
        return "Z"
    return "?"


def _node_tokens(enode: Any, lo: int, hi: int, data_end: Callable[..., int],
                 out: list[str]) -> None:
    """Append the tokens of @enode (spanning [lo, hi]) and its subtree."""
    node, ntype = enode[0], enode[1]
    pivots = node.pivot
    slots = node.slot
    end = data_end(node, ntype, pivots, hi)
    piv = ",".join(f"{p:x}" for p in pivots[:end])
    head = f"{TYPE_LETTER.get(ntype, 'D')}{lo:x}-{hi:x}|{piv}|"
    if ntype == MAPLE_LEAF_64:
        out.append(head + ",".join(entry_token(s) for s in slots[: end + 1]))
        return
    if ntype == MAPLE_ARANGE_64:
        meta = node.meta
        gaps = ",".join(f"{g:x}" for g in node.gap[: end + 1])
        out.append(f"{head}{gaps}/{meta.gap if meta is not None else 0}")
    else:
        out.append(head + "-")
    for i in range(end + 1):
        cmin = pivots[i - 1] + 1 if i else lo
        cmax = pivots[i] if i < end else hi
        _node_tokens(slots[i], cmin, cmax, data_end, out)


def mt_dump_canonical(mt: Any) -> str:
    """The ``<tree>`` part of an oracle line for the model tree @mt."""
    from maple.node import MapleEnode
    from maple.walk import ma_data_end

    root = mt.port.root_load(mt)
    if root is None:
        return "empty"
    if not isinstance(root, MapleEnode):
        return "ptr:" + entry_token(root)
    out: list[str] = []
    _node_tokens(root, 0, ULONG_MAX, ma_data_end, out)
    return " ".join(out)
