"""Bulk insertion (mas_expected_entries, the 2021 patch's mas_entry_count)."""

from __future__ import annotations

from typing import Any

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MapleNode,
    MaplePreallocExhausted,
    MapleTree,
    MaState,
    PassThroughPort,
    mas_destroy,
    mas_expected_entries,
    mas_lock,
    mas_store,
    mas_unlock,
    mt_set_in_rcu,
    mt_validate,
)
from tests.maple.helpers import leaves, scan, vma_ranges

N_MAX = 5000


class LowWaterList(list):
    """An allocation list that remembers how far it was ever drawn down."""

    def __init__(self) -> None:
        super().__init__()
        self.low = 0

    def reset_low(self) -> None:
        self.low = len(self)

    def pop(self, *args: Any) -> Any:
        item = super().pop(*args)
        self.low = min(self.low, len(self))
        return item


class CountingPort(PassThroughPort):
    """Hands out one shared placeholder node: only the counts matter."""

    def node_alloc_bulk(self, gfp: int, count: int) -> list[MapleNode]:
        node = MapleNode(0, {})
        return [node] * count


def preallocated(n: int, flags: int) -> int:
    """How many nodes mas_expected_entries(n) preallocates."""
    mt = MapleTree(flags, port=CountingPort())
    mas = MaState(mt, 0, 0)
    assert mas_expected_entries(mas, n) == 0
    return len(mas.alloc)


def bulk_load(n: int, flags: int, *, rcu: bool = False) -> tuple[MapleTree, int, int]:
    """dup_mmap()'s pattern; returns (tree, preallocated, nodes used)."""
    mt = MapleTree(flags)
    if rcu:
        mt_set_in_rcu(mt)
    mas = MaState(mt, 0, 0)
    mas_lock(mas)
    assert mas_expected_entries(mas, n) == 0
    pre = len(mas.alloc)
    ranges = vma_ranges(n)
    for i, (first, last) in enumerate(ranges):
        mas.index, mas.last = first, last
        mas_store(mas, i)
    used = pre - len(mas.alloc)
    mas_destroy(mas)
    mas_unlock(mas)
    return mt, pre, used


def node_count(mt: MapleTree) -> int:
    from maple.node import MapleEnode, mte_is_leaf
    from maple.walk import ma_data_end

    def walk(enode: MapleEnode, max: int) -> int:
        if mte_is_leaf(enode):
            return 1
        node = enode[0]
        end = ma_data_end(node, enode[1], node.pivot, max)
        return 1 + sum(walk(node.slot[i], node.pivot[i] if i < end else max)
                       for i in range(end + 1))

    root = mt.port.root_load(mt)
    return walk(root, (1 << 64) - 1) if isinstance(root, MapleEnode) else 0


@pytest.mark.parametrize("flags", [0, MT_FLAGS_ALLOC_RANGE])
def test_bulk_store_of_n_up_to_5000_never_needs_more_than_preallocated(flags):
    # The stores for n entries are the first n stores for N_MAX entries, so one
    # long run gives, for every n, the deepest the allocation list is drawn.
    mt = MapleTree(flags)
    mas = MaState(mt, 0, 0)
    mas.alloc = LowWaterList()
    mas_lock(mas)
    assert mas_expected_entries(mas, N_MAX) == 0
    start = len(mas.alloc)
    mas.alloc.reset_low()
    drawn = []
    for i, (first, last) in enumerate(vma_ranges(N_MAX)):
        mas.index, mas.last = first, last
        mas_store(mas, i)
        drawn.append(start - mas.alloc.low)
    mas_destroy(mas)
    mas_unlock(mas)
    shortfall = [n for n in range(1, N_MAX + 1)
                 if drawn[n - 1] > preallocated(n, flags)]
    assert shortfall == []
    assert preallocated(0, flags) >= 1


SAMPLE = [*range(0, 301), *range(301, N_MAX + 1, 199), N_MAX]


@pytest.mark.slow
@pytest.mark.parametrize("flags", [0, MT_FLAGS_ALLOC_RANGE])
def test_mas_destroy_frees_every_unused_preallocated_node(flags):
    for n in SAMPLE:
        mt, pre, used = bulk_load(n, flags)
        assert used <= pre
        mt_validate(mt)
        assert [e for _, _, e in scan(mt)] == list(range(n))
        assert mt.port.accounting().allocated == node_count(mt), n


def test_bulk_mode_splits_favour_the_left_leaf():
    contiguous = MapleTree(MT_FLAGS_ALLOC_RANGE)
    mas = MaState(contiguous, 0, 0)
    mas_lock(mas)
    mas_expected_entries(mas, 17)
    for i, (first, last) in enumerate(vma_ranges(17, gap=0)):
        mas.index, mas.last = first, last
        mas_store(mas, i)
    mas_destroy(mas)
    mas_unlock(mas)
    sizes = [len(leaf) for leaf in leaves(contiguous)]
    assert sizes[0] > sizes[-1]  # b_end - mt_min_slots goes left
    mt_validate(contiguous)


def test_bulk_insert_in_rcu_mode_runs_out_of_preallocated_nodes_like_the_kernel():
    # mas_expected_entries() assumes replaced nodes are reused, which RCU
    # mode forbids: the kernel's mas_pop_node() then returns NULL and
    # mas_wr_node_store() dereferences it (seen in the userspace harness).
    with pytest.raises(MaplePreallocExhausted):
        bulk_load(400, MT_FLAGS_ALLOC_RANGE, rcu=True)
