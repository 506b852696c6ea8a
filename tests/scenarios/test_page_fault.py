"""page_fault: per-VMA locks in both designs, their counters, maps, reuse."""

from __future__ import annotations

import pytest

from rcu_harness.scenarios import ScenarioError, configure, explore_scenario
from rcu_harness.scenarios.readers import READ_KINDS

DESIGNS = ("modern", "vma_refcnt")
FIX = {"kernel_fixes": "maps-restart-at-last-addr"}
"""vma_refcnt's maps reader with the candidate fix of the known finding
proc-maps-stale-iterator (tested on its own below)."""


def params(design, **more):
    return {"design": design, **(FIX if design == "vma_refcnt" else {}), **more}


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_page_faults_under_per_vma_locks_are_clean(design, strategy):
    result = explore_scenario("page_fault", params=params(design),
                              strategy=strategy, executions=40, seed=7)
    assert result.findings == ()
    counters = result.counters
    # faults are handled under the VMA lock, abort on holes, retry for
    # the anon_vma, and expand the stack under the write lock
    for name in ("vma_lock_success", "vma_lock_abort", "vma_lock_retry",
                 "stack_expanded", "fault_sigsegv"):
        assert counters.get(name, 0) > 0, name


def test_vma_refcnt_reuses_vmas_across_mms_and_stays_clean():
    result = explore_scenario("page_fault", params=params("vma_refcnt"),
                              executions=40, seed=2)
    assert result.ok
    assert result.counters["vma_reuse_across_mm"] > 0


def test_the_known_maps_finding_shows_without_its_fix_and_is_recognised():
    from rcu_harness.known.catalogue import known_finding

    result = explore_scenario("page_fault", params={"design": "vma_refcnt"},
                              strategy="pct", executions=200, seed=7)
    f = result.findings[0]
    assert f.kind == "result-inconsistent"
    assert "showed a hole" in f.message
    assert known_finding(f.kind, f.message).id == "proc-maps-stale-iterator"


def test_a_stale_fault_that_finds_another_mms_vma_drops_it():
    """The reuse the mm check exists for happens, and the kernel's check
    turns it into an abort (the counter), not a use."""
    params = {"design": "vma_refcnt", "op_set": "unmap", "vmas": 4, "ops": 4,
              "other_ops": 4, "faults": 6, "maps_readers": 0, "forks": 0}
    result = explore_scenario("page_fault", params=params, executions=1500, seed=0)
    assert result.ok
    assert result.counters.get("vma_reused_other_mm", 0) > 0


def test_writer_side_assertion_can_be_turned_off():
    cfg = configure("page_fault", {"assert_write_locked": "false"},
                    mutant="mprotect-skips-vma-start-write")
    assert cfg["assert_write_locked"] is False
    result = explore_scenario(cfg, executions=30, seed=1)
    # without the assertion only a race with a fault can show the bug
    assert all("vma_assert_write_locked" not in f.message for f in result.findings)


def test_page_faults_need_per_vma_locks():
    with pytest.raises(ScenarioError, match="must be one of modern, vma_refcnt"):
        configure("page_fault", {"design": "2021"})


@pytest.mark.parametrize("design", DESIGNS)
def test_the_fault_reader_kind_takes_the_vma_lock_in_per_vma_designs(design):
    assert "fault" in READ_KINDS
    result = explore_scenario("rcu_transitions", params={
        "design": design, "read_kind": "fault", "op_set": "mprotect", "ops": 12,
        "reads": 4}, executions=30, seed=3)
    assert result.ok
    assert result.counters.get("vma_lock_success", 0) > 0


@pytest.mark.parametrize("design", DESIGNS)
def test_other_scenarios_write_lock_vmas_in_per_vma_designs(design):
    for scenario in ("dup_mmap", "mmput_race", "stack_expand"):
        result = explore_scenario(scenario, params={"design": design},
                                  executions=15, seed=4)
        assert result.ok, (scenario, result.findings[:1])
