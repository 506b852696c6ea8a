"""The pass-through memory port: sequential use with kernel-like checks."""

from __future__ import annotations

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MapleTree,
    MaState,
    mas_expected_entries,
    mt_accounting,
    mtree_destroy,
    mtree_store_range,
)
from tests.maple.helpers import vma_ranges


def test_freeing_a_node_twice_raises():
    mt = MapleTree(0)
    node = mt.port.node_alloc(0)
    mt.port.node_free(node)
    with pytest.raises(RuntimeError, match="double free"):
        mt.port.node_free(node)


def test_freeing_something_that_is_not_a_node_raises():
    mt = MapleTree(0)
    with pytest.raises(RuntimeError, match="invalid pointer"):
        mt.port.node_free(None)


def test_taking_the_tree_lock_twice_is_a_self_deadlock():
    mt = MapleTree(0)
    mt.port.mtree_lock(mt)
    with pytest.raises(RuntimeError, match="self-deadlock"):
        mtree_store_range(mt, 1, 2, 3)


def test_releasing_an_unheld_lock_raises():
    mt = MapleTree(0)
    with pytest.raises(RuntimeError, match="not held"):
        mt.port.mtree_unlock(mt)


def test_a_sleeping_allocation_inside_rcu_read_lock_raises():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    mt.port.rcu_read_lock()
    with pytest.raises(RuntimeError, match="might_sleep"):
        mas_expected_entries(MaState(mt, 0, 0), 100)  # GFP_KERNEL


def test_unbalanced_rcu_read_unlock_raises():
    mt = MapleTree(0)
    with pytest.raises(RuntimeError, match="not in a read-side section"):
        mt.port.rcu_read_unlock()


def test_accounting_counts_allocations_and_frees():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    for i, (first, last) in enumerate(vma_ranges(100)):
        mtree_store_range(mt, first, last, i)
    acct = mt_accounting(mt)
    assert acct.allocated > 1
    assert acct.total_allocated == acct.allocated + acct.freed
    mtree_destroy(mt)
    acct = mt_accounting(mt)
    assert acct.allocated == 0
    assert acct.freed == acct.total_allocated


def test_trees_get_distinct_addresses_in_one_port():
    a = MapleTree(0)
    b = MapleTree(0, port=a.port)
    assert a.addr != b.addr
    assert a.port.heap[b.addr] is b
