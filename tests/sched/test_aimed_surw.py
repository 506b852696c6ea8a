"""``aimed-surw``, the default strategy before ``aimed-site``: the portfolio
pct, random-sync, pct-sync, surw, pct-sync with points=field and
sync_points=access under one name, schedule for schedule; its parameters,
its calibration (steps, sync_steps and surw's profile) and determinism
(traces, replay, blocks, resume).  It stays registered so that its replay
commands replay exactly (tests/sched/test_aimed_site.py tests the
default)."""

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

LONG = {"members": "pct,random-sync,pct-sync,surw,pct-sync", "points": "field",
        "sync_points": "access"}
"""The portfolio spelling of ``aimed-surw``."""
SPEC = RunSpec("page_fault", strategy="aimed-surw", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})


@pytest.mark.parametrize("seed", [0, 3])
def test_it_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed-surw", LONG, seed, 10,
                                     {"steps", "sync_steps", "profile"})


def test_its_calibration_counts_field_points_and_measures_surws_profile():
    field = resolve(RunSpec("page_fault", strategy="aimed-surw"))
    sync = resolve(RunSpec("page_fault", strategy="aimed-surw",
                           strategy_params={"points": "sync"}))
    aimed = resolve(RunSpec("page_fault", strategy="aimed"))
    surw = resolve(RunSpec("page_fault", strategy="surw"))
    assert field.strategy_params["sync_steps"] < sync.strategy_params["sync_steps"]
    assert field.strategy_params["steps"] == sync.strategy_params["steps"]
    for key in ("steps", "sync_steps"):
        assert field.strategy_params[key] == aimed.strategy_params[key]
    assert field.strategy_params["profile"] == surw.strategy_params["profile"] != ""


def test_it_takes_the_portfolios_per_member_parameters_but_not_members():
    kind = STRATEGIES["aimed-surw"]
    assert kind.options() == {"depth": 3, "steps": 0, "sync_steps": 0,
                              "profile": "", "interesting": "points",
                              "points": "field", "sync_points": "access"}
    assert (kind.profiled, kind.calibrated, kind.sync_calibrated) == (True,) * 3
    assert isinstance(kind.make(0), Profiled)
    assert check_strategy("aimed-surw", {"depth": "4", "interesting": "accesses"}) == {
        "depth": 4, "interesting": "accesses"}
    with pytest.raises(PlanError,
                       match="strategy aimed-surw has no parameter 'members'"):
        check_strategy("aimed-surw", {"members": "pct,random"})
    with pytest.raises(PlanError, match="surw profile item 'garbage' is not TID:COUNT"):
        check_strategy("aimed-surw", {"profile": "garbage"})
    with pytest.raises(PlanError, match="surw interesting must be one of"):
        check_strategy("aimed-surw", {"interesting": "nodes"})
    with pytest.raises(PlanError, match="random-sync points must be one of"):
        check_strategy("aimed-surw", {"sync_points": "nodes"})


def test_execution_i_is_member_i_mod_5s_execution_i():
    profile = resolve(RunSpec("page_fault", strategy="surw",
                              mutant="vma-freed-without-rcu")).strategy_params["profile"]
    sync = {"sync_steps": 40, "points": "field"}
    assert_members_take_turns(
        "aimed-surw", {"steps": 300, "sync_steps": 40, "profile": profile},
        (("pct", {"steps": 300}), ("random-sync", {}), ("pct-sync", sync),
         ("surw", {"profile": profile}), ("pct-sync", sync)), 10)


def test_maple_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    assert_maple_traces_replay("aimed-surw", {"steps": 500, "sync_steps": 30,
                                "profile": "1:200,2:150,3:150"},
                               (0, 1, 2, 3, 4, 8))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(SPEC), ((0, 7), (7, 15)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40)
