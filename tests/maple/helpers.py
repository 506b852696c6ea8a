"""Small helpers shared by the maple tests."""

from __future__ import annotations

from typing import Any

from maple import ULONG_MAX, MapleTree, MaState, mas_for_each


def contents(mt: MapleTree) -> list[tuple[int, int, Any]]:
    """Every (first, last, entry) of the tree, by mas_for_each()."""
    mas = MaState(mt, 0, 0)
    mt.port.rcu_read_lock()
    out = [(mas.index, mas.last, entry) for entry in mas_for_each(mas, ULONG_MAX)]
    mt.port.rcu_read_unlock()
    return out


def scan(mt: MapleTree) -> list[tuple[int, int, Any]]:
    """Every (first, last, entry) of the tree by a direct walk of the nodes.

    Independent of the model's iterator and several times faster; NULL ranges
    are left out, as mas_for_each() leaves them out.
    """
    from maple.node import MapleEnode, mte_is_leaf
    from maple.walk import ma_data_end

    out: list[tuple[int, int, Any]] = []

    def walk(enode: MapleEnode, lo: int, hi: int) -> None:
        node = enode[0]
        pivots = node.pivot
        end = ma_data_end(node, enode[1], pivots, hi)
        leaf = mte_is_leaf(enode)
        for i in range(end + 1):
            last = pivots[i] if i < end else hi
            slot = node.slot[i]
            if leaf:
                if slot is not None:
                    out.append((lo, last, slot))
            else:
                walk(slot, lo, last)
            lo = last + 1

    root = mt.port.root_load(mt)
    if isinstance(root, MapleEnode):
        walk(root, 0, ULONG_MAX)
    elif root is not None:
        out.append((0, 0, root))
    return out


def leaves(mt: MapleTree) -> list[list[Any]]:
    """The entries of each leaf, left to right (NULL slots included)."""
    from maple.node import MapleEnode, mte_is_leaf
    from maple.walk import ma_data_end

    out: list[list[Any]] = []

    def walk(enode: MapleEnode, max: int) -> None:
        node = enode[0]
        end = ma_data_end(node, enode[1], node.pivot, max)
        if mte_is_leaf(enode):
            out.append([node.slot[i] for i in range(end + 1)])
            return
        for i in range(end + 1):
            walk(node.slot[i], node.pivot[i] if i < end else max)

    root = mt.port.root_load(mt)
    if isinstance(root, MapleEnode):
        walk(root, ULONG_MAX)
    return out


def vma_ranges(n: int, *, start: int = 0x400000, size: int = 0x2000,
               gap: int = 0x1000) -> list[tuple[int, int]]:
    """@n ascending page-aligned [first, last] ranges with gaps between them."""
    return [(start + i * (size + gap), start + i * (size + gap) + size - 1)
            for i in range(n)]
