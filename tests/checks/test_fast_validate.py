"""The fast pass of the mt_validate() checker never passes a tree mt_validate()
would reject, and leaves every broken tree to mt_validate(), which still
words the finding (rcu_harness/checks/fast_validate.py)."""

from __future__ import annotations

import random

import pytest

import maple
import rcu_harness.checks.fast_validate as fast_validate
import rcu_harness.checks.validate as validate_mod
from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    MapleTree,
    MapleValidationError,
    mt_validate,
    mtree_erase,
    mtree_load,
    mtree_store_range,
)
from maple.node import MapleEnode, MapleMetadata, mk_meta
from rcu_harness import explore
from rcu_harness.checks.fast_validate import WITH_PLAIN, Unpatched, tree_is_valid
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
from rcu_harness.patches import Patch, patched
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import applied, configure, program
from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.sched.registry import make_strategy
from tests.maple.helpers import vma_ranges


def model_passes(mt: MapleTree) -> bool:
    try:
        mt_validate(mt)
    except Exception:
        return False
    return True


def fast(mt: MapleTree) -> bool:
    """The fast pass's verdict, the same with its memo as without it."""
    full = tree_is_valid(mt, WITH_PLAIN, memo=False)
    assert tree_is_valid(mt, WITH_PLAIN) == full
    return full


def two_level_tree(flags: int = MT_FLAGS_ALLOC_RANGE) -> MapleTree:
    mt = MapleTree(flags)
    for i, (first, last) in enumerate(vma_ranges(30)):
        mtree_store_range(mt, first, last, i)
    assert fast(mt)
    assert model_passes(mt)
    return mt


def nodes(mt: MapleTree) -> list[maple.MapleNode]:
    out, todo = [], [mt.ma_root]
    while todo:
        enode = todo.pop()
        if isinstance(enode, MapleEnode):
            out.append(enode[0])
            if enode[1] >= 2:
                todo += enode[0].slot
    return out


def _dead(root, leaf):
    leaf.parent = leaf.addr


def _pivots_swapped(root, leaf):
    leaf.pivot[2], leaf.pivot[3] = leaf.pivot[3], leaf.pivot[2]


def _pivot_beyond(root, leaf):
    leaf.pivot[3] = root.pivot[1] + 1


def _parent_slot(root, leaf):
    leaf.parent = (leaf.parent & ~0xF8) | (2 << 3)


def _child_twice(root, leaf):
    root.slot[0] = root.slot[1]


def _parent_gap(root, leaf):
    root.gap[0] += 1


def _meta_gap(root, leaf):
    end = root.meta.end
    root.gap[0], root.gap[1] = 0x1000, 0x5000
    root.meta = mk_meta(end, 0)


def _two_nulls(root, leaf):
    first = next(i for i, e in enumerate(leaf.slot) if e is not None)
    leaf.slot[first] = None


def _stray_entry(root, leaf):
    root.slot[3][0].slot[14] = "stray"


CORRUPTIONS = [_dead, _pivots_swapped, _pivot_beyond, _parent_slot,
               _child_twice, _parent_gap, _meta_gap, _two_nulls, _stray_entry]


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_corrupted_tree_is_left_to_mt_validate(corrupt):
    mt = two_level_tree()
    root = mt.ma_root[0]
    corrupt(root, root.slot[1][0])
    assert not fast(mt)
    with pytest.raises(MapleValidationError):
        mt_validate(mt)


def _nulls_where_leaves_meet() -> MapleTree:
    """A tree (no gaps kept, so the NULLs are all that is wrong) whose first
    leaf ends and second leaf starts with NULL, each beside an entry (a
    non-NULL value: the tree does not look at them)."""
    mt = two_level_tree(0)
    root = mt.ma_root[0]
    left, right = root.slot[0][0], root.slot[1][0]
    end = fast_validate._data_end(left.meta, mt.ma_root[0].slot[0][1], left.pivot,
                                  left.slot, root.pivot[0])
    left.slot[end - 1], left.slot[end] = "x", None
    right.slot[0], right.slot[1] = None, "y"
    return mt


def test_null_entries_where_two_leaves_meet_are_left_to_mt_validate():
    mt = _nulls_where_leaves_meet()
    assert not fast(mt)
    with pytest.raises(MapleValidationError, match="two NULL entries in a row"):
        mt_validate(mt)


def test_a_pass_that_forgot_where_leaves_meet_would_pass_that_tree(monkeypatch):
    """A seeded bug in the leaves' NULLs (each leaf judged alone): the test
    above fails."""
    nulls = fast_validate._nulls

    def alone(entries):
        return None if nulls(entries) is None else (False, False)

    monkeypatch.setattr(fast_validate, "_nulls", alone)
    assert tree_is_valid(_nulls_where_leaves_meet(), WITH_PLAIN, memo=False)


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_memo_of_the_valid_tree_does_not_pass_its_corruption(monkeypatch, corrupt):
    """Every node's checks of the valid tree are in the memo; after the
    corruption the memoized pass still says not sure, as the full pass."""
    monkeypatch.setattr(fast_validate, "MEMO", {})
    mt = two_level_tree()
    assert len(fast_validate.MEMO) == len(nodes(mt))
    root = mt.ma_root[0]
    corrupt(root, root.slot[1][0])
    assert tree_is_valid(mt, WITH_PLAIN, memo=False) is False
    assert tree_is_valid(mt, WITH_PLAIN) is False


def _float_pivot(root, leaf):
    leaf.pivot[2] = float(leaf.pivot[2])


def _float_limit(root, leaf):
    root.pivot[1] = float(root.pivot[1])


def _float_meta(root, leaf):
    root.meta = MapleMetadata(float(root.meta.end), root.meta.gap)


@pytest.mark.parametrize("change", [_float_pivot, _float_limit, _float_meta])
def test_a_number_equal_to_a_memoized_one_but_of_another_type_is_checked(
        monkeypatch, change):
    """5.0 == 5, but the checks do not treat them alike everywhere: a node
    whose words equal a memoized node's but for the type gets the full
    pass's answer."""
    monkeypatch.setattr(fast_validate, "MEMO", {})
    mt = two_level_tree()
    root = mt.ma_root[0]
    change(root, root.slot[1][0])
    fast(mt)


def test_the_full_pass_can_be_forced(monkeypatch):
    """memo=False, or no memo at all, checks every node and keeps nothing."""
    monkeypatch.setattr(fast_validate, "MEMO", {})
    mt = two_level_tree()
    fast_validate.MEMO.clear()
    assert tree_is_valid(mt, WITH_PLAIN, memo=False)
    assert fast_validate.MEMO == {}
    monkeypatch.setattr(fast_validate, "MEMO", None)
    assert tree_is_valid(mt, WITH_PLAIN)


def _random_write(rng: random.Random, mt: MapleTree, pages: int) -> None:
    """Erase at, or store a range of 1 to 63 pages from, a random one of
    the first @pages pages (of 16 bytes)."""
    first = rng.randrange(0, pages) * 16
    last = first + rng.randrange(1, 64) * 16 - 1
    if rng.random() < 0.25:
        mtree_erase(mt, first)
    else:
        mtree_store_range(mt, first, last, rng.randrange(1, 1000))


def test_random_histories_agree_with_and_without_the_memo(monkeypatch):
    """Random writes, erasures and word corruptions (each undone again, so
    that the memo holds the words before and after), on a memo small
    enough to start over many times: the memoized pass answers every tree
    as the full pass does."""
    monkeypatch.setattr(fast_validate, "MEMO", {})
    monkeypatch.setattr(fast_validate, "MEMO_LIMIT", 64)
    rng = random.Random(23)
    verdicts = []
    for flags in (0, MT_FLAGS_ALLOC_RANGE, 0, MT_FLAGS_ALLOC_RANGE):
        mt = MapleTree(flags | MT_FLAGS_USE_RCU)
        for _ in range(rng.randrange(40, 160)):
            _random_write(rng, mt, 1 << 12)
            verdicts.append(fast(mt))
            if isinstance(mt.ma_root, MapleEnode) and rng.random() < 0.5:
                saved = [(node, list(node.pivot), list(node.slot),
                          list(node.gap), node.parent, node.meta)
                         for node in nodes(mt)]
                _corrupt_one_word(rng, mt)
                verdicts.append(fast(mt))
                for node, *words in saved:
                    (node.pivot[:], node.slot[:], node.gap[:], node.parent,
                     node.meta) = words
                verdicts.append(fast(mt))
    assert len(verdicts) > 400
    assert verdicts.count(False) > 20
    assert len(fast_validate.MEMO) <= 64


def _corrupt_one_word(rng: random.Random, mt: MapleTree) -> None:
    node = rng.choice(nodes(mt))
    word = rng.choice(("pivot", "slot", "gap", "parent", "meta"))
    if word == "parent":
        node.parent ^= 1 << rng.randrange(8)
    elif word == "meta":
        node.meta = mk_meta(rng.randrange(16), rng.randrange(16))
    elif word == "slot":
        i = rng.randrange(16)
        node.slot[i] = rng.choice([None, "x", node.slot[rng.randrange(16)]])
    else:
        words = getattr(node, word)
        i = rng.randrange(len(words))
        words[i] = max(0, words[i] + rng.choice((-1, 1, 0x1000, -0x1000)))


@pytest.mark.parametrize("flags", [0, MT_FLAGS_ALLOC_RANGE])
def test_random_trees_and_random_corruptions(flags):
    """Writes keep trees valid (both say so); after a random word is
    changed, the fast pass never passes what mt_validate() rejects."""
    rng = random.Random(17)
    rejected = 0
    for _ in range(60):
        mt = MapleTree(flags | MT_FLAGS_USE_RCU)
        for _ in range(rng.randrange(1, 120)):
            _random_write(rng, mt, 1 << 16)
            assert fast(mt) == model_passes(mt) is True
        for _ in range(4):
            _corrupt_one_word(rng, mt)
            if fast(mt):
                assert model_passes(mt)
            else:
                rejected += 1
    assert rejected > 50


@pytest.mark.parametrize("strategy_name", ["mix", "pct-site"])
def test_every_write_of_every_scenario_agrees(monkeypatch, strategy_name):
    """In real executions (both designs of each default scenario), every
    tree the fast pass accepts passes the model's mt_validate(); with its
    memo the pass answers as without it.  pct-site watches pending
    accesses (a passive hook, which leaves what the pass reads alone)."""
    seen = []

    def both(mt):
        verdict = tree_is_valid(mt)
        assert tree_is_valid(mt, memo=False) == verdict
        port, ex = mt.port, mt.port.ex
        ex.quiet += 1
        quiet = port.quiet_nodes()
        try:
            seen.append((verdict, model_passes(mt)))
        finally:
            port.observe_again(quiet)
            ex.quiet -= 1
        return verdict

    monkeypatch.setattr(validate_mod, "tree_is_valid", both)
    for scenario in ("dup_mmap", "rcu_transitions", "mmput_race"):
        for design in ("2021", "modern"):
            setup = program(configure(scenario, {"design": design}))
            strategy = make_strategy(strategy_name, 0,
                                     **calibrate(setup, strategy_name, 0))
            for i in range(2):
                strategy.new_execution(i)
                run_execution(setup, strategy, i, record=0)
    assert len(seen) > 50
    assert all(model for verdict, model in seen if verdict)
    assert all(verdict for verdict, _ in seen)


def test_every_mutant_s_writes_agree_with_and_without_the_memo(monkeypatch):
    """Under each mutant whose executions run the fast pass, every tree
    gets the same answer from the memoized pass and the full pass."""
    answers = []

    def both(mt):
        verdict = tree_is_valid(mt)
        answers.append(verdict == tree_is_valid(mt, memo=False))
        return verdict

    monkeypatch.setattr(validate_mod, "tree_is_valid", both)
    ran = 0
    for name, mutant in MUTANTS.items():
        cfg = configure(mutant.scenarios[0], mutant=name)
        setup = program(cfg)
        with applied(cfg.mutant, cfg.fixes):
            strategy = make_strategy("mix", 0, **calibrate(setup, "mix", 0))
            before = len(answers)
            strategy.new_execution(0)
            run_execution(setup, strategy, 0, record=0)
            ran += len(answers) > before
    assert ran > 25
    assert len(answers) > 300
    assert all(answers)


def _program(corrupt):
    def prog(h):
        mt = MapleTree(MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU, port=h.port)
        for i, (first, last) in enumerate(vma_ranges(30)):
            mtree_store_range(mt, first, last, i + 1)

        def writer():
            with h.writing(mt, 0x400000, 0x400fff, 100):
                mtree_store_range(mt, 0x400000, 0x400fff, 100)
                corrupt(h, mt)

        def reader():
            rcu_read_lock()
            mtree_load(mt, 0x400000)
            rcu_read_unlock()

        h.spawn("writer", writer)
        h.spawn("reader", reader)
    return prog


def test_a_tree_broken_in_an_execution_is_still_a_finding():
    def corrupt(h, mt):
        with h.port.unobserved():
            leaf = mt.ma_root[0].slot[1][0]
            leaf.pivot[2], leaf.pivot[3] = leaf.pivot[3], leaf.pivot[2]

    f = explore(_program(corrupt), executions=1).findings[0]
    assert f.kind == "mt-validate"
    assert "pivots decrease" in f.report


def test_a_freed_node_in_the_tree_is_still_a_use_after_free():
    def corrupt(h, mt):
        with h.port.unobserved():
            leaf = mt.ma_root[0].slot[1][0]
        h.port.node_free(leaf)

    f = explore(_program(corrupt), executions=1).findings[0]
    assert f.kind == "use-after-free"
    assert "mt_validate (maple/validate.py" in f.report


def test_a_patched_model_function_turns_the_fast_pass_off():
    unpatched = Unpatched(mt_validate)
    assert unpatched()
    data_end = maple.walk.mas_data_end

    def variant(mas):
        return data_end(mas)

    with patched([Patch(data_end, variant)]):
        assert not unpatched()
    assert unpatched()


def test_any_one_function_mt_validate_reaches_patched_turns_the_fast_pass_off():
    """Each of them, in every module, alone: the test looks at each module's
    names at once."""
    unpatched = Unpatched(mt_validate)
    modules = {id(g) for g, _, _ in unpatched.reached}
    assert len(modules) > 1
    assert len(unpatched.reached) > 20
    for _, _, fn in unpatched.reached:
        def variant(*args, _fn=fn, **kwargs):
            return _fn(*args, **kwargs)

        with patched([Patch(fn, variant)]):
            assert not unpatched(), fn.__qualname__
        assert unpatched()


@pytest.mark.parametrize(("params", "coverage", "passes"), [
    ({}, False, True),
    ({"memory_model": "lkmm"}, False, False),
    ({}, True, False)], ids=["pending-only", "lkmm", "reads-from"])
def test_the_fast_pass_runs_under_a_passive_hook_only(monkeypatch, params,
                                                       coverage, passes):
    """A watching strategy's hook (pending accesses alone) leaves what
    mt_validate() reads unchanged; a memory model or reads-from coverage
    keep every tree to the model's mt_validate()."""
    calls = []

    def spy(mt):
        calls.append(1)
        return tree_is_valid(mt)

    monkeypatch.setattr(validate_mod, "tree_is_valid", spy)
    setup = program(configure("mmput_race", params))
    strategy = make_strategy("pct-site", 0, **calibrate(setup, "pct-site", 0))
    strategy.new_execution(0)
    checkers = None
    if coverage:
        from rcu_harness.checks.defaults import default_checkers
        from rcu_harness.checks.reads_from import ReadsFromCoverage
        checkers = [*default_checkers(), ReadsFromCoverage]
    calls.clear()  # calibration's executions
    ex = run_execution(setup, strategy, 0, record=0, checkers=checkers)
    assert ex.access_hook is not None
    assert bool(calls) == passes
