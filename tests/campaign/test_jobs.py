"""Job files and overrides: parsing, checking, and the files shipped in stress/."""

import pytest

from rcu_harness.campaign.jobs import (
    DEFAULT_JOB,
    JOBS_DIR,
    JobError,
    Overrides,
    RunSpec,
    adhoc_job,
    find_job,
    load_job,
    override,
    parse_assignments,
)
from rcu_harness.campaign.plan import resolve
from rcu_harness.scenarios.mutants import MUTANTS

GOOD = """
name = "mine"
description = "two runs"
keep_going = true

[[run]]
scenario = "mmput_race"
seed = 3
executions = 50
time = 0
params = { vmas = 4 }

[[run]]
scenario = "dup_mmap"
strategy = "random"
mutant = "entry-count-short"
keep_going = false
strategy_params = {}
"""


def _job(tmp_path, text):
    path = tmp_path / "job.toml"
    path.write_text(text)
    return load_job(path)


def test_a_job_file_gives_its_runs_with_defaults_filled_in(tmp_path):
    job = _job(tmp_path, GOOD)
    assert (job.name, job.description) == ("mine", "two runs")
    first, second = job.runs
    assert first == RunSpec("mmput_race", seed=3, executions=50, time=0,
                            keep_going=True, params={"vmas": 4})
    assert (second.strategy, second.mutant, second.keep_going) == (
        "random", "entry-count-short", False)


def test_command_line_overrides_apply_to_every_run(tmp_path):
    job = override(_job(tmp_path, GOOD), Overrides(
        strategy="dfs", seed=9, executions=7, params={"vmas": "5"},
        strategy_params={"preemption_bound": "1"}))
    assert {(r.strategy, r.seed, r.executions) for r in job.runs} == {("dfs", 9, 7)}
    assert [dict(r.params) for r in job.runs] == [{"vmas": "5"}, {"vmas": "5"}]
    assert job.runs[0].time == 0, "what the command line does not give is kept"


@pytest.mark.parametrize(("text", "message"), [
    ("name = 'x'", "no runs"),
    ("[[run]]\nstrategy = 'pct'", "missing 'scenario'"),
    ("[[run]]\nscenario = 'a'\nbogus = 1", "unknown key 'bogus'"),
    ("colour = 1\n[[run]]\nscenario = 'a'", "unknown key 'colour'"),
    ("[[run]]\nscenario = 'a'\nseed = -1", "seed must be an integer >= 0"),
    ("[[run]]\nscenario = 'a'\nexecutions = 0", "executions must be an integer >= 1"),
    ("[[run]]\nscenario = 'a'\ntime = 'long'", "time must be an integer"),
    ("[[run]]\nscenario = 'a'\nseed = true", "seed must be an integer"),
    ("[[run]]\nscenario = 'a'\nparams = 3", "params must be a table"),
    ("[[run]]\nscenario = 'a'\nparams = { x = [1] }", "params.x must be"),
    ("[[run]]\nscenario = 'a'\nkeep_going = 'yes'", "keep_going must be true"),
    ("[[run]\nscenario = 'a'", "not valid TOML"),
])
def test_a_malformed_job_file_is_one_line_naming_the_problem(tmp_path, text, message):
    with pytest.raises(JobError, match=message) as info:
        _job(tmp_path, text)
    assert "\n" not in str(info.value)


def test_a_missing_job_file_says_where_examples_are(tmp_path):
    with pytest.raises(JobError, match=r"not found.*examples in"):
        load_job(tmp_path / "nope.toml")


def test_bare_job_names_are_looked_up_in_stress():
    assert find_job("scoreboard") == JOBS_DIR / "scoreboard.toml"
    assert find_job("x/y.toml").as_posix() == "x/y.toml"


def test_assignments_need_an_equals_sign():
    assert parse_assignments(["a=1", " b = x "], "--set") == {"a": "1", "b": "x"}
    with pytest.raises(JobError, match="--set takes KEY=VALUE"):
        parse_assignments(["a"], "--set")


def test_an_adhoc_job_is_one_run_of_the_scenario():
    assert adhoc_job("mmput_race").runs == (RunSpec("mmput_race"),)


def test_the_default_job_covers_every_reader_kind_the_2023_writers_and_page_faults():
    job = load_job(DEFAULT_JOB)
    assert sorted(r.scenario for r in job.runs) == [
        "dup_mmap", "mmput_race", "page_fault", "rcu_transitions", "stack_expand"]
    assert all(r.mutant is None for r in job.runs)
    params = {r.scenario: dict(r.params) for r in job.runs}
    assert params["rcu_transitions"] == {"read_kind": "all", "op_set": "mprotect"}
    assert params["stack_expand"] == {}  # the 2023 design, x86_64 layout
    assert params["page_fault"] == {}  # 6.12 per-VMA locks
    assert sum(r.time for r in job.runs) <= 50  # plus a report per run


def test_the_page_fault_job_covers_both_per_vma_lock_designs():
    job = load_job(find_job("page_fault"))
    assert {r.scenario for r in job.runs} == {"page_fault"}
    assert {r.params["design"] for r in job.runs} == {"modern", "vma_refcnt"}
    assert {r.strategy for r in job.runs} == {"mix", "pct", "random"}


@pytest.mark.parametrize("name", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_each_scenario_job_covers_both_designs(name):
    job = load_job(find_job(name))
    assert {r.scenario for r in job.runs} == {name}
    assert {r.params["design"] for r in job.runs} == {"2021", "modern"}


def test_the_scoreboard_runs_every_mutant_in_its_scenario_with_each_strategy():
    job = load_job(find_job("scoreboard"))
    runs = {(r.mutant, r.scenario, r.strategy) for r in job.runs}
    assert runs == {(m.name, m.scenario, s) for m in MUTANTS.values()
                    for s in ("mix", "random", "pct", "dfs")}
    assert not any(r.keep_going for r in job.runs)


def test_every_shipped_job_file_plans_cleanly():
    for path in sorted(JOBS_DIR.glob("*.toml")):
        for spec in load_job(path).runs:
            plan = resolve(spec)
            assert plan.scenario == spec.scenario, path
