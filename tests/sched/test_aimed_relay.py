"""``aimed-relay``, the default before aimed-stale: the portfolio pct,
random-sync, pct-site, surw, pct-site, pct-relay with points=field and
sync_points=access under one name, schedule for schedule; its parameters,
its calibration (steps, sites and surw's profile), determinism (traces,
replay, blocks, resume)."""

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import resolve
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
