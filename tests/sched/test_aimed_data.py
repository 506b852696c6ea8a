"""``aimed-data``: aimed-conflict whose pct-site and pct-relay turns aim the
program's own draws at the values calibration saw lead to objects other
threads store to; the values are recorded in the schedule and replay by
trace file, by seed, across blocks and on resume; its other turns, and
every turn where calibration scored nothing, are aimed-conflict's; and it
is the default of jobs, the CLI and the Python API."""

import inspect

import pytest

from rcu_harness import explore, replay
from rcu_harness.campaign.jobs import DEFAULT_STRATEGY, RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.runner.shrink import shrink
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.sched.aimed_class import CLASSES
from rcu_harness.sched.data_aim import SHARE, DataAim, parse_data
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from rcu_harness.sched.schedule import RANDOM, Schedule
from rcu_harness.testing import check
from rcu_harness.trace.tracefile import trace_for, write_trace
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
    plan_traces,
)

RECHECK = "fault-skips-vma-recheck"
REUSE = "vma-reuse-skips-mm-check"
DESTROY = "destroy-frees-at-once"
OTHER = CLASSES["other"].split(",")
AIMING = {"pct-site", "pct-relay"}


def spec(mutant, seed=2, keep_going=False, strategy="aimed-data", **given):
    return RunSpec(MUTANTS[mutant].scenario, strategy=strategy, mutant=mutant,
                   seed=seed, keep_going=keep_going, strategy_params=given)


def test_calibration_scores_the_fault_addresses_that_meet_a_split():
    params = resolve(spec(RECHECK, seed=0)).strategy_params
    table = parse_data(params["data"])
    assert list(table) == [72]
    weights = dict(table[72])
    # the addresses in the VMAs the owner's first mprotect() splits in place
    assert {18, 19, 20, 51} <= set(weights)
    assert max(weights, key=weights.__getitem__) == 51
    assert len(weights) < 72 // 4


def test_its_calibration_is_aimed_conflicts_with_data_resolved():
    for mutant in (RECHECK, REUSE, DESTROY):
        ours = dict(resolve(spec(mutant)).strategy_params)
        theirs = resolve(spec(mutant, strategy="aimed-conflict")).strategy_params
        assert "data" in ours
        del ours["data"]
        assert ours == theirs, mutant


def test_without_readers_sites_data_resolves_none_and_runs_aimed_conflicts():
    plan = resolve(spec(DESTROY))
    assert plan.strategy_params["data"] == "none"
    _, ours = plan_traces(spec(DESTROY), 6)
    _, theirs = plan_traces(spec(DESTROY, strategy="aimed-conflict"), 6)
    assert ours == theirs


def test_only_its_pct_site_and_pct_relay_turns_choose_and_record_values():
    plan = resolve(spec(RECHECK, seed=0))
    cfg = plan.config()
    prog = program(cfg)
    aimed = 0
    with applied(cfg.mutant):
        for index in range(2 * len(OTHER)):
            ours = make_strategy("aimed-data", 0, **plan.strategy_params)
            theirs = make_strategy("aimed-conflict", 0, **{
                k: v for k, v in plan.strategy_params.items() if k != "data"})
            for strategy in (ours, theirs):
                strategy.new_execution(index)
            mine = run_execution(prog, ours, index, record=0).schedule()
            other = run_execution(prog, theirs, index, record=0).schedule()
            assert other.values == ()
            if OTHER[index % len(OTHER)] in AIMING:
                draws = sum(1 for s in mine.steps if s == RANDOM)
                assert len(mine.values) == draws
                assert all(0 <= v < 72 for v in mine.values)
                aimed += bool(draws)
            else:
                assert mine == other, index
    assert aimed >= 3  # readers that got the mm drew, and the values are kept


def test_aimed_draws_fall_on_the_scored_values_three_times_in_four():
    aim = DataAim("10:3x1,10:7x3")
    drawn = [aim.value(10, (hi << 32) | lo) for hi in range(SHARE * 50)
             for lo in (0, 1, 2, 3, 5)]
    aimed = sum(v in (3, 7) for v in drawn)
    assert aimed >= len(drawn) * (SHARE - 1) // SHARE
    assert {v for v in drawn if v not in (3, 7)}  # a uniform share stays
    assert drawn.count(7) > drawn.count(3)
    assert aim.value(5, 123) == 123 % 5  # a range not scored: uniform


@pytest.mark.parametrize("text", ["none", "", "auto"])
def test_none_empty_and_unresolved_data_aim_nothing(text):
    assert parse_data(text) == {}
    assert not DataAim(text)
    assert make_strategy("pct-site", 0, data=text).next_value is None


@pytest.mark.parametrize(("text", "message"), [
    ("72:51", "not N:VxW"), ("72:80x1", "0 <= V < N"), ("72:5x0", "W >= 1"),
    ("72:5x1,72:5x3", "value 5 of range 72 is given twice")])
def test_malformed_data_is_refused_in_one_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_data(text)
    with pytest.raises(PlanError, match=message):
        check_strategy("aimed-data", {"data": text})


def test_it_takes_aimed_conflicts_parameters_with_data_auto():
    options = STRATEGIES["aimed-data"].options()
    assert options == {**STRATEGIES["aimed-conflict"].options(), "data": "auto"}
    assert STRATEGIES["aimed-conflict"].options()["data"] == ""


def test_a_finding_replays_from_its_trace_file_with_its_chosen_values(tmp_path):
    plan = resolve(spec(RECHECK, seed=0))
    cfg = plan.config()
    with applied(cfg.mutant):
        run = explore(program(cfg), strategy="aimed-data", seed=0, executions=60,
                      max_steps=plan.max_steps, **plan.strategy_params)
        finding = run.findings[0]
        text = finding.schedule
        assert Schedule.decode(text).values
        path = tmp_path / "finding.json"
        write_trace(path, trace_for(finding, scenario=cfg.scenario,
                                    harness_version="0", seed=0))
        again = replay(path, program=program(cfg))
    assert again.finding is not None
    assert again.finding.signature == finding.signature
    assert again.schedule.encode() == text


def test_shrinking_a_finding_keeps_its_chosen_values():
    plan = resolve(spec(RECHECK, seed=0))
    cfg = plan.config()
    prog = program(cfg)
    with applied(cfg.mutant):
        finding = explore(prog, strategy="aimed-data", seed=0, executions=60,
                          max_steps=plan.max_steps,
                          **plan.strategy_params).findings[0]

        def run(strategy):
            return run_execution(prog, strategy, 0, max_steps=plan.max_steps,
                                 record=0)

        shrunk = shrink(run, Schedule.decode(finding.schedule), max_runs=40)
        assert shrunk.schedule.values
        assert replay(shrunk.schedule, program=prog,
                      max_steps=plan.max_steps).finding.signature == finding.signature


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(spec(RECHECK, keep_going=True)),
                                ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, spec(RECHECK, seed=0, keep_going=True), 12)


def test_aimed_data_is_the_default_of_jobs_and_of_the_python_api():
    assert DEFAULT_STRATEGY == "aimed-data"
    assert RunSpec("dup_mmap").strategy == "aimed-data"
    for function in (explore, explore_scenario, check):
        default = inspect.signature(function).parameters["strategy"].default
        assert default == DEFAULT_STRATEGY, function.__name__


def test_explore_without_a_strategy_runs_aimed_data_executions():
    cfg = configure("rcu_transitions", mutant=RECHECK)
    with applied(cfg.mutant):
        default = explore(program(cfg), executions=12, stop_on_first=False)
        named = explore(program(cfg), strategy="aimed-data", executions=12,
                        stop_on_first=False)
        conflict = explore(program(cfg), strategy="aimed-conflict", executions=12,
                           stop_on_first=False)
    assert default.strategy == "aimed-data"
    assert (default.steps, default.counts) == (named.steps, named.counts)
    assert default.steps != conflict.steps
