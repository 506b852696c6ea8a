"""``aimed-stale``, the default before aimed-pct: aimed-relay's turns with
reads=oldest under one name, schedule for schedule; under sc every
execution is aimed-relay's; its parameters, its calibration (aimed-relay's),
determinism (traces, replay, blocks, resume)."""

import pytest

from rcu_harness import explore
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.scenarios.catalog import default_max_steps
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_calibrates_field_sites_and_surws_profile,
    assert_members_take_turns,
    assert_resume_matches_whole,
    assert_runs_as_its_long_spelling,
    assert_takes_aimed_sites_parameters,
    plan_traces,
)

LONG = {"members": "pct,random-sync,pct-site,surw,pct-site,pct-relay",
        "points": "field", "sync_points": "access", "reads": "oldest"}
"""The portfolio spelling of ``aimed-stale``."""
RELAXED = "vma-start-read-refcount-relaxed"
SPEC = RunSpec("page_fault", strategy="aimed-stale", mutant=RELAXED, keep_going=True)


@pytest.mark.parametrize("seed", [0, 3])
def test_it_runs_the_long_portfolio_spellings_executions_byte_for_byte(seed):
    assert_runs_as_its_long_spelling("aimed-stale", LONG, seed, 10,
                                     {"steps", "sites", "profile"})


def test_under_sc_its_executions_are_aimed_relays_byte_for_byte():
    spec = {"seed": 2, "mutant": "vma-freed-without-rcu"}
    _, stale = plan_traces(RunSpec("page_fault", strategy="aimed-stale", **spec), 12)
    _, relay = plan_traces(RunSpec("page_fault", strategy="aimed-relay", **spec), 12)
    assert stale == relay


def test_under_lkmm_its_aimed_turns_read_older_stores_than_aimed_relays():
    spec = {"seed": 0, "mutant": RELAXED}
    assert MUTANTS[RELAXED].params["memory_model"] == "lkmm"
    _, stale = plan_traces(RunSpec("page_fault", strategy="aimed-stale", **spec), 6)
    _, relay = plan_traces(RunSpec("page_fault", strategy="aimed-relay", **spec), 6)
    same = [a == b for a, b in zip(stale, relay, strict=True)]
    assert same[0]  # pct's turn: uniform reads
    assert same[3]  # surw's
    assert not any(same[i] for i in (1, 2, 4, 5))  # random-sync, pct-site, pct-relay


def test_its_calibration_is_aimed_relays():
    field = assert_calibrates_field_sites_and_surws_profile("aimed-stale")
    aimed_relay = resolve(RunSpec("page_fault", strategy="aimed-relay"))
    assert field == aimed_relay.strategy_params


def test_it_takes_the_portfolios_per_member_parameters_and_reads():
    assert_takes_aimed_sites_parameters("aimed-stale", {"reads": "oldest"})
    assert check_strategy("aimed-stale", {"reads": "uniform"}) == {"reads": "uniform"}
    with pytest.raises(PlanError, match="random-sync reads must be one of uniform, "
                       "oldest"):
        check_strategy("aimed-stale", {"reads": "newest"})


def test_execution_i_is_member_i_mod_6s_execution_i():
    profile = resolve(RunSpec("page_fault", strategy="surw",
                              mutant=RELAXED)).strategy_params["profile"]
    site = {"sites": 11, "points": "field", "reads": "oldest"}
    assert_members_take_turns(
        "aimed-stale", {"steps": 300, "sites": 11, "profile": profile},
        (("pct", {"steps": 300}), ("random-sync", {"reads": "oldest"}),
         ("pct-site", site), ("surw", {"profile": profile}), ("pct-site", site),
         ("pct-relay", site)), 12, mutant=RELAXED)


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(SPEC), ((0, 7), (7, 15)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40, finds=False)


def test_it_finds_the_relaxed_refcount_window_sooner_than_aimed_relay():
    """vma-start-read-refcount-relaxed, seed 7: aimed-relay's first finding
    is execution 315, aimed-stale's execution 3 (reports/BENCHMARKS.md,
    *Stale reads for the aimed members*)."""
    cfg = configure(MUTANTS[RELAXED].scenario, mutant=RELAXED)
    with applied(cfg.mutant):
        result = explore(program(cfg), executions=3, seed=7,
                         max_steps=default_max_steps(cfg))
    assert [f.kind for f in result.findings] == ["vma-lock"]
