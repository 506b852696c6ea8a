"""``aimed-pct``, the default before aimed-rcu: aimed-stale's turns with
fallback=pct under one name, schedule for schedule; from 2 sites every
execution is aimed-stale's, below 2 sites its pct-site and pct-relay turns
are PCT's executions; its parameters, its calibration, determinism
(traces, replay, blocks, resume)."""

import pytest

from rcu_harness import explore
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.scenarios.catalog import default_max_steps
from rcu_harness.sched.registry import make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_calibrates_field_sites_and_surws_profile,
    assert_resume_matches_whole,
    assert_runs_as_its_long_spelling,
    assert_takes_aimed_sites_parameters,
    plan_traces,
)

LONG = {"members": "pct,random-sync,pct-site,surw,pct-site,pct-relay",
        "points": "field", "sync_points": "access", "reads": "oldest",
        "fallback": "pct"}
"""The portfolio spelling of ``aimed-pct``."""
DESTROY = "destroy-frees-at-once"
RELAXED = "vma-start-read-refcount-relaxed"
SPEC = RunSpec("tree_destroy", strategy="aimed-pct", mutant=DESTROY, keep_going=True)


@pytest.mark.parametrize("seed", [0, 3])
def test_it_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed-pct", LONG, seed, 10,
                                     {"steps", "sites", "profile"})


@pytest.mark.parametrize("mutant", ["vma-freed-without-rcu", RELAXED])
def test_from_two_sites_its_executions_are_aimed_stales_byte_for_byte(mutant):
    spec = {"seed": 2, "mutant": mutant}
    plan, pct = plan_traces(RunSpec("page_fault", strategy="aimed-pct", **spec), 12)
    _, stale = plan_traces(RunSpec("page_fault", strategy="aimed-stale", **spec), 12)
    assert plan.strategy_params["sites"] >= 2
    assert pct == stale


def test_below_two_sites_its_pct_site_and_pct_relay_turns_are_pcts_executions():
    plan = resolve(SPEC)
    params = dict(plan.strategy_params)
    assert params["sites"] < 2
    assert params["fallback_steps"] == params["steps"]
    cfg = plan.config()
    prog = program(cfg)
    members = (("pct", {"steps": params["steps"]}),
               ("random-sync", {"reads": "oldest"}),
               ("pct", {"steps": params["steps"]}),
               ("surw", {"profile": params["profile"]}),
               ("pct", {"steps": params["steps"]}),
               ("pct", {"steps": params["steps"]}))

    def schedule(name, index, given):
        strategy = make_strategy(name, plan.seed, **given)
        strategy.new_execution(index)
        return run_execution(prog, strategy, index, max_steps=plan.max_steps,
                             record=0).schedule()

    with applied(cfg.mutant, cfg.fixes):
        for index in range(12):
            member, given = members[index % 6]
            assert schedule("aimed-pct", index, params) == schedule(
                member, index, given), index
            if index % 6 in (2, 4, 5):
                assert schedule("aimed-pct", index, params) != schedule(
                    "aimed-stale", index, {**params, "fallback_steps": 0}), index


def test_its_calibration_is_aimed_stales_but_the_fallbacks_k():
    field = assert_calibrates_field_sites_and_surws_profile("aimed-pct")
    assert field == resolve(RunSpec("page_fault", strategy="aimed-stale")
                            ).strategy_params
    pct = resolve(SPEC).strategy_params
    stale = resolve(RunSpec("tree_destroy", strategy="aimed-stale",
                            mutant=DESTROY)).strategy_params
    assert pct["fallback_steps"] == pct["steps"] > stale["fallback_steps"]
    assert {k: v for k, v in pct.items() if k != "fallback_steps"} == {
        k: v for k, v in stale.items() if k != "fallback_steps"}


def test_it_takes_the_portfolios_per_member_parameters_reads_and_fallback():
    assert_takes_aimed_sites_parameters("aimed-pct",
                                        {"reads": "oldest", "fallback": "pct"})
    assert check_strategy("aimed-pct", {"fallback": "sync"}) == {"fallback": "sync"}
    with pytest.raises(PlanError, match="pct-site fallback must be one of sync, "
                       "pct"):
        check_strategy("aimed-pct", {"fallback": "stall"})


def test_with_fallback_sync_it_runs_aimed_stales_executions_below_two_sites():
    _, pct = plan_traces(RunSpec("tree_destroy", strategy="aimed-pct", mutant=DESTROY,
                                 strategy_params={"fallback": "sync"}), 6)
    _, stale = plan_traces(RunSpec("tree_destroy", strategy="aimed-stale",
                                   mutant=DESTROY), 6)
    assert pct == stale


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(SPEC), ((0, 7), (7, 15)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 24)


def test_it_finds_the_destroy_at_once_sooner_than_aimed_stale():
    """destroy-frees-at-once, seed 15: aimed-stale's first finding is
    execution 109, aimed-pct's execution 6 (reports/BENCHMARKS.md,
    *aimed-pct*)."""
    cfg = configure(MUTANTS[DESTROY].scenario, mutant=DESTROY)
    with applied(cfg.mutant):
        pct = explore(program(cfg), strategy="aimed-pct", executions=6, seed=15,
                      max_steps=default_max_steps(cfg))
        stale = explore(program(cfg), strategy="aimed-stale", executions=6,
                        seed=15, max_steps=default_max_steps(cfg))
    assert [f.kind for f in pct.findings] == ["use-after-free"]
    assert pct.findings[0].execution == 5
    assert not stale.findings

