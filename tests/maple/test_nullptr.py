"""The NULL node: mte_to_node(NULL) loads fault where C would load the word;
the tree a root's parent word points at, taken for a node, faults too; both
are what a lockless reader walks into after stale loads under weak memory."""

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
from maple.node import MapleNode, ma_dead_node, mt_mk_node, mte_parent
from maple.nullptr import NULL_NODE, NotANode, NullPointerDereference, TreeAsNode
from maple.state import mas_mn
from maple.walk import MapleWarning, mas_ascend, mas_parent_type, mtree_lookup_walk


def test_mas_mn_of_a_state_without_node_is_the_null_node():
    mt = MapleTree(0)
    mas = MaState(mt, 0, 0)
    assert mas.node is None
    assert mas_mn(mas) is NULL_NODE
    assert NULL_NODE.addr == 0


@pytest.mark.parametrize(("load", "address", "word"), [
    (lambda n: n.parent, 0x0, "parent"),
    (lambda n: n.pivot[2], 0x10, "pivot[2]"),  # ma_pivots(NULL, maple_dense): NULL
    (lambda n: n.slot[0], 0x8, "slot[0]"),  # ma_slots(): mn->slot, after parent
    (lambda n: n.gap[1], 0x8, "gap[1]"),  # ma_gaps(NULL, maple_dense): NULL
    (lambda n: n.meta, 0xf8, "meta"),
    (ma_dead_node, 0x0, "parent"),
])
def test_every_word_load_faults_where_c_loads_it(load, address, word):
    """A NULL node pointer has type maple_dense (type bits 0): its arrays are
    a dense node's, as lib/maple_tree.c's ma_pivots(), ma_slots() and
    ma_gaps() give them."""
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
    assert err.value.address == 0x8
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


# -- pointers a lockless reader loads under weak memory ---------------------


def _two_levels():
    """A tree with a root node over leaves: (tree, root enode, first leaf enode)."""
    mt = _tree(MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU,
               *((i * 10, i * 10 + 5, i) for i in range(1, 40)))
    root = mt.ma_root
    leaf = root[0].slot[0]
    assert leaf[0].parent & ~0xFF == root[0].addr
    return mt, root, leaf


def _script_parent(node, *words):
    """Make @node's parent word return @words, one per load, then the last
    one: what a reader sees when its loads of the word read older stores."""
    script = list(words)

    def load(self):
        return script.pop(0) if len(script) > 1 else script[0]

    def store(self, value):
        script[:] = [value]

    node.__class__ = type("Scripted", (MapleNode,),
                          {"__slots__": (), "parent": property(load, store)})


def test_a_parent_word_of_zero_is_the_null_node_pointer():
    _, _, leaf = _two_levels()
    leaf[0].parent = 0
    assert mte_parent(leaf) is NULL_NODE


def test_a_roots_parent_is_the_tree_taken_for_a_node():
    mt, root, _ = _two_levels()
    as_node = mte_parent(root)
    assert isinstance(as_node, TreeAsNode)
    assert as_node is mte_parent(root)  # the same pointer compares equal
    assert as_node.addr == mt.addr
    assert mt_mk_node(as_node, 0)[0] is as_node  # encoding it loads nothing
    pivots = as_node.pivot  # ma_pivots(): an address, no load
    with pytest.raises(NotANode) as err:
        pivots[0]
    assert (err.value.offset, err.value.overlays, err.value.tree) == (8, "ma_root", mt)
    with pytest.raises(NotANode) as err:
        ma_dead_node(as_node)
    assert (err.value.word, err.value.overlays) == ("parent", "ma_lock and ma_flags")
    assert "the tree taken for a node" in str(err.value)


def test_the_parent_type_of_a_root_fires_the_warn_on():
    _, root, leaf = _two_levels()
    mas = MaState(root[0].heap[root[0].parent & ~0xFF], 0, 0)
    assert mas_parent_type(mas, leaf)  # a child's parent word has a type
    with pytest.raises(MapleWarning) as err:
        mas_parent_type(mas, root)
    assert err.value.condition == "p_type & MAPLE_PARENT_ROOT"
    assert err.value.node is root[0]


def _ascending_reader(*words):
    """A reader in the first leaf that ascends while its loads of the root's
    parent word return @words (the root seen before its initialisation)."""
    mt, root, leaf = _two_levels()
    root_word = root[0].parent
    _script_parent(root[0], *(root_word if w == "root" else w for w in words))
    mas = MaState(mt, 0, 0)
    mas.node, mas.min, mas.max = leaf, 0, leaf[0].pivot[0]
    return mas


def test_an_ascent_through_a_parent_word_read_as_zero_dereferences_null():
    """mte_parent() of 0 is NULL; ma_dead_node(NULL) faults, as in C."""
    with pytest.raises(NullPointerDereference) as err:
        mas_ascend(_ascending_reader(0))
    assert (err.value.word, err.value.address) == ("parent", 0)


def test_an_ascent_that_sees_the_root_word_late_takes_the_tree_for_a_node():
    """Not a root (0), parent type 0, then the root word: the kernel's
    mas_ascend() goes on with the struct maple_tree as the ancestor."""
    with pytest.raises(NotANode) as err:
        mas_ascend(_ascending_reader(0, 0, "root"))
    assert err.value.word == "parent"


def test_an_ascent_that_sees_the_root_word_in_mas_parent_type_warns():
    with pytest.raises(MapleWarning):
        mas_ascend(_ascending_reader(0, "root"))


def test_a_walk_into_a_null_slot_faults_at_the_next_load():
    """A slot read NULL (a node published before its contents) is walked
    into: mte_to_node(NULL) is the NULL node, its first pivot load faults."""
    mt, root, _ = _two_levels()
    root[0].slot[0] = None
    mas = MaState(mt, 0, 0)
    mas.node = root
    with pytest.raises(NullPointerDereference) as err:
        mtree_lookup_walk(mas)
    assert err.value.word == "pivot[0]"
    assert err.value.address == 0  # pivots = ma_pivots(NULL, maple_dense) = NULL
