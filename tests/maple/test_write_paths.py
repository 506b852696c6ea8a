"""Splits, rebalancing, spanning stores and height changes, as the kernel does them."""

from __future__ import annotations

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    XA_ZERO_ENTRY,
    MapleEnode,
    MapleTree,
    mt_height,
    mt_validate,
    mtree_erase,
    mtree_insert_range,
    mtree_load,
    mtree_store_range,
)
from maple.node import MapleWarning
from maple.xarray import XaInternal
from tests.maple.helpers import leaves, scan, vma_ranges


def tree_with(n: int, flags: int = 0, **kw: int) -> MapleTree:
    mt = MapleTree(flags)
    for i, (first, last) in enumerate(vma_ranges(n, **kw)):
        assert mtree_store_range(mt, first, last, i) == 0
    mt_validate(mt)
    return mt


def test_single_entry_at_index_zero_lives_in_the_root_word():
    mt = MapleTree(0)
    mtree_store_range(mt, 0, 0, 7)
    assert mt.port.root_load(mt) == 7
    assert mt_height(mt) == 0
    assert mtree_load(mt, 0) == 7
    assert mtree_load(mt, 1) is None


def test_internal_entry_at_index_zero_is_stored_in_a_node():
    mt = MapleTree(0)
    mtree_store_range(mt, 0, 0, XA_ZERO_ENTRY)
    assert isinstance(mt.port.root_load(mt), MapleEnode)
    assert mtree_load(mt, 0) is None  # XA_ZERO_ENTRY reads back as NULL


def test_advanced_entries_fire_the_warn_on_and_inverted_ranges_are_refused():
    mt = MapleTree(0)
    assert mtree_store_range(mt, 5, 4, 1) == -22
    with pytest.raises(MapleWarning) as err:
        mtree_store_range(mt, 1, 2, XaInternal(3))
    assert (err.value.macro, err.value.condition) == ("WARN_ON_ONCE",
                                                      "xa_is_advanced(entry)")
    with pytest.raises(MapleWarning):
        mtree_insert_range(mt, 1, 2, XaInternal(3))
    assert scan(mt) == []


def test_a_store_needing_seventeen_slots_splits_the_root_leaf():
    mt = tree_with(7)  # NULL, 7 entries with 6 NULL gaps, trailing NULL: 15 slots
    assert mt_height(mt) == 1
    assert len(leaves(mt)) == 1
    assert len(leaves(mt)[0]) == 15
    mtree_store_range(mt, *vma_ranges(8)[7], 7)
    mt_validate(mt)
    assert mt_height(mt) == 2
    assert [len(leaf) for leaf in leaves(mt)] == [10, 7]


def test_height_grows_to_three_and_every_node_stays_sufficient():
    mt = tree_with(400, MT_FLAGS_ALLOC_RANGE)
    assert mt_height(mt) == 3
    assert all(len(leaf) >= 6 for leaf in leaves(mt)[:-1])


def test_erasing_entries_rebalances_and_shrinks_the_tree():
    mt = tree_with(400, MT_FLAGS_ALLOC_RANGE)
    heights = []
    for i, (first, _) in enumerate(vma_ranges(400)):
        assert mtree_erase(mt, first) == i
        mt_validate(mt)
        assert [e for _, _, e in scan(mt)] == list(range(i + 1, 400))
        heights.append(mt_height(mt))
    assert heights == sorted(heights, reverse=True)
    assert sorted(set(heights)) == [0, 1, 2, 3]
    assert mt.port.root_load(mt) is None
    mt.port.rcu_barrier()
    assert mt.port.accounting().allocated == 0


def test_spanning_store_replaces_every_range_it_covers():
    mt = tree_with(200, MT_FLAGS_ALLOC_RANGE)
    ranges = vma_ranges(200)
    first, last = ranges[20][0] + 0x800, ranges[150][1] - 0x800
    before = mt.port.accounting().allocated
    assert mtree_store_range(mt, first, last, "big") == 0
    mt_validate(mt)
    got = scan(mt)
    assert (first, last, "big") in got
    assert got[got.index((first, last, "big")) - 1] == (ranges[20][0], first - 1, 20)
    assert mt.port.accounting().allocated < before  # covered leaves were freed


def test_null_store_spanning_to_the_end_empties_the_tail():
    mt = tree_with(100)
    ranges = vma_ranges(100)
    mtree_store_range(mt, ranges[10][0], ULONG_MAX, None)
    mt_validate(mt)
    assert [e for _, _, e in scan(mt)] == list(range(10))


def test_store_over_everything_makes_a_single_node_root():
    mt = tree_with(100)
    mtree_store_range(mt, 0, ULONG_MAX, "all")
    assert scan(mt) == [(0, ULONG_MAX, "all")]
    assert mt_height(mt) == 1
    # An exact fit: the kernel writes NULL into the single slot and keeps the
    # (now empty) root leaf rather than freeing it.
    mtree_store_range(mt, 0, ULONG_MAX, None)
    assert scan(mt) == []
    assert isinstance(mt.port.root_load(mt), MapleEnode)
    assert mtree_load(mt, 12345) is None


def test_insert_refuses_an_occupied_range():
    mt = tree_with(10)
    first, last = vma_ranges(10)[3]
    assert mtree_insert_range(mt, first + 1, last + 5, "x") == -17
    assert mtree_insert_range(mt, last + 1, last + 0x10, "x") == 0
    assert mtree_load(mt, last + 1) == "x"


def test_gaps_track_the_largest_null_range_in_alloc_trees():
    mt = tree_with(300, MT_FLAGS_ALLOC_RANGE, gap=0x1000)
    ranges = vma_ranges(300, gap=0x1000)
    mtree_store_range(mt, ranges[40][0], ranges[60][1], None)
    mt_validate(mt)  # checks every gap against the leaves below it
    root = mt.port.root_load(mt)[0]
    assert max(root.gap) >= ranges[60][1] - ranges[40][0]
