"""``rcu-harness stress``: runs, run directories, findings, summaries, jobs."""

import json
import os
import signal

import pytest

from rcu_harness.invocation import prefix
from rcu_harness.trace.tracefile import load_trace
from tests.cli.helpers import cli, command_args, stress_json

UAF = ("--scenario", "rcu_transitions", "--mutant", "free-without-grace-period",
       "--strategy", "random")


def test_a_clean_run_exits_0_and_writes_its_run_directory(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--scenario", "mmput_race",
                            "--set", "vmas=4", "--executions", "20")
    assert code == 0
    assert (out["executions"], out["findings"], out["stopped"]) == (20, [],
                                                                    "executions")
    assert out["steps"] > 0
    assert out["wall_seconds"] > 0
    assert "rcu_grace_periods" in out["counters"]
    run_dir = tmp_path / "runs" / out["run_dir"].rsplit("/", 1)[-1]
    assert (run_dir / "run.sqlite").is_file()
    assert (run_dir / "findings").is_dir()
    assert list((run_dir / "samples").glob("*.npz"))


def test_findings_exit_1_each_with_its_trace_file_and_replay_command(capsys,
                                                                     tmp_path):
    code, out = stress_json(capsys, tmp_path, *UAF, "--executions", "30",
                            "--keep-going")
    assert code == 1
    assert len(out["findings"]) >= 3
    assert sum(f["count"] for f in out["findings"]) <= 30
    for f in out["findings"]:
        trace = load_trace(f["trace"], check_fingerprint=False)
        assert trace.finding.signature == f["signature"]
        assert trace.execution == f["first_execution"]
        assert f["replay"].startswith(f"{prefix()} replay --scenario")
    first = out["findings"][0]
    code, text, _ = cli(capsys, *command_args(first["replay"]))
    assert code == 1
    assert f"Execution {first['first_execution']}," in text


def test_without_keep_going_the_run_stops_at_its_first_violation(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, *UAF, "--executions", "30")
    assert code == 1
    (finding,) = out["findings"]
    assert out["executions"] == finding["first_execution"] + 1
    assert (finding["count"], out["stopped"]) == (1, "finding")


def test_the_text_summary_shows_each_finding_with_its_replay_commands(capsys,
                                                                      tmp_path):
    code, out, err = cli(capsys, "stress", *UAF, "--executions", "30", "--out",
                         tmp_path, "--no-report")
    assert code == 1
    assert out.startswith(f"run {tmp_path}/")
    assert "use-after-free" in out
    assert f"replay: {prefix()} replay --scenario rcu_transitions" in out
    assert f"{prefix()} replay {tmp_path}/" in out
    assert "Traceback" not in err


def test_a_job_of_several_runs_prints_one_object_with_the_runs_inside(capsys,
                                                                      tmp_path):
    job = tmp_path / "two.toml"
    job.write_text('name = "two"\n'
                   '[[run]]\nscenario = "mmput_race"\nparams = { vmas = 4 }\n'
                   '[[run]]\nscenario = "dup_mmap"\nmutant = "entry-count-short"\n')
    code, out = stress_json(capsys, tmp_path, job, "--executions", "5")
    assert code == 1
    assert out["job"] == "two"
    assert out["run_dir"] is None
    assert [r["label"] for r in out["runs"]] == [
        "mmput_race/aimed-data", "dup_mmap+entry-count-short/aimed-data"]
    assert out["executions"] == sum(r["executions"] for r in out["runs"])
    assert out["steps"] == sum(r["steps"] for r in out["runs"])
    assert out["findings"][0]["run_dir"] == out["runs"][1]["run_dir"]
    assert len({r["run_dir"] for r in out["runs"]}) == 2


def test_the_json_shape_of_a_job_does_not_depend_on_how_it_ended(capsys, tmp_path,
                                                                  monkeypatch):
    from rcu_harness.campaign import session

    job = tmp_path / "two.toml"
    job.write_text('name = "two"\n'
                   '[[run]]\nscenario = "mmput_race"\nparams = { vmas = 2 }\n'
                   '[[run]]\nscenario = "mmput_race"\nparams = { vmas = 3 }\n')
    real = session.start_run

    def interrupted_after_the_first_run(*args, **kw):
        result = real(*args, **kw)
        os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(session, "start_run", interrupted_after_the_first_run)
    code, out = stress_json(capsys, tmp_path, job, "--executions", "3")
    assert code == 0
    assert (out["job"], out["runs_planned"], out["runs_not_started"]) == ("two", 2, 1)
    assert [r["label"] for r in out["runs"]] == ["mmput_race/aimed-data"]
    assert out["executions"] == 3


def test_with_no_arguments_the_default_job_runs(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--executions", "2")
    assert code == 0
    assert sorted(r["plan"]["scenario"] for r in out["runs"]) == [
        "dup_mmap", "mmput_race", "page_fault", "rcu_transitions", "stack_expand"]
    assert {r["plan"]["scenario"]: r["plan"]["params"]["design"]
            for r in out["runs"]} == {"dup_mmap": "2021", "mmput_race": "2021",
                                      "rcu_transitions": "2021",
                                      "stack_expand": "2023", "page_fault": "modern"}


def test_a_mutant_alone_runs_against_its_own_scenario(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--mutant", "gp-ignores-readers",
                            "--executions", "40")
    assert code == 1
    assert (out["plan"]["scenario"], out["plan"]["mutant"]) == (
        "rcu_transitions", "gp-ignores-readers")


@pytest.mark.slow
def test_the_cli_and_the_python_api_run_the_same_executions(capsys, tmp_path):
    # one calibration (steps, sync_steps) for every entry point: the same
    # seed, the same runs
    from rcu_harness.scenarios import explore_scenario

    _, out = stress_json(capsys, tmp_path, "--mutant", "vma-used-after-rcu-unlock",
                         "--seed", "1", "--executions", "300")
    api = explore_scenario("rcu_transitions", mutant="vma-used-after-rcu-unlock",
                           executions=300, seed=1)
    assert out["findings"][0]["first_execution"] == api.findings[0].execution
    assert out["findings"][0]["signature"] == api.findings[0].signature


def test_every_run_gets_a_new_directory(capsys, tmp_path):
    dirs = {stress_json(capsys, tmp_path, "--scenario", "mmput_race", "--set",
                        "vmas=2", "--executions", "1")[1]["run_dir"]
            for _ in range(3)}
    assert len(dirs) == 3


def test_pct_runs_store_the_step_estimate_their_replay_commands_use(capsys,
                                                                    tmp_path):
    _, out = stress_json(capsys, tmp_path, "--scenario", "rcu_transitions",
                         "--mutant", "gp-ignores-readers", "--executions", "40")
    steps = out["plan"]["strategy_params"]["steps"]
    assert f"--strategy-param steps={steps}" in out["findings"][0]["replay"]


def test_dfs_with_several_jobs_runs_in_one_worker_and_says_so(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--scenario", "mmput_race", "--set",
                            "vmas=3", "--strategy", "dfs", "--executions", "10",
                            "--jobs", "2")
    assert code == 0
    assert "uses one worker" in out["notes"][0]


def test_the_report_is_written_unless_told_not_to(capsys, tmp_path, monkeypatch):
    report = pytest.importorskip("rcu_harness.report")
    written = []
    monkeypatch.setattr(report, "write_report", written.append)
    code, out, _ = cli(capsys, "stress", "--scenario", "mmput_race", "--set",
                       "vmas=2", "--executions", "1", "--out", tmp_path, "--json")
    assert code == 0
    assert [str(p) for p in written] == [json.loads(out)["run_dir"]]


def test_a_run_that_lifts_a_kernel_guarantee_says_its_findings_are_not_kernel_bugs(
        capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--scenario", "dup_mmap", "--set",
                            "child_visible_early=true", "--executions", "1")
    assert code == 1  # the child's readers meet a tree dup_mmap() still fills
    assert out["notes"] == [
        "child_visible_early=true lifts a kernel guarantee (copy_process() "
        "exposes the child only after dup_mmap(), which relies on it): its "
        "findings are not kernel bugs"]
    code, out = stress_json(capsys, tmp_path, "--scenario", "dup_mmap",
                            "--executions", "1")
    assert (code, out["notes"]) == (0, [])
