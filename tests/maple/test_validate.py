"""mt_validate() names the invariant a corrupted tree breaks."""

from __future__ import annotations

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MapleTree,
    MapleValidationError,
    mt_validate,
    mtree_store_range,
)
from maple.node import mk_meta
from tests.maple.helpers import vma_ranges


def two_level_tree(flags: int = MT_FLAGS_ALLOC_RANGE) -> MapleTree:
    mt = MapleTree(flags)
    for i, (first, last) in enumerate(vma_ranges(30)):
        mtree_store_range(mt, first, last, i)
    mt_validate(mt)
    return mt


def root_and_leaf(mt: MapleTree, i: int = 1):
    root = mt.port.root_load(mt)
    return root[0], root[0].slot[i][0]


def broken(mt: MapleTree) -> str:
    with pytest.raises(MapleValidationError) as excinfo:
        mt_validate(mt)
    return excinfo.value.invariant


def test_a_reachable_dead_node_is_reported():
    mt = two_level_tree()
    _, leaf = root_and_leaf(mt)
    leaf.parent = leaf.addr
    assert broken(mt) == "dead node reachable"


def test_decreasing_pivots_are_reported():
    mt = two_level_tree()
    _, leaf = root_and_leaf(mt)
    leaf.pivot[2], leaf.pivot[3] = leaf.pivot[3], leaf.pivot[2]
    assert broken(mt) == "pivots decrease"


def test_a_pivot_beyond_the_node_limit_is_reported():
    mt = two_level_tree()
    root, leaf = root_and_leaf(mt, 0)
    leaf.pivot[3] = root.pivot[0] + 1
    assert broken(mt) in {"pivot above the node's max", "pivots decrease"}


def test_a_wrong_parent_slot_is_reported():
    mt = two_level_tree()
    _, leaf = root_and_leaf(mt, 1)
    leaf.parent = (leaf.parent & ~0xF8) | (2 << 3)
    assert broken(mt) in {"parent slot disagrees", "child referenced twice"}


def test_a_child_referenced_twice_is_reported():
    mt = two_level_tree(0)
    root, _ = root_and_leaf(mt)
    root.slot[0] = root.slot[1]
    assert broken(mt) in {"child referenced twice", "parent slot disagrees"}


def test_a_parent_gap_that_differs_from_the_child_is_reported():
    mt = two_level_tree()
    root, _ = root_and_leaf(mt)
    root.gap[0] += 1
    assert broken(mt) in {"parent gap differs from the child's largest gap",
                          "metadata gap offset is not the largest gap"}


def test_a_metadata_gap_offset_naming_a_smaller_gap_is_reported():
    mt = two_level_tree()
    root, _ = root_and_leaf(mt)
    end = root.meta.end
    root.gap[0], root.gap[1] = 0x1000, 0x5000
    root.meta = mk_meta(end, 0)
    assert broken(mt) in {"metadata gap offset is not the largest gap",
                          "parent gap differs from the child's largest gap"}


def test_two_nulls_in_a_row_are_reported():
    mt = two_level_tree(0)
    _, leaf = root_and_leaf(mt, 0)
    first_entry = next(i for i, e in enumerate(leaf.slot) if e is not None)
    leaf.slot[first_entry] = None  # NULL, NULL, NULL
    assert broken(mt) == "two NULL entries in a row"


def test_an_insufficient_inner_leaf_is_reported():
    mt = two_level_tree(0)
    root, leaf = root_and_leaf(mt, 0)
    leaf.pivot[4] = root.pivot[0]
    leaf.pivot[5:] = [0] * 10
    leaf.slot[5:] = [None] * 11
    leaf.slot[15] = mk_meta(4, 0)
    assert broken(mt) == "node below minimum occupancy"


def test_an_entry_past_the_data_end_is_reported():
    mt = two_level_tree(0)
    root, leaf = root_and_leaf(mt, 3)  # the rightmost leaf is not full
    end = next(i for i in range(15) if leaf.pivot[i] == root.pivot[3])
    assert end < 14
    leaf.slot[end + 1] = "stray"
    assert broken(mt) == "entry stored past the data end"


def test_error_message_names_the_node():
    mt = two_level_tree()
    _, leaf = root_and_leaf(mt)
    leaf.parent = leaf.addr
    with pytest.raises(MapleValidationError, match=f"{leaf.addr:#x}"):
        mt_validate(mt)
