"""The NULL node: mte_to_node(NULL) loads fault where C would, at offsetof(word)."""

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_find,
    mas_next,
    mas_prev,
    mas_set,
    mtree_erase,
    mtree_store_range,
    xa_mk_value,
)
from maple.node import ma_dead_node
from maple.nullptr import NULL_NODE, NullPointerDereference
from maple.state import mas_mn


def test_mas_mn_of_a_state_without_node_is_the_null_node():
    mt = MapleTree(0)
    mas = MaState(mt, 0, 0)
    assert mas.node is None
    assert mas_mn(mas) is NULL_NODE
    assert NULL_NODE.addr == 0


@pytest.mark.parametrize(("load", "address", "word"), [
    (lambda n: n.parent, 0x0, "parent"),
    (lambda n: n.pivot[2], 0x18, "pivot[2]"),
    (lambda n: n.slot[0], 0x80, "slot[0]"),
    (lambda n: n.gap[1], 0xa8, "gap[1]"),
    (lambda n: n.meta, 0xf8, "meta"),
    (ma_dead_node, 0x0, "parent"),
])
def test_every_word_load_faults_at_its_offset(load, address, word):
    with pytest.raises(NullPointerDereference) as err:
        load(NULL_NODE)
    assert err.value.address == address
    assert err.value.word == word
    assert not err.value.write
    assert f"address: {address:016x}" in str(err.value)


def test_array_addresses_do_not_fault_and_stores_do():
    pivots = NULL_NODE.pivot  # ma_pivots(NULL, type): an address, no load
    with pytest.raises(NullPointerDereference) as err:
        pivots[1] = 5
    assert err.value.write
    assert err.value.address == 0x10
    with pytest.raises(NullPointerDereference):
        NULL_NODE.parent = 1


def _tree(flags, *ranges):
    mt = MapleTree(flags)
    for first, last, value in ranges:
        assert mtree_store_range(mt, first, last, xa_mk_value(value)) == 0
    return mt


def test_iteration_that_rewalks_into_an_emptied_tree_dereferences_null():
    """The kernel finding maple-rewalk-null-node, in the model alone."""
    mt = _tree(MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU, (10, 19, 1), (20, 29, 2))
    mas = MaState(mt, 0, 0)
    assert mas_find(mas, ULONG_MAX) == xa_mk_value(1)
    mtree_erase(mt, 10)
    mtree_erase(mt, 20)  # the tree is empty; the reader's leaf is dead
    with pytest.raises(NullPointerDereference) as err:
        mas_find(mas, ULONG_MAX)
    assert err.value.word == "parent"
    assert err.value.address == 0


def test_next_after_an_overflow_without_node_dereferences_null():
    """maple-overflow-state-null-node: sequential, no writer at all."""
    mt = _tree(0, (10, 20, 1))
    mas = MaState(mt, 30, 30)
    assert mas_next(mas, 10) is None  # ma_overflow, mas->node still NULL
    with pytest.raises(NullPointerDereference):
        mas_next(mas, ULONG_MAX)
    mas_set(mas, 5)
    assert mas_prev(mas, 10) is None  # ma_underflow without node
    with pytest.raises(NullPointerDereference):
        mas_prev(mas, 0)
