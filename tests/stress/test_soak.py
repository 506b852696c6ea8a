"""stress/soak.py draws combinations from the documented parameter space."""

from rcu_harness.campaign.catalog import scenarios
from stress.soak import combinations


def test_the_soak_keeps_parameters_that_lift_a_kernel_guarantee_at_their_default():
    combos = combinations(scenarios(), 60, seed=0)
    dup = [c["params"] for c in combos if c["scenario"] == "dup_mmap"]
    assert len(dup) == 10
    assert all(p["child_visible_early"] is False for p in dup)
    # other booleans are still drawn both ways
    stack = [c["params"]["guard_gap"] for c in combos
             if c["scenario"] == "stack_expand"]
    assert set(stack) == {True, False}


def test_the_first_combination_of_each_scenario_has_its_maximum_size():
    combos = combinations(scenarios(), 12, seed=0)
    sized = [c for c in combos[:6] if "vmas" in c["params"]]
    assert sized
    assert all(c["params"]["vmas"] == 2000 for c in sized)
