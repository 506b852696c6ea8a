"""The catalogue of known kernel findings and the candidate fixes (model side)."""

import pytest

import maple
from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    MapleTree,
    MaState,
    iterate,
    mas_find,
    mtree_erase,
    mtree_store_range,
    xa_mk_value,
)
from maple.nullptr import NullPointerDereference
from rcu_harness.known.catalogue import CATALOGUE, known_crash, known_finding
from rcu_harness.known.fixes import FIXES, FixError, parse_fixes, patch_c_source
from rcu_harness.scenarios.catalog import applied, configure
from rcu_harness.scenarios.spec import ScenarioError

NULL_DEREF = ("kernel NULL pointer dereference in ma_dead_node <- mas_rewalk_if_dead"
              " <- mas_next_slot <- mas_find (read of maple_node.parent, address 0x0)")


def test_entries_are_complete_and_name_existing_fixes():
    ids = [e.id for e in CATALOGUE]
    assert len(ids) == len(set(ids)) >= 3
    for entry in CATALOGUE:
        assert all((entry.title, entry.what, entry.versions, entry.confirmed))
        assert entry.reproducer
        assert not entry.fix or entry.fix in FIXES


def test_a_null_deref_in_the_iteration_is_the_known_rewalk_bug():
    entry = known_finding("null-ptr-deref", NULL_DEREF)
    assert entry is not None
    assert entry.id == "maple-rewalk-null-node"
    assert entry.fix == "rewalk-no-node"
    assert known_finding("exception", NULL_DEREF) is None
    assert known_finding("null-ptr-deref", "kernel NULL pointer dereference in "
                         "mas_wr_walk <- mas_store") is None


def test_oracle_crash_lines_are_told_apart():
    kernel = ("crash exit 1: runtime error: member access within null pointer of "
              "type 'const struct maple_node' [in ma_dead_node <- mas_rewalk_if_dead"
              " <- mas_next_slot <- mas_find]")
    model = ("crash NullPointerDereference: kernel NULL pointer dereference, "
             "address: 0000000000000000 (read of struct maple_node.parent)")
    assert known_crash(kernel, model).id == "maple-rewalk-null-node"
    sequential = model.replace(")", ", rmas.node NULL before the call)")
    assert known_crash(kernel, sequential).id == "maple-overflow-state-null-node"
    destroy = known_crash("crash exit 1: ERROR: AddressSanitizer: heap-use-after-free"
                          " [in mt_free_bulk <- mt_free_walk]",
                          "crash RuntimeError: kmem_cache_free of an invalid pointer")
    assert destroy.id == "maple-rcu-destroy-dead-leaves"
    assert known_crash("crash exit 1: ERROR: AddressSanitizer: SEGV", "crash X: y") \
        is None


def test_fix_names_are_checked_and_normalised():
    assert parse_fixes("rewalk-no-node, overflow-state-no-node,") == (
        "overflow-state-no-node", "rewalk-no-node")
    assert parse_fixes("") == ()
    with pytest.raises(FixError, match="unknown kernel fix 'nope'"):
        parse_fixes("nope")
    cfg = configure("rcu_transitions", {"kernel_fixes": "rewalk-no-node"})
    assert cfg.fixes == ("rewalk-no-node",)
    assert configure("rcu_transitions").fixes == ()
    assert "kernel_fixes" not in configure("rcu_transitions").values
    with pytest.raises(ScenarioError, match="unknown kernel fix"):
        configure("dup_mmap", {"kernel_fixes": "nope"})


def _emptied_iteration():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU)
    for first in (10, 20):
        mtree_store_range(mt, first, first + 9, xa_mk_value(first))
    mas = MaState(mt, 0, 0)
    assert mas_find(mas, ULONG_MAX) == xa_mk_value(10)
    mtree_erase(mt, 10)
    mtree_erase(mt, 20)
    return mas


def test_rewalk_fix_returns_null_and_is_undone_after_the_block():
    original = iterate.mas_next_slot
    with applied(None, ("rewalk-no-node",)):
        assert iterate.mas_next_slot is not original
        mas = _emptied_iteration()
        # through the package: patching swaps the model's and the harness's
        # references, not this test module's
        assert maple.mas_find(mas, ULONG_MAX) is None
        assert maple.mas_find(mas, ULONG_MAX) is None  # not active on NULL
    assert iterate.mas_next_slot is original
    with pytest.raises(NullPointerDereference):
        mas_find(_emptied_iteration(), ULONG_MAX)


def test_overflow_fix_walks_afresh():
    mt = MapleTree(0)
    mtree_store_range(mt, 40, 50, xa_mk_value(1))
    with applied(None, ("overflow-state-no-node",)):
        mas = MaState(mt, 30, 30)
        assert maple.mas_next(mas, 10) is None
        assert maple.mas_next(mas, ULONG_MAX) == xa_mk_value(1)
        assert (mas.index, mas.last) == (40, 50)


def test_c_patches_match_once_or_refuse():
    source = ("\tunsigned long save_point = mas->index;\n\nretry:\n"
              "\tunsigned long save_point = mas->last;\n\tvoid *entry;\n\nretry:\n"
              "\tentry = mas_next_slot(mas, max, false);\n\t/* Ignore overflow */\n"
              "\tmas->status = ma_active;\n")
    patched = patch_c_source(source, ("rewalk-no-node",))
    assert patched.count("mas_is_none(mas) || mas_is_ptr(mas)") == 2
    assert "if (likely(mas_is_overflow(mas)))" in patched
    with pytest.raises(FixError, match="matches 0 times"):
        patch_c_source("int x;\n", ("rewalk-no-node",))


MISSED = ("reader1/3: iterate-rev missed [0x7ffff7beb000, 0x7ffff7c0afff] -> "
          "Vma@0xffff888000000600, present throughout the read")


def test_a_reverse_walk_missing_a_stable_range_is_the_stale_parent_slot_bug():
    entry = known_finding("result-inconsistent", MISSED)
    assert entry is not None
    assert entry.id == "maple-rebalance-stale-parent-slot"
    assert entry.fix == "rebalance-parent-slot"
    assert known_finding("result-inconsistent", MISSED.replace("iterate-rev",
                                                              "iterate")) is None
    assert known_finding("result-inconsistent", "reader2/4: returned [0x1, "
                         "0xffffffff81452a30] -> Vma@0xffff888000000000, present "
                         "in no possibly-current version") is None


UNDERFLOW = ("WARNING in mas_prev_slot <- mas_find_rev <- iterate_rev <- read_once: "
             "WARN_ON_ONCE(mas_is_underflow(mas)) (no previous node though the "
             "index is above the minimum)")


def test_the_reverse_walks_underflow_warning_is_the_stale_parent_slot_bug():
    """The kernel's mas_prev_slot() fires WARN_ON_ONCE(mas_is_underflow(mas))
    where the walk ends early, before the entry is missed."""
    entry = known_finding("warning", UNDERFLOW)
    assert entry is not None
    assert entry.id == "maple-rebalance-stale-parent-slot"
    assert known_finding("warning", UNDERFLOW, ("rebalance-parent-slot",)) is None
    assert known_finding("warning", UNDERFLOW.replace("mas_prev_slot",
                                                      "mas_next_slot")) is None
    assert known_finding("use-after-free", UNDERFLOW) is None


REPEATED = ("reader1/3: iteration not ascending: [0x7ffff7fdb000, 0x7ffff7fdbfff] -> "
            "Vma@0xffff888000001800 after index 0x7ffff7fe8fff")


def test_a_forward_walk_returning_entries_again_is_the_stale_parent_slot_bug():
    entry = known_finding("result-inconsistent", REPEATED)
    assert entry is not None
    assert entry.id == "maple-rebalance-stale-parent-slot"
    assert known_finding("result-inconsistent", "owner/1: " + REPEATED[11:]) is None
    assert known_finding("use-after-free", REPEATED) is None


def _statements(fn):
    import ast
    import inspect
    import textwrap

    func = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    return [ast.dump(s) for s in ast.walk(func) if isinstance(s, ast.stmt)][2:]


def test_the_rebalance_fix_is_the_model_function_plus_one_line():
    import ast

    from maple import rebalance
    from rcu_harness.known import fix_rebalance

    fixed = _statements(fix_rebalance.mas_spanning_rebalance_fixed)
    original = _statements(rebalance.mas_spanning_rebalance)
    line = ast.dump(ast.parse(fix_rebalance.MODEL_LINE.split("#")[0]).body[0])
    assert fixed.count(line) == 1
    assert original.count(line) == 0
    # the fixed body, with that statement taken out wherever it nests
    assert [s.replace(line + ", ", "") for s in fixed if s != line] == original
    from maple import write

    original_fn = rebalance.mas_spanning_rebalance
    with applied(None, ("rebalance-parent-slot",)):
        # both callers: mas_rebalance() and mas_wr_spanning_store()
        assert rebalance.mas_spanning_rebalance is write.mas_spanning_rebalance \
            is fix_rebalance.mas_spanning_rebalance_fixed
    assert rebalance.mas_spanning_rebalance is original_fn
    source = (fix_rebalance.C_OLD + "\tif (middle)\n")
    assert patch_c_source(source, ("rebalance-parent-slot",)) == \
        fix_rebalance.C_NEW + "\tif (middle)\n"


HOLE = ("maps0/3: showed a hole [0x0, 0x6aaaa72d4fff] that was never empty "
        "between steps 3 and 2263")


def test_a_finding_is_the_known_bug_only_in_a_run_without_its_fix():
    assert known_finding("result-inconsistent", HOLE).id == "proc-maps-stale-iterator"
    assert known_finding("result-inconsistent", HOLE,
                         ("rewalk-no-node",)).id == "proc-maps-stale-iterator"
    assert known_finding("result-inconsistent", HOLE,
                         ("maps-restart-at-last-addr",)) is None
    assert known_finding("null-ptr-deref", NULL_DEREF,
                         ("maps-restart-at-last-addr",)).id == "maple-rewalk-null-node"
    assert known_finding("null-ptr-deref", NULL_DEREF, ("rewalk-no-node",)) is None


def test_oracle_crash_lines_on_sides_built_with_the_fix_are_not_the_known_bug():
    kernel = ("crash exit 1: runtime error: member access within null pointer of "
              "type 'const struct maple_node' [in ma_dead_node <- mas_rewalk_if_dead"
              " <- mas_next_slot <- mas_find]")
    model = ("crash NullPointerDereference: kernel NULL pointer dereference, "
             "address: 0000000000000000 (read of struct maple_node.parent)")
    assert known_crash(kernel, model, ("rebalance-parent-slot",)).id == \
        "maple-rewalk-null-node"
    assert known_crash(kernel, model, ("rewalk-no-node",)) is None
