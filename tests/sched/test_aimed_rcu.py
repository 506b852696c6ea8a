"""``aimed-rcu``, the default before aimed-class: aimed-pct's turns with
stall_in=rcu-or-any under one name, schedule for schedule; from 2 readers'
sites its pct-site and pct-relay turns stall at readers' sites, below that
every execution is aimed-pct's; its parameters, its calibration,
determinism (traces, replay, blocks, resume)."""

import pytest

from rcu_harness import explore
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.scenarios.catalog import default_max_steps
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
    assert_runs_as_its_long_spelling,
    assert_takes_aimed_sites_parameters,
    plan_traces,
)

LONG = {"members": "pct,random-sync,pct-site,surw,pct-site,pct-relay",
        "points": "field", "sync_points": "access", "reads": "oldest",
        "fallback": "pct", "stall_in": "rcu-or-any"}
"""The portfolio spelling of ``aimed-rcu``."""
REUSE = "vma-reuse-skips-mm-check"
UNLOCK = "vma-used-after-rcu-unlock"
DESTROY = "destroy-frees-at-once"


def spec(mutant, seed=2, keep_going=False, **given):
    return RunSpec(MUTANTS[mutant].scenario, strategy="aimed-rcu", mutant=mutant,
                   seed=seed, keep_going=keep_going, strategy_params=given)


@pytest.mark.parametrize("seed", [0, 3])
def test_it_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed-rcu", LONG, seed, 10,
                                     {"steps", "sites", "profile", "stall_in"})


def test_from_two_readers_sites_its_stall_turns_draw_among_readers_sites_only():
    plan, rcu = plan_traces(spec(REUSE), 12)
    assert plan.strategy_params["stall_in"] == "rcu"
    _, pct = plan_traces(RunSpec("page_fault", strategy="aimed-pct", mutant=REUSE,
                                 seed=2), 12)
    aimed = [i for i in range(12) if i % 6 in (2, 4, 5)]
    assert [rcu[i] == pct[i] for i in range(12)] == [
        i not in aimed for i in range(12)]


def test_from_two_readers_sites_its_executions_are_the_portfolio_with_rcu():
    plan = resolve(spec(REUSE))
    params = {**plan.strategy_params, **LONG, "stall_in": "rcu"}
    cfg = plan.config()
    prog = program(cfg)
    with applied(cfg.mutant):
        for index in (2, 4, 5):
            ours = make_strategy("aimed-rcu", 2, **plan.strategy_params)
            long = make_strategy("portfolio", 2, **params)
            for strategy in (ours, long):
                strategy.new_execution(index)
            assert run_execution(prog, ours, index, record=0).schedule() == \
                run_execution(prog, long, index, record=0).schedule()


@pytest.mark.parametrize("mutant", [UNLOCK, DESTROY])
def test_below_two_readers_sites_its_executions_are_aimed_pcts_byte_for_byte(mutant):
    """vma-used-after-rcu-unlock: 1 reader site, 2 in all (every thread's
    sites); destroy-frees-at-once: 1 site (PCT's executions)."""
    plan, rcu = plan_traces(spec(mutant), 12)
    assert plan.strategy_params["stall_in"] == "any"
    pct_plan, pct = plan_traces(RunSpec(MUTANTS[mutant].scenario, strategy="aimed-pct",
                                        mutant=mutant, seed=2), 12)
    assert rcu == pct
    assert {**pct_plan.strategy_params, "stall_in": "any"} == plan.strategy_params


def test_its_calibration_counts_readers_sites_where_there_are_two_or_more():
    ours = resolve(spec(REUSE, seed=0)).strategy_params
    rcu = resolve(RunSpec("page_fault", strategy="portfolio", mutant=REUSE,
                          strategy_params={**LONG, "stall_in": "rcu"})).strategy_params
    pct = resolve(RunSpec("page_fault", strategy="aimed-pct",
                          mutant=REUSE)).strategy_params
    assert ours["stall_in"] == "rcu"
    assert ours["sites"] == rcu["sites"] == 4 < pct["sites"] == 11
    assert {k: v for k, v in ours.items() if k not in ("sites", "stall_in")} == {
        k: v for k, v in pct.items() if k != "sites"}


def test_it_takes_aimed_pcts_parameters_and_stall_in():
    assert_takes_aimed_sites_parameters("aimed-rcu", {
        "reads": "oldest", "fallback": "pct", "stall_in": "rcu-or-any"})
    assert STRATEGIES["aimed-rcu"].site_calibrated
    assert check_strategy("aimed-rcu", {"stall_in": "any"}) == {"stall_in": "any"}
    with pytest.raises(PlanError, match=r"pct-site stall_in must be one of any, rcu, "
                       r"rcu-or-any \(got 'readers'\)"):
        check_strategy("aimed-rcu", {"stall_in": "readers"})
    with pytest.raises(PlanError, match="strategy aimed-pct has no parameter "
                       "'stall_in'"):
        check_strategy("aimed-pct", {"stall_in": "rcu"})


def test_with_stall_in_any_it_runs_aimed_pcts_executions():
    _, ours = plan_traces(spec(REUSE, stall_in="any"), 6)
    _, pct = plan_traces(RunSpec("page_fault", strategy="aimed-pct", mutant=REUSE,
                                 seed=2), 6)
    assert ours == pct


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(spec(REUSE)), ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, spec(REUSE, seed=18, keep_going=True), 12)


def test_it_finds_the_vma_reuse_window_sooner_than_aimed_pct():
    """vma-reuse-skips-mm-check, seed 18: aimed-rcu's first finding is
    execution 2 (its pct-site turn), aimed-pct's execution 98
    (reports/BENCHMARKS.md, *aimed-rcu*)."""
    cfg = configure(MUTANTS[REUSE].scenario, mutant=REUSE)
    with applied(cfg.mutant):
        found = {name: explore(program(cfg), strategy=name, executions=3, seed=18,
                               max_steps=default_max_steps(cfg))
                 for name in ("aimed-rcu", "aimed-pct")}
    assert [f.execution for f in found["aimed-rcu"].findings] == [2]
    assert not found["aimed-pct"].findings
