"""Every seeded mutant is found with a fixed seed and budget, and replays the same."""

import pytest

from rcu_harness.campaign.replay import from_seed, replay
from rcu_harness.scenarios import MUTANTS, configure, explore_scenario

BUDGET = 600


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_is_found_and_its_replay_reports_the_same_bug(mutant):
    bug = MUTANTS[mutant]
    strategy = "mix"  # the default
    result = explore_scenario(bug.scenario, mutant=mutant, strategy=strategy,
                              executions=BUDGET, seed=1)
    assert result.findings, f"{mutant} not found in {BUDGET} executions"
    finding = result.findings[0]
    assert f"--mutant {mutant}" in finding.replay_command
    again = replay(from_seed(configure(bug.scenario, mutant=mutant),
                             strategy=strategy, seed=1, execution=finding.execution,
                             strategy_params={}))
    assert again.finding is not None
    assert again.finding.signature == finding.signature
    assert again.finding.report == finding.report


def test_there_are_at_least_fourteen_mutants_each_with_a_one_line_description():
    assert len(MUTANTS) >= 14
    for bug in MUTANTS.values():
        assert bug.description
        assert "\n" not in bug.description


@pytest.mark.slow
def test_the_same_mutant_without_its_patch_is_clean():
    # the mutant's own parameters on the correct model: the bug, not the
    # workload, is what the checkers catch
    bug = MUTANTS["in-place-write-in-rcu"]
    result = explore_scenario(bug.scenario, params=dict(bug.params), strategy="pct",
                              executions=150, seed=1)
    assert result.ok
