"""Reader kinds, layouts, owner operations, the 2023 design and tree_destroy."""

from __future__ import annotations

from itertools import pairwise

import pytest

from rcu_harness.scenarios import ScenarioError, configure, explore_scenario
from rcu_harness.scenarios.layouts import (
    ELF_ET_DYN_BASE,
    TASK_SIZE_47,
    TASK_SIZE_57,
    VM_GROWSDOWN,
    make_layout,
)
from rcu_harness.scenarios.readers import READ_KINDS, kinds_of

SMALL = {"vmas": 10, "ops": 6, "readers": 2, "reads": 3}


@pytest.mark.parametrize("kind", sorted(READ_KINDS))
def test_every_reader_kind_is_clean_on_the_correct_model(kind):
    result = explore_scenario("rcu_transitions", params={
        **SMALL, "read_kind": kind, "layout": "dense", "op_set": "mprotect"},
        executions=25, seed=3, max_steps=1_000_000)
    assert result.findings == ()


@pytest.mark.parametrize("layout", ["x86_64", "la57", "dense", "low"])
def test_every_layout_is_clean_on_the_correct_model(layout):
    result = explore_scenario("rcu_transitions", params={
        **SMALL, "read_kind": "all", "layout": layout}, executions=25, seed=4,
        max_steps=1_000_000)
    assert result.findings == ()


def test_layouts_sit_where_a_process_has_its_vmas():
    x86 = make_layout("x86_64", 12, seed=1)
    assert x86[0][0] == ELF_ET_DYN_BASE
    assert x86[-1][2] & VM_GROWSDOWN
    assert TASK_SIZE_47 - 16 * 0x1000 <= x86[-1][1] <= TASK_SIZE_47
    la57 = make_layout("la57", 12, seed=1)
    assert la57[-1][1] > 1 << 47
    assert la57[-1][1] <= TASK_SIZE_57
    dense = make_layout("dense", 12, seed=1)
    assert all(b[0] - a[1] == 0x1000 for a, b in pairwise(dense))
    for out in (x86, la57, dense, make_layout("low", 12, seed=1)):
        assert len(out) == 12
        assert all(a[1] <= b[0] for a, b in pairwise(out))


def test_all_gives_each_reader_its_own_kinds_from_the_reader_seed():
    cfg = configure("rcu_transitions", {"read_kind": "all", "reader_seed": 7})
    first = [kinds_of(cfg, k, 6) for k in range(3)]
    assert first == [kinds_of(cfg, k, 6) for k in range(3)]
    assert len({tuple(k) for k in first}) > 1
    assert kinds_of(configure("rcu_transitions", {"read_kind": "mixed"}), 0, 4) == [
        "iterate", "lookup", "walk", "iterate"]


@pytest.mark.parametrize(("design", "rcu", "guard"), [
    ("2023", True, True), ("2023", False, True), ("modern", True, True),
    ("modern", True, False)])
def test_stack_expansion_is_clean_where_the_design_is_correct(design, rcu, guard):
    params = {"design": design, "rcu": rcu, "guard_gap": guard,
              "readers": 1 if rcu else 0}
    result = explore_scenario("stack_expand", params=params, executions=60, seed=1)
    assert result.findings == ()
    assert result.counters.get("expand_enomem", 0) == (120 if guard else 0)


def test_2023_without_guard_gap_in_rcu_mode_is_stackrot():
    """CVE-2023-3269: a node the expansion replaced is freed after a grace
    period that does not wait for a walker holding only the mmap read lock."""
    result = explore_scenario("stack_expand", params={"guard_gap": False},
                              executions=300, seed=1)
    assert result.findings
    finding = result.findings[0]
    assert finding.kind == "use-after-free"
    assert "maple_node" in finding.message


def test_2023_without_guard_gap_outside_rcu_mode_is_the_syzbot_report():
    """March 2023: outside RCU mode, consuming the gap rewrites the node
    under readers holding the mmap read lock (fixed by RCU mode)."""
    result = explore_scenario("stack_expand", params={
        "guard_gap": False, "rcu": False, "readers": 0}, executions=400, seed=1)
    assert result.findings
    assert result.findings[0].kind == "result-inconsistent"


def test_lockless_readers_need_rcu_mode():
    with pytest.raises(ScenarioError, match="readers=0"):
        configure("stack_expand", {"rcu": False})


def test_tree_destroy_under_point_readers_is_clean():
    result = explore_scenario("tree_destroy", params={"read_kind": "walk"},
                              executions=80, seed=2)
    assert result.findings == ()
