"""Every command through its real entry points: the console script,
``python -m rcu_harness`` and ``rcu_harness.cli.main``."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, cli, run

SCRIPT = Path(sys.executable).with_name("rcu-harness")


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed "
                    "(pip install -e .)")
def test_the_console_script_runs_a_stress_job(tmp_path):
    done = subprocess.run([str(SCRIPT), "stress", "--scenario", "mmput_race", "--set",
                           "vmas=2", "--executions", "3", "--out", str(tmp_path),
                           "--json", "--no-report"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["executions"] == 3


def test_python_dash_m_lists_mutants_as_json():
    done = run("list", "mutants", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    assert {"name", "description", "scenario"} <= set(rows[0])
    assert "free-without-grace-period" in {r["name"] for r in rows}


@pytest.mark.parametrize(("what", "names"), [
    ("scenarios", {"dup_mmap", "rcu_transitions", "mmput_race", "stack_expand",
                   "tree_destroy", "page_fault"}),
    ("strategies", {"mix", "random", "pct", "dfs", "pos", "surw", "portfolio",
                    "rff", "pct-sync", "random-sync", "aimed",
                    "aimed-surw", "pct-site", "aimed-site", "pct-relay",
                    "aimed-relay", "aimed-stale", "aimed-pct", "aimed-rcu",
                    "aimed-class", "aimed-conflict", "aimed-data"}),
])
def test_list_prints_a_table_or_json(capsys, what, names):
    code, out, _ = cli(capsys, "list", what)
    assert code == 0
    assert out.splitlines()[0].startswith("NAME")
    assert names <= {line.split()[0] for line in out.splitlines()[1:]}
    code, out, _ = cli(capsys, "list", what, "--json")
    rows = json.loads(out)
    assert {r["name"] for r in rows} == names
    assert all(r["description"] for r in rows)


def test_listed_scenarios_carry_their_parameters(capsys):
    _, out, _ = cli(capsys, "list", "scenarios", "--json")
    params = {p["name"] for r in json.loads(out) for p in r["params"]}
    assert {"design", "vmas"} <= params


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli(capsys, "--help")
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("list", "stress", "replay", "report", "oracle"):
        assert command in out


def test_oracle_is_delegated_with_its_own_options():
    done = run("oracle", "--help")
    assert done.returncode == 0
    assert "setup" in done.stdout
    assert "diff" in done.stdout
    bad = run("oracle", "diff", "--ops", "many")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr


def test_report_hands_a_checked_run_directory_to_the_report_module(
        capsys, tmp_path, monkeypatch):
    report = pytest.importorskip("rcu_harness.report")
    calls = []

    def fake(run_dirs, *, as_json, html, compare):
        calls.append((run_dirs, as_json, html, compare))
        return 0

    monkeypatch.setattr(report, "report_command", fake)
    _code, out, _ = cli(capsys, "stress", "--scenario", "mmput_race", "--set",
                       "vmas=2", "--executions", "1", "--out", tmp_path, "--json",
                       "--no-report")
    run_dir = Path(json.loads(out)["run_dir"])
    assert cli(capsys, "report", run_dir, "--json")[0] == 0
    assert calls == [([run_dir], True, False, None)]


def test_cwd_does_not_matter_for_the_default_job(tmp_path):
    done = run("stress", "--executions", "1", "--out", tmp_path / "o", "--json",
               "--quiet", "--no-report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["runs"]) == 5
    assert tmp_path != ROOT


UAF = ("stress", "--scenario", "rcu_transitions", "--mutant",
       "free-without-grace-period", "--strategy", "random", "--executions", "30",
       "--json", "--quiet", "--no-report")


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed "
                    "(pip install -e .)")
@pytest.mark.parametrize("entry", ["script", "module"])
def test_printed_commands_work_in_a_shell_without_the_virtualenv(tmp_path, entry):
    """A quick-start user whose venv is not activated can paste what is printed."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    head = [str(SCRIPT)] if entry == "script" else [sys.executable, "-m",
                                                    "rcu_harness"]
    done = subprocess.run([*head, *UAF, "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=300, check=False, env=env, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    finding = json.loads(done.stdout)["findings"][0]
    expected = " ".join(shlex.quote(word) for word in head)
    for line in (finding["replay"], finding["replay_trace"]):
        assert line.startswith(expected + " replay "), line
        again = subprocess.run(line, shell=True, capture_output=True, text=True,
                               timeout=300, check=False, env=env, cwd=tmp_path)
        assert again.returncode == 1, again.stderr
        assert f"Execution {finding['first_execution']}," in again.stdout


def test_the_printed_prefix_is_short_only_when_the_path_finds_the_same_file(
        tmp_path, monkeypatch):
    from rcu_harness import invocation

    monkeypatch.setattr(sys, "argv", [str(SCRIPT)])
    monkeypatch.setenv("PATH", str(SCRIPT.parent))
    assert invocation.prefix() == "rcu-harness"
    monkeypatch.setenv("PATH", str(tmp_path))
    assert invocation.prefix() == str(SCRIPT)
    monkeypatch.setattr(sys, "argv", ["/somewhere/pytest"])
    assert invocation.prefix() == f"{sys.executable} -m rcu_harness"
    assert invocation.runnable("see: python -m rcu_harness replay x.json") == (
        f"see: {sys.executable} -m rcu_harness replay x.json")
