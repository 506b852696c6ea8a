"""mt_validate(): the kernel's tree validator (CONFIG_DEBUG_MAPLE_TREE).

The walk and every check follow lib/maple_tree.c; where the kernel prints
an error and fires MT_BUG_ON() or MAS_WARN_ON(), the model raises
:class:`MapleValidationError` naming the invariant and the node.  Checks the
kernel only warns about under a narrower condition (a stray last pivot, for
instance) are held to that same condition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple.defs import ULONG_MAX, maple_arange_64, mt_min_slots, mt_pivots, mt_slots
from maple.iterate import mas_next_node, mas_prev_node
from maple.node import (
    MapleEnode,
    ma_gaps,
    ma_is_dense,
    ma_meta_gap,
    mte_dead_node,
    mte_is_leaf,
    mte_is_root,
    mte_parent,
    mte_parent_slot,
)
from maple.state import (
    MaState,
    mas_is_active,
    mas_is_none,
    mas_is_overflow,
    mas_is_ptr,
    mas_is_underflow,
)
from maple.tree import MapleTree, mt_is_alloc
from maple.walk import (
    mas_ascend,
    mas_data_end,
    mas_descend,
    mas_parent_type,
    mas_safe_pivot,
    mas_start,
)

if TYPE_CHECKING:
    from maple.node import MapleNode


class MapleValidationError(AssertionError):
    """mt_validate() found a broken invariant."""

    def __init__(self, invariant: str, node: MapleNode | None, detail: str) -> None:
        where = f" at {node!r}" if node is not None else ""
        super().__init__(f"{invariant}{where}: {detail}")
        self.invariant = invariant
        self.node = node
        self.detail = detail


def _fail(invariant: str, mas: MaState, detail: str) -> MapleValidationError:
    node = mas.node[0] if isinstance(mas.node, MapleEnode) else None
    return MapleValidationError(invariant, node, detail)


def mas_validate_gaps(mas: MaState) -> None:
    """Model of mas_validate_gaps(): gaps within their span, largest recorded."""
    mte = mas.node
    node = mte[0]
    mt = mte[1]
    pivots = node.pivot
    gaps = ma_gaps(node, mt)
    gap = max_gap = 0
    p_start = mas.min
    i = 0
    if ma_is_dense(mt):
        raise _fail("dense node", mas, "dense nodes are not used")
    while i < mt_slots[mt]:
        p_end = mas_safe_pivot(mas, pivots, i, mt)
        if gaps is None:
            if node.slot[i] is None:
                gap = p_end - p_start + 1
        else:
            gap = gaps[i]
            if node.slot[i] is None:
                raise _fail("internal node lacks child", mas, f"slot {i} is NULL")
            if gap > p_end - p_start + 1:
                raise _fail("gap larger than its span", mas,
                            f"gap[{i}] {gap:#x} > {p_end:#x} - {p_start:#x} + 1")
        if gap > max_gap:
            max_gap = gap
        p_start = (p_end + 1) & ULONG_MAX
        if p_end >= mas.max:
            break
        i += 1
    if mt == maple_arange_64:
        assert gaps is not None
        offset = ma_meta_gap(node)
        if offset > i:
            raise _fail("metadata gap offset beyond the data", mas,
                        f"offset {offset} > {i}")
        if gaps[offset] != max_gap:
            raise _fail("metadata gap offset is not the largest gap", mas,
                        f"gap[{offset}] {gaps[offset]:#x} != largest {max_gap:#x}")
        for j in range(i + 1, mt_slots[mt]):
            if gaps[j] != 0:
                raise _fail("gap beyond the node's data", mas,
                            f"gap[{j}] {gaps[j]:#x} != 0")
    if mte_is_root(mte):
        return
    p_slot = mte_parent_slot(mte)
    p_mn = mte_parent(mte)
    if max_gap > mas.max:
        raise _fail("gap larger than the node's max", mas, f"{max_gap:#x}")
    p_gaps = ma_gaps(p_mn, mas_parent_type(mas, mte))
    if p_gaps is None or p_gaps[p_slot] != max_gap:
        got = p_gaps[p_slot] if p_gaps is not None else None
        raise _fail("parent gap differs from the child's largest gap", mas,
                    f"parent {p_mn!r}[{p_slot}] = {got!r} != {max_gap:#x}")


def mas_validate_parent_slot(mas: MaState) -> None:
    """Model of mas_validate_parent_slot(): the parent holds this node once."""
    if mte_is_root(mas.node):
        return
    p_slot = mte_parent_slot(mas.node)
    p_type = mas_parent_type(mas, mas.node)
    parent = mte_parent(mas.node)
    if mas.node[0] is parent:
        raise _fail("node is its own parent", mas, "parent word points at itself")
    for i in range(mt_slots[p_type]):
        node = parent.slot[i]
        if i == p_slot:
            if node != mas.node:
                raise _fail("parent slot disagrees", mas,
                            f"parent {parent!r}[{i}] does not hold this node")
        elif node == mas.node:
            raise _fail("child referenced twice", mas,
                        f"parent {parent!r}[{i}] also holds it (p_slot {p_slot})")


def mas_validate_child_slot(mas: MaState) -> None:
    """Model of mas_validate_child_slot(): children non-NULL, pointing back."""
    enode = mas.node
    mtype = enode[1]
    node = enode[0]
    if mte_is_leaf(enode):
        return
    for i in range(mt_slots[mtype]):
        child = node.slot[i]
        if not isinstance(child, MapleEnode):
            raise _fail("internal node lacks child", mas, f"slot {i} holds {child!r}")
        if mte_parent_slot(child) != i:
            raise _fail("child has the wrong parent slot", mas,
                        f"child {child[0]!r} in slot {i} says {mte_parent_slot(child)}")
        if mte_parent(child) is not node:
            raise _fail("child has the wrong parent", mas,
                        f"child {child[0]!r} has parent {mte_parent(child)!r}")
        if i < mt_pivots[mtype] and node.pivot[i] == mas.max:
            break


def mas_validate_limits(mas: MaState) -> None:
    """Model of mas_validate_limits(): pivots in [min, max], nothing past end."""
    enode = mas.node
    mtype = enode[1]
    node = enode[0]
    pivots = node.pivot
    prev_piv = 0
    i = 0
    while i < mt_slots[mtype]:
        piv = mas_safe_pivot(mas, pivots, i, mtype)
        if not piv and i != 0:
            raise _fail("missing node limit pivot", mas, f"pivot {i} is 0")
        if prev_piv > piv:
            raise _fail("pivots decrease", mas, f"pivot {i} {piv:#x} < {prev_piv:#x}")
        if piv < mas.min:
            raise _fail("pivot below the node's min", mas,
                        f"pivot {i} {piv:#x} < {mas.min:#x}")
        if piv > mas.max:
            raise _fail("pivot above the node's max", mas,
                        f"pivot {i} {piv:#x} > {mas.max:#x}")
        prev_piv = piv
        if piv == mas.max:
            break
        i += 1
    end = mas_data_end(mas)
    if end != i:
        raise _fail("data end disagrees with the last pivot", mas,
                    f"data_end {end} != {i}")
    for j in range(i + 1, mt_slots[mtype]):
        entry = node.slot[j]
        if entry is not None and j != mt_slots[mtype] - 1:
            raise _fail("entry stored past the data end", mas,
                        f"slot {j} holds {entry!r}")
        if j < mt_pivots[mtype] and pivots[j] and j < mt_pivots[mtype] - 1:
            raise _fail("pivot set past the data end", mas,
                        f"pivot {j} is {pivots[j]:#x}")


def mt_validate_nulls(mt: MapleTree) -> None:
    """Model of mt_validate_nulls(): no two NULL entries in a row."""
    mas = MaState(mt, 0, 0)
    mas_start(mas)
    if mas_is_none(mas) or mas_is_ptr(mas):
        return
    while not mte_is_leaf(mas.node):
        mas_descend(mas)
    last: object = 1
    offset = 0
    while True:
        entry = mas.node[0].slot[offset]
        if last is None and entry is None:
            raise _fail("two NULL entries in a row", mas,
                        f"sequential nulls end at {offset}")
        last = entry
        if offset == mas_data_end(mas):
            mas_next_node(mas, mas.node[0], ULONG_MAX)
            if mas_is_overflow(mas):
                return
            offset = 0
        else:
            offset += 1


def mas_dfs_postorder(mas: MaState, max: int) -> None:
    """Model of mas_dfs_postorder(): the next node in depth-first post-order."""
    mn = mas.node
    mas_next_node(mas, mas.node[0], max)
    if not mas_is_overflow(mas):
        return
    if mte_is_root(mn):
        return
    mas.node = mn
    mas_ascend(mas)
    while True:
        p = mas.node
        p_min = mas.min
        p_max = mas.max
        mas_prev_node(mas, 0)
        if mas_is_underflow(mas):
            break
    mas.node = p
    mas.max = p_max
    mas.min = p_min


def mt_validate(mt: MapleTree) -> None:
    """Model of mt_validate(): check every node; raise MapleValidationError."""
    mas = MaState(mt, 0, 0)
    mas_start(mas)
    if not mas_is_active(mas):
        return
    while not mte_is_leaf(mas.node):
        mas_descend(mas)
    while not mas_is_overflow(mas):
        if mte_dead_node(mas.node):
            raise _fail("dead node reachable", mas, "parent word points at itself")
        end = mas_data_end(mas)
        if end < mt_min_slots[mas.node[1]] and mas.max != ULONG_MAX:
            raise _fail("node below minimum occupancy", mas,
                        f"end {end} < {mt_min_slots[mas.node[1]]}")
        mas_validate_parent_slot(mas)
        mas_validate_limits(mas)
        mas_validate_child_slot(mas)
        if mt_is_alloc(mt):
            mas_validate_gaps(mas)
        mas_dfs_postorder(mas, ULONG_MAX)
    mt_validate_nulls(mt)
