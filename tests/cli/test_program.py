"""A user's own program (tests/programs/sessions.py) runs through the CLI like
a scenario: parameters with --set, the run store, reports, replay by seed,
--jobs and --resume."""

import json
import subprocess
import sys

import pytest

from rcu_harness.invocation import prefix
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import ROOT, cli, command_args, run, stress_json
from tests.cli.test_signals import _check_consistent, _wait_for_commits

PROGRAM = "tests.programs.sessions:program"


def test_a_program_runs_like_a_scenario_and_its_replay_command_works(capsys,
                                                                     tmp_path):
    # seed 2: the default finds the planted bug in 4 of these 100 executions
    # (seed 1: in 1 under aimed-relay, 2 under aimed-site)
    code, out = stress_json(capsys, tmp_path, "--program", PROGRAM, "--seed", "2",
                            "--executions", "100", "--keep-going")
    assert code == 1
    assert out["plan"]["scenario"] == PROGRAM
    assert out["plan"]["params"] == {"readers": 2, "reads": 3, "updates": 4,
                                     "planted_bug": True}
    (finding,) = out["findings"]
    assert finding["kind"] == "use-after-free"
    assert finding["count"] > 1
    command = finding["replay"]
    assert command.startswith(f"{prefix()} replay --program {PROGRAM} ")
    again = run(*command_args(command))
    assert again.returncode == 1, again.stderr
    assert f"{finding['kind']}" in again.stdout
    assert "BUG: KASAN: slab-use-after-free in reader" in again.stdout
    by_trace = run("replay", finding["trace"])
    assert by_trace.returncode == 1, by_trace.stderr
    assert "The event stream matches the trace's" in by_trace.stdout


def test_program_parameters_come_from_set(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, "--program", PROGRAM, "--set",
                            "planted_bug=false", "--set", "readers=1",
                            "--executions", "40", "--seed", "1")
    assert code == 0
    assert out["findings"] == []
    assert out["plan"]["params"]["readers"] == 1


def test_a_program_run_gets_its_report(capsys, tmp_path):
    # seed 0: the default finds the planted bug at execution 3 (seed 1: at 70)
    code, _out, _err = cli(capsys, "stress", "--program", PROGRAM, "--seed", "0",
                           "--executions", "20", "--out", tmp_path, "--quiet")
    assert code == 1
    (run_dir,) = tmp_path.iterdir()
    assert ":" not in run_dir.name
    assert (run_dir / "report.html").is_file()
    code, out, _err = cli(capsys, "report", run_dir)
    assert code == 0
    assert PROGRAM in out


@pytest.mark.parametrize(("argv", "message"), [
    (("--program", "tests.programs.sessions"), "--program takes MODULE:FUNCTION"),
    (("--program", "tests.programs.nothing:program"), "cannot import"),
    (("--program", "tests.programs.sessions:nothing"), "has no function nothing"),
    (("--program", PROGRAM, "--set", "colour=red"), "has no parameter 'colour'"),
    (("--program", PROGRAM, "--set", "readers=many"), "readers must be an integer"),
    (("--program", PROGRAM, "--scenario", "dup_mmap"), "not both"),
    (("--program", PROGRAM, "--mutant", "gp-ignores-readers"), "does not apply"),
])
def test_a_bad_program_is_a_one_line_error(capsys, tmp_path, argv, message):
    code, _out, err = cli(capsys, "stress", *argv, "--executions", "5", "--out",
                          tmp_path, "--quiet")
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def _findings(run_dir):
    store = RunStore.open(run_dir)
    try:
        return {f.signature: (f.kind, f.first_execution, f.count)
                for f in store.findings()}, len(store.executions())
    finally:
        store.close()


@pytest.mark.slow
def test_a_program_run_killed_midway_and_resumed_finds_what_one_run_finds(
        capsys, tmp_path):
    total = 2000
    argv = ("stress", "--program", PROGRAM, "--seed", "3", "--keep-going",
            "--time", "0", "--no-report", "--quiet", "--executions", str(total),
            "--jobs", "2")
    whole = tmp_path / "whole"
    code, _out, err = cli(capsys, *argv, "--out", whole)
    assert code == 1, err
    expected = _findings(next(whole.iterdir()))

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "rcu_harness", *argv, "--out",
                             str(killed)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        run_dir = _wait_for_commits(killed, 1, 1)  # the first finding commits
    finally:
        proc.kill()  # SIGKILL: no chance to commit or clean up
        proc.communicate(timeout=30)
    committed, _ = _check_consistent(run_dir)
    assert 0 < committed < total, "the run was not killed midway"
    done = run("stress", "--resume", run_dir, "--jobs", 2, "--json", "--quiet",
               "--no-report", timeout=300)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["executions"] == total
    _check_consistent(run_dir)
    assert _findings(run_dir) == expected
