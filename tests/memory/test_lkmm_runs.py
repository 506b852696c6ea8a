"""``--memory-model lkmm`` end to end: configuration, CLI and job key, the
reads-from choice in schedules and traces, replay, shrinking, the barrier
mutants (found under lkmm only) and the correct model (clean)."""

from __future__ import annotations

import json
import re

import pytest

from rcu_harness import explore, replay
from rcu_harness.campaign.jobs import JobError, parse_job
from rcu_harness.campaign.replay import from_trace, minimize
from rcu_harness.kernel import SimStruct, rcu_read_lock, rcu_read_unlock
from rcu_harness.memory.ordering import smp_rmb, smp_wmb
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, ScenarioError, applied, configure, program
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.schedule import READ, Schedule
from rcu_harness.trace.events import decode_all, events_digest
from rcu_harness.trace.tracefile import load_trace
from tests.cli.helpers import cli

pytestmark = pytest.mark.timeout(600)
BARRIER_MUTANTS = tuple(n for n, m in MUTANTS.items()
                        if m.params.get("memory_model") == "lkmm")


class Cell(SimStruct):
    fields = ("v",)


def mp_program(h, *, wmb=True, rmb=True):
    """Message passing with a check: the reader saw the flag, so the data."""
    data, flag = h.static(Cell, v=0), h.static(Cell, v=0)

    def writer():
        data.v = 1
        if wmb:
            smp_wmb()
        flag.v = 1

    def reader():
        rcu_read_lock()
        seen = flag.v
        if rmb:
            smp_rmb()
        assert not (seen and data.v == 0), "saw the flag but not the data"
        rcu_read_unlock()

    h.spawn("writer", writer)
    h.spawn("reader", reader)


def test_the_memory_model_is_a_parameter_stored_only_when_not_sc():
    assert "memory_model" not in configure("dup_mmap").values
    assert "memory_model" not in configure("dup_mmap", {"memory_model": "sc"}).values
    cfg = configure("dup_mmap", {"memory_model": "lkmm"})
    assert cfg.memory_model == "lkmm"
    assert cfg.values["memory_model"] == "lkmm"
    with pytest.raises(ScenarioError, match="unknown memory model 'tso'"):
        configure("dup_mmap", {"memory_model": "tso"})


def test_the_job_key_for_a_run_or_the_whole_job():
    job = parse_job({"memory_model": "lkmm", "run": [
        {"scenario": "dup_mmap"},
        {"scenario": "mmput_race", "memory_model": "sc"}]}, "j.toml")
    assert [r.params.get("memory_model") for r in job.runs] == ["lkmm", "sc"]
    with pytest.raises(JobError, match="memory_model must be sc or lkmm"):
        parse_job({"run": [{"scenario": "dup_mmap", "memory_model": "arm"}]}, "j")


def test_explore_finds_message_passing_bugs_only_under_lkmm():
    assert explore(mp_program, strategy="dfs", executions=10_000,
                   preemption_bound=100).ok
    weak = explore(mp_program, strategy="dfs", executions=10_000,
                   preemption_bound=100, memory_model="lkmm")
    assert weak.ok
    assert weak.exhausted

    def no_wmb(h):
        mp_program(h, wmb=False)

    found = explore(no_wmb, strategy="dfs", executions=10_000, preemption_bound=100,
                    memory_model="lkmm")
    assert not found.ok
    f = found.findings[0]
    assert "saw the flag but not the data" in f.message
    assert "(stale: store at step" in f.report
    assert Schedule.decode(f.schedule).stale_reads == 1


def test_a_read_choice_is_a_decision_that_replays():
    def no_rmb(h):
        mp_program(h, rmb=False)

    found = explore(no_rmb, strategy="random", executions=2000, seed=3,
                    memory_model="lkmm")
    f = found.findings[0]
    schedule = Schedule.decode(f.schedule)
    assert any(s < READ for s in schedule.steps)
    assert f.schedule.startswith("UkgC")  # format version 2: it has reads
    again = replay(f.schedule, program=no_rmb, memory_model="lkmm")
    assert again.finding is not None
    assert again.finding.signature == f.signature
    loads = [e for e in again.events if e.kind.name == "LOAD"]
    assert all(e.reads for e in loads)
    assert any(e.stale for e in loads)


def test_stress_replay_and_minimize_under_lkmm(capsys, tmp_path):
    # mix: dead-node-no-rmb is the mutant aimed, the default before aimed-surw,
    # finds slowest (median 203 executions against mix's 98, docs/search.md)
    code, out, _ = cli(capsys, "stress", "--mutant", "dead-node-no-rmb", "--seed", "1",
                       "--strategy", "mix", "--executions", "60", "--out",
                       tmp_path / "runs", "--json", "--quiet", "--no-report")
    assert code == 1
    finding = json.loads(out)["findings"][0]
    trace = load_trace(finding["trace"], check_fingerprint=False)
    assert trace.parameters["memory_model"] == "lkmm"
    assert any(e.stale for e in trace.events)
    assert all(e.reads for e in trace.events if e.kind == "load")
    code, out, _ = cli(capsys, "replay", finding["trace"])
    assert code == 1
    assert "The event stream matches the trace's" in out
    assert re.search(r"<< ld \S+ = \S+ \(stale: store at step \d+ not yet visible\)",
                     out) or "Stale loads (weak memory" in out
    target = from_trace(finding["trace"])
    result = minimize(target, max_runs=60)
    assert result.stale_after <= result.stale_before
    assert result.preemptions_after <= result.preemptions_before


def test_the_memory_model_option_and_replay_commands(capsys, tmp_path):
    code, out, _ = cli(capsys, "stress", "--scenario", "mmput_race",
                       "--memory-model", "lkmm", "--executions", "3",
                       "--out", tmp_path, "--json", "--quiet", "--no-report")
    assert code == 0
    assert json.loads(out)["plan"]["params"]["memory_model"] == "lkmm"
    code, _, err = cli(capsys, "stress", "--scenario", "mmput_race",
                       "--memory-model", "tso", "--out", tmp_path)
    assert code == 2
    assert "invalid choice: 'tso'" in err


@pytest.mark.parametrize("mutant", BARRIER_MUTANTS)
def test_barrier_mutants_are_found_under_lkmm_and_not_under_sc(mutant):
    found = explore_scenario(configure(MUTANTS[mutant].scenario, None, mutant),
                             executions=300, seed=1)
    assert found.findings, mutant
    cfg = configure(MUTANTS[mutant].scenario, {"memory_model": "sc"}, mutant)
    missed = explore_scenario(cfg, executions=100, seed=1)
    assert missed.ok, missed.findings[0].message


def _digests(cfg, mutant, n):
    setup = program(cfg)
    strategy = make_strategy("random", 3)
    out = []
    with applied(mutant):
        for i in range(n):
            strategy.new_execution(i)
            ex = run_execution(setup, strategy, i, record=1)  # no function names
            out.append((events_digest(decode_all(ex.events)), ex.violation is None))
    return out


@pytest.mark.parametrize("mutant", BARRIER_MUTANTS)
def test_under_sc_a_barrier_mutant_is_the_correct_program_event_for_event(mutant):
    """Why sc cannot find them at any budget: with the barriers no-ops, each
    execution of the mutant is the correct model's, every event (and so every
    finding) the same; the correct model's clean runs cover the mutant."""
    scenario = MUTANTS[mutant].scenario
    params = {**MUTANTS[mutant].params, "memory_model": "sc"}
    mutated = _digests(configure(scenario, params, mutant), mutant, 4)
    params.pop("memory_model")
    correct = _digests(configure(scenario, params), None, 4)
    assert mutated == correct
    assert all(ok for _, ok in correct)


@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_the_correct_model_is_clean_under_lkmm(scenario):
    result = explore_scenario(configure(scenario, {"memory_model": "lkmm"}),
                              executions=40, seed=7)
    assert result.ok, result.findings[0].report


def test_lkmm_reads_stale_values_in_the_scenarios():
    cfg = configure("rcu_transitions", {"memory_model": "lkmm"})
    setup = program(cfg)
    strategy = make_strategy("random", 5)
    stale = 0
    with applied(None):
        for i in range(10):
            strategy.new_execution(i)
            ex = run_execution(setup, strategy, i, record=0)
            stale += sum(1 for d in ex.decisions if d < READ)
    assert stale > 0
