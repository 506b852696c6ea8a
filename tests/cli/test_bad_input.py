"""Bad input: one line on stderr saying what and how to fix, exit 2, no
traceback, nothing written or overwritten."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, cli, run

SMALL = ("--scenario", "mmput_race", "--set", "vmas=2", "--executions", "1")


def _refused(capsys, tmp_path, *argv, match):
    out_dir = tmp_path / "out"
    with_out = argv[0] == "stress" and "--resume" not in argv
    code, out, err = cli(capsys, *argv, *(("--out", out_dir) if with_out else ()))
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("rcu-harness: error: "), err
    assert "Traceback" not in err
    assert match in err, err
    assert not out_dir.exists() or not any(out_dir.iterdir())
    return err


@pytest.mark.parametrize(("argv", "match"), [
    (("--scenario", "nope"), "unknown scenario 'nope' (known: dup_mmap"),
    (("--scenario", "mmput_race", "--mutant", "nope"), "unknown mutant 'nope'"),
    (("--scenario", "mmput_race", "--mutant", "entry-count-short"),
     "does not apply to scenario mmput_race"),
    (("--scenario", "mmput_race", "--strategy", "bfs"), "unknown strategy 'bfs'"),
    (("--scenario", "mmput_race", "--set", "colour=red"),
     "has no parameter 'colour' (known: design"),
    (("--scenario", "mmput_race", "--set", "vmas=0"), "vmas must be at least 1"),
    (("--scenario", "mmput_race", "--set", "vmas=lots"), "vmas must be an integer"),
    (("--scenario", "mmput_race", "--set", "design=1999"), "design must be one of"),
    (("--scenario", "mmput_race", "--set", "vmas"), "--set takes KEY=VALUE"),
    (("--scenario", "mmput_race", "--strategy-param", "colour=1"),
     "strategy aimed-data has no parameter 'colour'"),
    (("--scenario", "mmput_race", "--strategy-param", "depth=-3"),
     "must be a non-negative integer"),
    (("--scenario", "mmput_race", "--strategy", "pct", "--strategy-param",
      "depth=1000000000"), "pct depth must be between 1 and 1000"),
    (("--scenario", "mmput_race", "--strategy", "pct", "--strategy-param",
      "depth=900"), "depth=900 exceeds steps + 1"),
    (("--scenario", "mmput_race", "--strategy", "portfolio", "--strategy-param",
      "members=pct,random", "--strategy-param", "sites=3"),
     "portfolio parameter sites is taken by none of its members pct,random "
     "(only by pct-site, pct-relay)"),
    (("--scenario", "mmput_race", "--strategy", "portfolio", "--strategy-param",
      "members=pct,surw", "--strategy-param", "sync_points=sync"),
     "portfolio parameter sync_points is taken by none of its members pct,surw"),
    (("--seed", "-1"), "argument --seed: must be an integer >= 0 (got '-1')"),
    (("--seed", "1.5"), "argument --seed: must be an integer >= 0"),
    (("--executions", "0"), "argument --executions: must be an integer >= 1"),
    (("--executions", "many"), "argument --executions: must be an integer >= 1"),
    (("--time", "-5"), "argument --time: must be an integer >= 0"),
    (("--jobs", "0"), "argument --jobs: must be an integer >= 1"),
    (("--max-steps", "0"), "argument --max-steps: must be an integer >= 1"),
    (("--colour",), "unrecognized arguments: --colour"),
])
def test_stress_refuses_bad_options(capsys, tmp_path, argv, match):
    _refused(capsys, tmp_path, "stress", *argv, match=match)


@pytest.mark.parametrize(("text", "match"), [
    ("[[run]\n", "is not valid TOML"),
    ("name = 'x'\n", "no runs; add at least one [[run]]"),
    ("[[run]]\nscenario = 'mmput_race'\nexecutions = -2\n",
     "executions must be an integer >= 1"),
    ("[[run]]\nscenario = 'mmput_race'\nspeed = 2\n", "unknown key 'speed'"),
    ("[[run]]\nscenario = 'nope'\n", "unknown scenario 'nope'"),
])
def test_stress_refuses_a_malformed_job_file(capsys, tmp_path, text, match):
    job = tmp_path / "job.toml"
    job.write_text(text)
    _refused(capsys, tmp_path, "stress", job, match=match)


def test_stress_refuses_a_missing_job_file(capsys, tmp_path):
    _refused(capsys, tmp_path, "stress", tmp_path / "nope.toml",
             match="nope.toml not found; give the path of a .toml job file")


def test_stress_refuses_an_output_directory_it_cannot_write(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, out, err = cli(capsys, "stress", *SMALL, "--out", blocker / "runs")
    assert code == 2
    assert out == ""
    assert err.startswith("rcu-harness: error: cannot create output directory")
    assert "choose another --out" in err
    code, _, err = cli(capsys, "stress", *SMALL, "--out", blocker)
    assert code == 2
    assert "is not a directory" in err
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_stress_refuses_a_read_only_output_directory(capsys, tmp_path):
    tmp_path.chmod(0o500)
    try:
        code, _, err = cli(capsys, "stress", *SMALL, "--out", tmp_path)
    finally:
        tmp_path.chmod(0o700)
    assert code == 2
    assert "is not writable" in err


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """A real trace file to spoil."""
    from rcu_harness.cli import main

    out = tmp_path_factory.mktemp("runs")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["stress", "--scenario", "dup_mmap", "--mutant", "entry-count-short",
              "--executions", "3", "--out", str(out), "--json", "--quiet",
              "--no-report"])
    return json.loads(buf.getvalue())["findings"][0]["trace"]


def _spoiled(tmp_path, trace, change):
    path = tmp_path / "spoiled.json"
    text = Path(trace).read_text()
    path.write_text(change(text))
    return path


@pytest.mark.parametrize(("change", "match"), [
    (lambda t: t[: len(t) // 2], "trace file is truncated; re-run the campaign"),
    (lambda t: "", "trace file is truncated"),
    (lambda t: "hello, world", "not a JSON trace file"),
    (lambda t: "[1, 2]", "not a JSON object"),
    (lambda t: json.dumps({**json.loads(t), "format": 99}),
     "trace format 99, this harness reads"),
    (lambda t: json.dumps({**json.loads(t), "model_fingerprint": "0" * 32}),
     "recorded against model 000000000000, the current model is"),
    (lambda t: json.dumps({**json.loads(t), "scenario": "gone"}),
     "unknown scenario 'gone'"),
    (lambda t: json.dumps({**json.loads(t), "schedule": "AAAA"}),
     "not an rcu-harness schedule"),
    (lambda t: json.dumps({**json.loads(t), "schedule": 12}),
     "(schedule must be a string (got 12))"),
    (lambda t: json.dumps({**json.loads(t), "seed": "abc"}),
     "(seed must be an integer (got 'abc'))"),
    (lambda t: json.dumps({**json.loads(t), "strategy": "nope"}),
     "(unknown strategy 'nope' (known: aimed, aimed-class, aimed-conflict, "
     "aimed-data, aimed-pct, aimed-rcu, aimed-relay, aimed-site, aimed-stale, "
     "aimed-surw, dfs, mix, pct, pct-relay, pct-site, pct-sync, portfolio, pos, "
     "random, random-sync, rff, surw))"),
    (lambda t: json.dumps({**json.loads(t), "execution": -3}),
     "(execution must be >= 0 (got -3))"),
    (lambda t: json.dumps({**json.loads(t), "max_steps": True}),
     "(max_steps must be an integer (got True))"),
    (lambda t: json.dumps({**json.loads(t), "colour": "red"}),
     "(unknown field 'colour')"),
    (lambda t: json.dumps({k: v for k, v in json.loads(t).items()
                           if k != "schedule"}), "(missing field 'schedule')"),
    (lambda t: json.dumps({**json.loads(t), "parameters": {"vmas": [1]}}),
     "(parameters.vmas must be a number, string or boolean)"),
    (lambda t: json.dumps({**json.loads(t), "finding": {"kind": 1}}),
     "(finding.kind must be a string (got 1))"),
    (lambda t: json.dumps({**json.loads(t), "events": [{"step": "x"}]}),
     "(events[0].step must be an integer (got 'x'))"),
])
def test_replay_refuses_an_unusable_trace_file(capsys, tmp_path, trace, change,
                                               match):
    path = _spoiled(tmp_path, trace, change)
    before = path.read_bytes()
    _refused(capsys, tmp_path, "replay", path, match=match)
    assert path.read_bytes() == before


def test_replay_of_a_changed_model_says_how_to_re_run(capsys, tmp_path, trace):
    path = _spoiled(tmp_path, trace,
                    lambda t: json.dumps({**json.loads(t), "model_fingerprint": "f"}))
    err = _refused(capsys, tmp_path, "replay", path, match="maple/ or the scenario")
    assert "re-run the campaign to regenerate it" in err


def test_replay_refuses_a_missing_trace(capsys, tmp_path):
    _refused(capsys, tmp_path, "replay", tmp_path / "gone.json",
             match="no such trace file")


@pytest.mark.parametrize(("argv", "match"), [
    ((), "give a TRACE.json, or --scenario NAME or --program"),
    (("--scenario", "mmput_race", "--execution", "-1"),
     "argument --execution: must be an integer >= 0"),
    (("--scenario", "mmput_race", "--strategy", "bogus"), "unknown strategy"),
    (("--scenario", "mmput_race", "--mutant", "bogus"), "unknown mutant"),
    (("--scenario", "mmput_race", "--output", "x.json"),
     "--output and --max-runs go with --minimize"),
])
def test_replay_refuses_bad_options(capsys, tmp_path, argv, match):
    _refused(capsys, tmp_path, "replay", *argv, match=match)


def test_replay_by_trace_refuses_options_the_trace_fixes(capsys, tmp_path, trace):
    _refused(capsys, tmp_path, "replay", trace, "--scenario", "mmput_race",
             match="a trace file names its own run; drop --scenario")


def test_minimize_refuses_to_overwrite_its_output(capsys, tmp_path, trace):
    target = tmp_path / "exists.json"
    target.write_text("mine")
    code, _, err = cli(capsys, "replay", trace, "--minimize", "--output", target)
    assert code == 2
    assert "exists; choose another file name" in err
    assert target.read_text() == "mine"


def test_report_and_resume_refuse_a_directory_that_is_not_a_run(capsys, tmp_path):
    _refused(capsys, tmp_path, "report", tmp_path,
             match="is not a run directory (no run.sqlite)")
    _refused(capsys, tmp_path, "report", tmp_path / "missing",
             match="is not a directory")
    _refused(capsys, tmp_path, "stress", "--resume", tmp_path,
             match="is not a run directory")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A finished run directory (made through the real entry point)."""
    from rcu_harness.cli import main

    out = tmp_path_factory.mktemp("runs")
    assert main(["stress", *SMALL, "--executions", "3", "--out", str(out),
                 "--quiet", "--no-report"]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


def _damaged(tmp_path, run_dir, sql):
    copy = tmp_path / "damaged"
    shutil.copytree(run_dir, copy)
    con = sqlite3.connect(copy / "run.sqlite")
    con.execute(sql)
    con.commit()
    con.close()
    return copy


_PLAN = ('{"scenario": "mmput_race", "params": {}, "mutant": null, "strategy": '
         '"pct", "strategy_params": {"depth": %s, "steps": 10}, "seed": %s, '
         '"max_steps": 1000, "keep_going": false}')


@pytest.mark.parametrize(("sql", "match", "report_too"), [
    ("DROP TABLE executions", "is damaged (table executions is missing)", True),
    ("DROP TABLE findings", "is damaged (table findings is missing)", True),
    ("ALTER TABLE executions DROP COLUMN counters",
     "is damaged (column executions.counters is missing)", True),
    ("UPDATE meta SET value='{bad' WHERE key='plan'",
     "is damaged (meta 'plan' is not JSON)", True),
    ("DELETE FROM meta WHERE key='format'", "has store format None", True),
    ("UPDATE meta SET value='{\"scenario\": 3}' WHERE key='plan'",
     "(the stored run plan has a bad 'scenario' (3))", False),
    ("UPDATE meta SET value='7' WHERE key='budget'",
     "(the stored budget is not an object)", False),
    ("UPDATE meta SET value='\"x\"' WHERE key='wall_seconds'",
     "(the stored 'wall_seconds' is 'x')", False),
    ("UPDATE meta SET value='" + _PLAN % (3, '"abc"') + "' WHERE key='plan'",
     "(the stored run plan has a bad 'seed' ('abc'))", False),
    ("UPDATE meta SET value='" + _PLAN % (10**9, 0) + "' WHERE key='plan'",
     "pct depth must be between 1 and 1000", False),
])
def test_a_damaged_store_is_one_line_never_a_traceback(capsys, tmp_path, small_run,
                                                       sql, match, report_too):
    damaged = _damaged(tmp_path, small_run, sql)
    err = _refused(capsys, tmp_path, "stress", "--resume", damaged, match=match)
    assert str(damaged) in err
    if report_too:
        _refused(capsys, tmp_path, "report", damaged, match=match)


def test_resume_refuses_options_the_run_fixes(capsys, tmp_path):
    _refused(capsys, tmp_path, "stress", "--resume", tmp_path, "--scenario", "x",
             match="--resume continues a run with its stored parameters; drop "
                   "--scenario")
    _refused(capsys, tmp_path, "stress", "--resume", tmp_path, "--set", "a=1",
             match="drop --set")
    code, _, err = cli(capsys, "stress", "--resume", tmp_path, "--out", tmp_path)
    assert code == 2
    assert "drop --out" in err


def test_unknown_commands_and_list_topics_are_usage_errors(capsys, tmp_path):
    _refused(capsys, tmp_path, "frobnicate", match="invalid choice: 'frobnicate'")
    _refused(capsys, tmp_path, "list", "things", match="invalid choice: 'things'")


def test_a_real_process_reports_bad_input_the_same_way(tmp_path):
    done = run("stress", "--scenario", "nope", "--out", tmp_path / "o", cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("rcu-harness: error: unknown scenario 'nope'")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""
    assert not (tmp_path / "o").exists()


def test_jobs_are_capped_at_a_few_per_core_and_warned_about_above_one(
        capsys, tmp_path, monkeypatch):
    from rcu_harness import cli as cli_module

    _refused(capsys, tmp_path, "stress", *SMALL, "--jobs", "100000",
             match="--jobs 100000 is more than 4 per core")
    monkeypatch.setattr(cli_module, "cores", lambda: 1)
    _refused(capsys, tmp_path, "stress", *SMALL, "--jobs", "5",
             match="use at most 4")
    code, _, err = cli(capsys, "stress", *SMALL, "--jobs", "2", "--out",
                       tmp_path / "runs", "--quiet", "--no-report")
    assert code == 0, err
    assert err == ("rcu-harness: warning: --jobs 2 is more than the 1 cores here; "
                   "workers will share them (no faster than --jobs 1)\n")


@pytest.mark.parametrize("argv", [
    ("stress", *SMALL, "--out", ""),
    ("stress", "--resume", ""),
    ("replay", ""),
    ("report", ""),
])
def test_an_empty_path_is_refused_not_taken_for_the_current_directory(
        capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, *argv)
    assert out == ""
    assert code == 2
    assert "must name a file or directory (got '')" in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_scenario_with_a_job_file_selects_its_runs_and_repeats_run_once(
        capsys, tmp_path):
    job = tmp_path / "job.toml"
    job.write_text('name = "j"\n'
                   '[[run]]\nscenario = "mmput_race"\nparams = { vmas = 2 }\n'
                   '[[run]]\nscenario = "mmput_race"\nparams = { vmas = 3 }\n'
                   '[[run]]\nscenario = "rcu_transitions"\n')
    code, out, err = cli(capsys, "stress", job, "--scenario", "mmput_race",
                         "--set", "vmas=2", "--executions", "2", "--out",
                         tmp_path / "runs", "--quiet", "--no-report", "--json")
    assert code == 0, err
    assert err == ("rcu-harness: warning: with these options run 2 of job j is run "
                   "1 again; it runs once\n")
    assert json.loads(out)["label"] == "mmput_race/aimed-data", (
        "one run: its own object")
    assert len(list((tmp_path / "runs").iterdir())) == 1
    _refused(capsys, tmp_path, "stress", job, "--scenario", "dup_mmap",
             match="job j has no run of scenario dup_mmap (its scenarios: "
                   "mmput_race, rcu_transitions)")


def test_resume_says_when_there_is_nothing_left_to_run(capsys, small_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run, run_dir)
    _refused(capsys, tmp_path, "stress", "--resume", run_dir, "--executions", "2",
             match=f"{run_dir} already has 3 executions; --executions sets the "
                   "run's total: give more than 3")
    code, out, err = cli(capsys, "stress", "--resume", run_dir, "--quiet",
                         "--no-report")
    assert code == 0, err
    assert ("note: run already complete (3 executions); give --executions N, a new "
            "total above 3, to extend it") in out
