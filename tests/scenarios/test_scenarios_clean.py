"""The correct model is clean in every scenario and design (benign counters aside)."""

import pytest

from rcu_harness.scenarios import explore_scenario

SMALL = {"dup_mmap": {"vmas": 10}, "rcu_transitions": {"vmas": 12, "ops": 6},
         "mmput_race": {"vmas": 8}}


@pytest.mark.parametrize("design", ["2021", "modern"])
@pytest.mark.parametrize("scenario", sorted(SMALL))
@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_correct_model_has_no_findings(scenario, design, strategy):
    result = explore_scenario(scenario, params={**SMALL[scenario], "design": design},
                              strategy=strategy, executions=60, seed=5)
    assert result.findings == ()
    assert result.executions == 60


def test_dup_mmap_counts_the_benign_teardown_race_instead_of_failing():
    result = explore_scenario("dup_mmap", params={"vmas": 6}, executions=200, seed=1)
    assert result.ok
    assert result.counters.get("teardown_in_rcu_mode", 0) > 0


def test_modern_design_never_tears_down_in_rcu_mode():
    result = explore_scenario("mmput_race", params={"design": "modern"},
                              executions=150, seed=1)
    assert result.ok
    assert result.counters.get("teardown_in_rcu_mode", 0) == 0


def test_readers_restart_on_dead_nodes_and_it_is_counted_not_failed():
    result = explore_scenario("rcu_transitions", executions=40, seed=2)
    assert result.ok
    assert result.counters["reader_restart"] > 0


def test_dfs_explores_a_tiny_mmput_race_without_findings():
    result = explore_scenario("mmput_race", params={"vmas": 2, "ops": 0, "racers": 1},
                              strategy="dfs", executions=300, seed=0)
    assert result.ok
    assert result.executions > 1


@pytest.mark.parametrize("design", ["modern", "vma_refcnt"])
def test_early_child_readers_may_see_the_whole_mt_dup_copy_at_once(design):
    # __mt_dup() makes the parent's VMAs visible in the child's tree in one
    # operation; recorded one by one, the result checker called a reader
    # that outran the bookkeeping inconsistent (found by a soak at 2,000 VMAs;
    # at 3 VMAs aimed reached it in execution 2, pct in 117).
    params = {"design": design, "vmas": 3, "child_visible_early": True,
              "child_readers": 2, "parent_ops": 0, "dontcopy_every": 0}
    result = explore_scenario("dup_mmap", params=params, executions=100, seed=0)
    assert result.findings == ()
    assert result.executions == 100
