"""Dumping a tree: the kernel's mt_dump() layout and a canonical one-line form.

``mt_dump()`` returns the text the kernel's ``mt_dump(mt, mt_dump_hex)``
prints, node addresses being the model's fake addresses.
``mt_dump_canonical()`` is the one-line preorder form that the kernel oracle
driver (``rcu_harness/oracle/driver.c``) prints from the real
lib/maple_tree.c, so the two can be compared node for node; its grammar is
in ``rcu_harness/oracle/FORMAT.md``.
"""

from __future__ import annotations

from typing import Any

from maple.defs import ULONG_MAX, maple_arange_64, maple_leaf_64, mt_pivots
from maple.node import MapleEnode, ma_meta_gap, mte_is_leaf
from maple.tree import MapleTree, mt_height
from maple.walk import ma_data_end
from maple.xarray import XA_ZERO_ENTRY, xa_is_value

_TYPE_LETTER = {maple_leaf_64: "L", 2: "R", maple_arange_64: "A"}


def entry_token(entry: Any) -> str:
    """The canonical token of an entry: ``-``, hex value, ``Z`` or ``?``."""
    if entry is None:
        return "-"
    if xa_is_value(entry):
        return f"v{entry:x}"
    if entry == XA_ZERO_ENTRY:
        return "Z"
    return "?"


def _child_limits(pivots: Any, i: int, end: int, min: int,
                  max: int) -> tuple[int, int]:
    lo = min if i == 0 else pivots[i - 1] + 1
    hi = pivots[i] if i < end else max
    return lo, hi


def _canonical_node(enode: MapleEnode, min: int, max: int,
                    out: list[str]) -> None:
    node, mtype = enode[0], enode[1]
    pivots = node.pivot
    end = ma_data_end(node, mtype, pivots, max)
    pivs = ",".join(f"{pivots[i]:x}" for i in range(min_(end, mt_pivots[mtype])))
    head = f"{_TYPE_LETTER.get(mtype, '?')}{min:x}-{max:x}|{pivs}|"
    if mte_is_leaf(enode):
        out.append(head + ",".join(entry_token(node.slot[i]) for i in range(end + 1)))
        return
    if mtype == maple_arange_64:
        gaps = ",".join(f"{node.gap[i]:x}" for i in range(end + 1))
        out.append(f"{head}{gaps}/{ma_meta_gap(node)}")
    else:
        out.append(head + "-")
    for i in range(end + 1):
        lo, hi = _child_limits(pivots, i, end, min, max)
        _canonical_node(node.slot[i], lo, hi, out)


def min_(a: int, b: int) -> int:
    """min() without shadowing the kernel's variable name ``min``."""
    return a if a < b else b


def mt_dump_canonical(mt: MapleTree) -> str:
    """The tree in the oracle's canonical preorder form (one line)."""
    root = mt.port.root_load(mt)
    if root is None:
        return "empty"
    if not isinstance(root, MapleEnode):
        return f"ptr:{entry_token(root)}"
    out: list[str] = []
    _canonical_node(root, 0, ULONG_MAX, out)
    return " ".join(out)


def _dump_entry(entry: Any, min: int, max: int, depth: int) -> str:
    rng = f"{min:x}" if min == max else f"{min:x}-{max:x}"
    if xa_is_value(entry):
        what = f"value {entry} ({entry:#x})"
    elif entry == XA_ZERO_ENTRY:
        what = "zero (257)"
    else:
        what = repr(entry) if entry is not None else "(nil)"
    return f"{'  ' * depth}{rng}: {what}"


def _dump_node(enode: MapleEnode, min: int, max: int, depth: int,
               out: list[str]) -> None:
    node, mtype = enode[0], enode[1]
    pivots = node.pivot
    rng = f"{min:x}" if min == max else f"{min:x}-{max:x}"
    head = (f"{'  ' * depth}{rng}: node {node.addr:#x} depth {depth} type {mtype} "
            f"parent {node.parent:#x} contents:")
    npiv = mt_pivots[mtype]
    words = [f"{node.slot[i]!r} {pivots[i]:X}" for i in range(npiv)]
    if mtype == maple_arange_64:
        gaps = " ".join(f"{node.gap[i]:x}" for i in range(npiv + 1))
        meta = node.meta
        end, gap = (meta.end, meta.gap) if meta is not None else (0, 0)
        head += f" {gaps} | {end:02X} {gap:02X}|"
    out.append(f"{head} {' '.join(words)} {node.slot[npiv]!r}")
    first = min
    for i in range(npiv + 1):
        last = pivots[i] if i < npiv else max
        if i == npiv and node.slot[i] is None:
            break
        if last == 0 and i > 0:
            break
        if mte_is_leaf(enode):
            out.append(_dump_entry(node.slot[i], first, last, depth + 1))
        elif isinstance(node.slot[i], MapleEnode):
            _dump_node(node.slot[i], first, last, depth + 1, out)
        if last == max:
            break
        first = last + 1


def mt_dump(mt: MapleTree) -> str:
    """Model of mt_dump(mt, mt_dump_hex): the whole tree as text."""
    root = mt.port.root_load(mt)
    flags = mt.port.flags_load(mt)
    out = [f"maple_tree({mt.addr:#x}) flags {flags:X}, height {mt_height(mt)} "
           f"root {root!r}"]
    if not isinstance(root, MapleEnode):
        out.append(_dump_entry(root, 0, 0, 0))
    else:
        _dump_node(root, 0, ULONG_MAX, 0, out)
    return "\n".join(out)
