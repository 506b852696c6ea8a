"""``aimed-relay``, the default strategy: the portfolio pct, random-sync,
pct-site, surw, pct-site, pct-relay with points=field and sync_points=access
under one name, schedule for schedule; its parameters, its calibration
(steps, sites and surw's profile), determinism (traces, replay, blocks,
resume), and that it is the default of jobs, the CLI and the Python API."""

import inspect

import pytest

from rcu_harness import explore
from rcu_harness.campaign.jobs import DEFAULT_STRATEGY, RunSpec
from rcu_harness.campaign.plan import resolve
from rcu_harness.scenarios import applied, configure, program
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.testing import check
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_calibrates_field_sites_and_surws_profile,
    assert_maple_traces_replay,
    assert_members_take_turns,
    assert_resume_matches_whole,
    assert_runs_as_its_long_spelling,
    assert_takes_aimed_sites_parameters,
)

LONG = {"members": "pct,random-sync,pct-site,surw,pct-site,pct-relay",
        "points": "field", "sync_points": "access"}
"""The portfolio spelling of ``aimed-relay``."""
SPEC = RunSpec("page_fault", strategy="aimed-relay", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})


@pytest.mark.parametrize("seed", [0, 3])
def test_it_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed-relay", LONG, seed, 10,
                                     {"steps", "sites", "profile"})


def test_its_calibration_counts_field_sites_and_measures_surws_profile():
    field = assert_calibrates_field_sites_and_surws_profile("aimed-relay")
    aimed_site = resolve(RunSpec("page_fault", strategy="aimed-site"))
    assert field == aimed_site.strategy_params


def test_it_takes_the_portfolios_per_member_parameters_but_not_members():
    assert_takes_aimed_sites_parameters("aimed-relay")


def test_execution_i_is_member_i_mod_6s_execution_i():
    profile = resolve(RunSpec("page_fault", strategy="surw",
                              mutant="vma-freed-without-rcu")).strategy_params["profile"]
    site = {"sites": 11, "points": "field"}
    assert_members_take_turns(
        "aimed-relay", {"steps": 300, "sites": 11, "profile": profile},
        (("pct", {"steps": 300}), ("random-sync", {}), ("pct-site", site),
         ("surw", {"profile": profile}), ("pct-site", site),
         ("pct-relay", site)), 12)


def test_maple_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    assert_maple_traces_replay("aimed-relay", {"steps": 500, "sites": 12,
                                "profile": "1:200,2:150,3:150"},
                               (0, 1, 2, 3, 4, 5, 8))  # 5: pct-relay's turn


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(SPEC), ((0, 7), (7, 15)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40)


def test_aimed_relay_is_the_default_of_jobs_and_of_the_python_api():
    assert DEFAULT_STRATEGY == "aimed-relay"
    assert RunSpec("dup_mmap").strategy == "aimed-relay"
    for function in (explore, explore_scenario, check):
        default = inspect.signature(function).parameters["strategy"].default
        assert default == DEFAULT_STRATEGY, function.__name__


def test_explore_without_a_strategy_runs_aimed_relays_executions():
    cfg = configure("page_fault", mutant="vma-freed-without-rcu")
    with applied(cfg.mutant):
        default = explore(program(cfg), executions=15, stop_on_first=False)
        named = explore(program(cfg), strategy="aimed-relay", executions=15,
                        stop_on_first=False)
    assert default.strategy == "aimed-relay"
    assert (default.steps, default.counts) == (named.steps, named.counts)
