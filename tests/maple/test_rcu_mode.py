"""What RCU mode changes: copy instead of edit, publish then kill, free late."""

from __future__ import annotations

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_find,
    mas_walk,
    mt_set_in_rcu,
    mt_validate,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from maple.node import ma_dead_node
from maple.port import RCU_FUNC_ADDR
from tests.maple.helpers import scan, vma_ranges


def leaf_of(mt: MapleTree, index: int):
    mas = MaState(mt, index, index)
    mas_walk(mas)
    return mas.node[0]


def small_tree(*, rcu: bool, flags: int = MT_FLAGS_ALLOC_RANGE) -> MapleTree:
    mt = MapleTree(flags)
    for i, (first, last) in enumerate(vma_ranges(5)):
        mtree_store_range(mt, first, last, i)
    if rcu:
        mt_set_in_rcu(mt)
    return mt


def test_node_store_in_rcu_mode_publishes_a_new_leaf_and_kills_the_old():
    mt = small_tree(rcu=True)
    first, _last = vma_ranges(5)[2]
    old = leaf_of(mt, first)
    mtree_store_range(mt, first + 0x100, first + 0x200, "new")  # splits a range
    new = leaf_of(mt, first)
    assert new is not old
    assert ma_dead_node(old)  # parent word points at itself
    acct = mt.port.accounting()
    assert acct.dead_waiting == 1
    assert acct.rcu_callbacks == 1
    assert mt.port.rcu_barrier() == 1
    acct = mt.port.accounting()
    assert acct.dead_waiting == 0
    assert old.addr in mt.port.freed
    mt_validate(mt)


def test_node_store_outside_rcu_mode_rewrites_the_leaf_in_place():
    mt = small_tree(rcu=False)
    first, _ = vma_ranges(5)[2]
    old = leaf_of(mt, first)
    mtree_store_range(mt, first + 0x100, first + 0x200, "new")
    assert leaf_of(mt, first) is old
    assert not ma_dead_node(old)
    assert mt.port.accounting().rcu_callbacks == 0
    assert mtree_load(mt, first + 0x150) == "new"


@pytest.mark.parametrize("rcu", [False, True])
def test_append_reuses_the_leaf_only_outside_rcu_mode(rcu):
    mt = small_tree(rcu=rcu)
    _last_first, last_last = vma_ranges(5)[4]
    old = leaf_of(mt, 0)
    mtree_store_range(mt, last_last + 0x1000, last_last + 0x2000, "tail")
    assert (leaf_of(mt, 0) is old) is not rcu
    mt_validate(mt)


@pytest.mark.parametrize("rcu", [False, True])
def test_slot_store_moving_two_boundaries_is_in_place_only_outside_rcu_mode(rcu):
    mt = small_tree(rcu=rcu)
    ranges = vma_ranges(5)
    old = leaf_of(mt, 0)
    # Overwrite the end of entry 1 and the start of entry 2 inside the gap's
    # neighbours: both boundaries of the gap between them move.
    mtree_store_range(mt, ranges[1][1] - 0x100, ranges[2][0] + 0x100, "bridge")
    assert (leaf_of(mt, 0) is old) is not rcu
    assert mtree_load(mt, ranges[1][1]) == "bridge"
    mt_validate(mt)


def test_a_dead_node_carries_its_rcu_head_over_the_first_pivots():
    mt = small_tree(rcu=True)
    first, _ = vma_ranges(5)[2]
    old = leaf_of(mt, first)
    mtree_store_range(mt, first + 0x100, first + 0x200, "new")
    assert old.pivot[0] == 0  # rcu_head.next
    assert old.pivot[1] == RCU_FUNC_ADDR["mt_free_rcu"]  # rcu_head.func


@pytest.mark.parametrize("flags", [0, MT_FLAGS_ALLOC_RANGE])
def test_destroy_in_rcu_mode_frees_nothing_before_the_grace_period(flags):
    mt = MapleTree(flags)
    for i, (first, last) in enumerate(vma_ranges(60)):
        mtree_store_range(mt, first, last, i)
    mt_set_in_rcu(mt)
    nodes = mt.port.accounting().allocated
    mtree_destroy(mt)
    acct = mt.port.accounting()
    assert acct.allocated == nodes
    assert acct.dead_waiting == nodes
    mt.port.rcu_barrier()
    assert mt.port.accounting().allocated == 0


def test_destroy_outside_rcu_mode_frees_at_once():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    for i, (first, last) in enumerate(vma_ranges(60)):
        mtree_store_range(mt, first, last, i)
    mtree_destroy(mt)
    acct = mt.port.accounting()
    assert acct.allocated == 0
    assert acct.rcu_callbacks == 0


def test_rcu_destroy_of_a_full_range64_parent_frees_a_clobbered_pointer_as_linux_6_12():
    """mt_destroy_walk(free=false) strips the type bits of the leaf pointers
    (mte_dead_leaves), then mt_clear_meta() on the full range64 parent no
    longer sees a node in the last slot and clears its metadata, i.e. the low
    bytes of that pointer; mt_free_walk() then frees the clobbered pointer.
    The userspace harness built with -DCONFIG_64BIT reports the same free
    under ASAN.  (Trees with MT_FLAGS_ALLOC_RANGE, like the mm's, use arange64
    parents whose metadata has its own word, and are not affected.)"""
    mt = MapleTree(0)
    for i in range(120):
        mtree_store_range(mt, i * 10 + 1, i * 10 + 5, i)
    root = mt.port.root_load(mt)[0]
    assert root.pivot[14]
    assert root.slot[15] is not None
    mt_set_in_rcu(mt)
    mtree_destroy(mt)
    assert root.slot[15] is None  # the pointer the metadata clear overwrote
    with pytest.raises(RuntimeError, match="invalid pointer"):
        mt.port.rcu_barrier()


def test_reader_rewalks_from_its_saved_point_when_its_leaf_dies():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    ranges = vma_ranges(40)
    for i, (first, last) in enumerate(ranges):
        mtree_store_range(mt, first, last, i)
    mt_set_in_rcu(mt)
    mas = MaState(mt, 0, 0)
    mt.port.rcu_read_lock()
    seen = [mas_find(mas, ULONG_MAX) for _ in range(10)]
    reader_leaf = mas.node[0]
    # A writer replaces the reader's leaf while the reader sits in it: the
    # start of entry 11 gets a new entry, a node store in RCU mode.
    mtree_store_range(mt, ranges[11][0], ranges[11][0] + 0xFF, "changed")
    assert ma_dead_node(reader_leaf)
    while (entry := mas_find(mas, ULONG_MAX)) is not None:
        seen.append(entry)
    mt.port.rcu_read_unlock()
    assert seen == [*range(11), "changed", *range(11, 40)]
    assert [e for _, _, e in scan(mt)] == seen
