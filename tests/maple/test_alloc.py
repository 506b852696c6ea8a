"""The kernel checks of node allocation and freeing fire where
lib/maple_tree.c's do: a live node handed to ma_free_rcu() is its
WARN_ON(), a preallocated state asking for nodes with none left its
BUG_ON()."""

from __future__ import annotations

import pytest

from maple import MT_FLAGS_ALLOC_RANGE, MapleTree, MaState, mtree_store_range
from maple.alloc import ma_free_rcu, mas_alloc_nodes
from maple.defs import GFP_KERNEL, MA_STATE_PREALLOC
from maple.node import MapleBug, MapleWarning


def _tree():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    for i in range(1, 40):
        assert mtree_store_range(mt, i * 10, i * 10 + 5, i) == 0
    return mt


def test_freeing_a_node_that_is_not_dead_fires_ma_free_rcus_warn_on():
    mt = _tree()
    root = mt.ma_root[0]
    with pytest.raises(MapleWarning) as err:
        ma_free_rcu(mt, root)
    assert (err.value.function, err.value.condition, err.value.macro) == (
        "ma_free_rcu", "node->parent != ma_parent_ptr(node)", "WARN_ON")
    assert err.value.node is root
    assert mt.port.pending == []  # nothing was queued for the grace period


def test_a_preallocated_state_asking_for_nodes_with_none_left_is_a_bug_on():
    mas = MaState(_tree(), 0, 0)
    mas.mas_flags |= MA_STATE_PREALLOC
    mas.alloc_req = 2
    with pytest.raises(MapleBug) as err:
        mas_alloc_nodes(mas, GFP_KERNEL)
    assert (err.value.function, err.value.condition, err.value.macro) == (
        "mas_alloc_nodes", "!allocated", "BUG_ON")
    assert mas.alloc == []


def test_a_preallocated_state_that_holds_nodes_allocates_no_more():
    mt = _tree()
    mas = MaState(mt, 0, 0)
    mas.mas_flags |= MA_STATE_PREALLOC
    mas.alloc_req = 2
    mas.alloc.append(mt.port.node_alloc_bulk(GFP_KERNEL, 1)[0])
    mas_alloc_nodes(mas, GFP_KERNEL)
    assert len(mas.alloc) == 1
