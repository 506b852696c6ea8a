"""``aimed``, the default strategy before ``aimed-surw``: the portfolio pct,
random-sync, pct-sync, random with points=field and sync_points=access under
one name, schedule for schedule; its parameters and determinism (traces,
replay, blocks, resume).  It stays registered so that its replay commands
replay exactly (tests/sched/test_aimed_site.py tests the default)."""

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.sched.protocol import Profiled
from rcu_harness.sched.registry import STRATEGIES
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_maple_traces_replay,
    assert_members_take_turns,
    assert_resume_matches_whole,
    assert_runs_as_its_long_spelling,
)

LONG = {"members": "pct,random-sync,pct-sync,random", "points": "field",
        "sync_points": "access"}
"""The portfolio spelling of ``aimed``."""
SPEC = RunSpec("page_fault", strategy="aimed", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})


@pytest.mark.parametrize("seed", [0, 3])
def test_aimed_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed", LONG, seed, 8, {"steps", "sync_steps"})


def test_its_calibration_counts_field_points_as_the_long_spelling_does():
    field = resolve(RunSpec("page_fault", strategy="aimed"))
    sync = resolve(RunSpec("page_fault", strategy="aimed",
                           strategy_params={"points": "sync"}))
    assert set(field.strategy_params) == {"steps", "sync_steps"}
    assert field.strategy_params["sync_steps"] < sync.strategy_params["sync_steps"]
    assert field.strategy_params["steps"] == sync.strategy_params["steps"]


def test_it_takes_the_portfolios_per_member_parameters_but_not_members():
    kind = STRATEGIES["aimed"]
    assert kind.options() == {"depth": 3, "steps": 0, "sync_steps": 0,
                              "points": "field", "sync_points": "access"}
    assert not kind.profiled
    assert not isinstance(kind.make(0), Profiled)
    assert check_strategy("aimed", {"depth": "4", "steps": "900"}) == {
        "depth": 4, "steps": 900}
    with pytest.raises(PlanError, match="strategy aimed has no parameter 'members'"):
        check_strategy("aimed", {"members": "pct,random"})
    with pytest.raises(PlanError, match="random-sync points must be one of"):
        check_strategy("aimed", {"sync_points": "nodes"})


def test_execution_i_is_member_i_mod_4s_execution_i():
    assert_members_take_turns(
        "aimed", {"steps": 300, "sync_steps": 40},
        (("pct", {"steps": 300}), ("random-sync", {}),
         ("pct-sync", {"sync_steps": 40, "points": "field"}), ("random", {})), 8)


def test_maple_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    assert_maple_traces_replay("aimed", {"steps": 500, "sync_steps": 30},
                               (0, 1, 2, 3, 6))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(SPEC), ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 32)
