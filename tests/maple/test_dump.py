"""mt_dump() and the canonical one-line dump the kernel oracle compares."""

from __future__ import annotations

from maple import (
    ULONG_MAX,
    XA_ZERO_ENTRY,
    MapleTree,
    mt_dump,
    mt_dump_canonical,
    mtree_store_range,
)
from tests.maple.helpers import vma_ranges


def test_canonical_dump_of_empty_and_single_entry_trees():
    mt = MapleTree(0)
    assert mt_dump_canonical(mt) == "empty"
    mtree_store_range(mt, 0, 0, 5)
    assert mt_dump_canonical(mt) == "ptr:v5"


def test_canonical_dump_of_one_leaf():
    mt = MapleTree(0)
    mtree_store_range(mt, 10, 20, 0x10)
    assert mt_dump_canonical(mt) == "L0-ffffffffffffffff|9,14|-,v10,-"


def test_canonical_dump_marks_zero_entries():
    mt = MapleTree(0)
    mtree_store_range(mt, 0, 0, XA_ZERO_ENTRY)
    assert mt_dump_canonical(mt) == "L0-ffffffffffffffff|0|Z,-"


def test_canonical_dump_lists_arange_gaps_and_children_in_preorder():
    mt = MapleTree(1)
    for i, (first, last) in enumerate(vma_ranges(20)):
        mtree_store_range(mt, first, last, i)
    nodes = mt_dump_canonical(mt).split()
    assert nodes[0].startswith("A0-ffffffffffffffff|")
    assert "/" in nodes[0]
    assert all(n.startswith("L") for n in nodes[1:])
    assert nodes[-1].split("|")[0].endswith(f"-{ULONG_MAX:x}")


def test_mt_dump_shows_every_node_and_entry():
    mt = MapleTree(1)
    for i, (first, last) in enumerate(vma_ranges(20)):
        mtree_store_range(mt, first, last, i)
    text = mt_dump(mt)
    assert text.startswith("maple_tree(")
    assert text.count(": node ") == 1 + len(mt_dump_canonical(mt).split()) - 1
    assert "value 19 (0x13)" in text
