"""Campaigns survive SIGKILL at any moment, stop cleanly on SIGINT, and resume
without repeating an execution."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from rcu_harness.store.runstore import RunStore
from rcu_harness.trace.tracefile import load_trace
from tests.cli.helpers import ROOT, run

CAMPAIGN = ("stress", "--scenario", "rcu_transitions", "--mutant",
            "free-without-grace-period", "--strategy", "random", "--set", "vmas=8",
            "--keep-going", "--time", "0", "--no-report", "--quiet")
TOTAL = 100_000


def _start(out, jobs):
    return subprocess.Popen(
        [sys.executable, "-m", "rcu_harness", *CAMPAIGN, "--executions", str(TOTAL),
         "--jobs", str(jobs), "--out", str(out), "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_commits(out, executions, findings, timeout=60):
    """The run directory once it has committed enough."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for db in out.glob("*/run.sqlite"):
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                n = con.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
                f = con.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
                con.close()
            except sqlite3.Error:
                continue
            if n >= executions and f >= findings:
                return db.parent
        time.sleep(0.1)
    pytest.fail("the campaign committed too little in time")


def _check_consistent(run_dir):
    store = RunStore.open(run_dir)
    try:
        assert store.integrity() == "ok"
        rows = store.executions()
        findings = store.findings()
        assert [r.idx for r in rows] == list(range(len(rows)))
        for f in findings:
            trace = load_trace(run_dir / f.trace, check_fingerprint=False)
            assert trace.finding.signature == f.signature
            seen = [r.idx for r in rows if r.finding == f.signature]
            assert (f.first_execution, f.count) == (seen[0], len(seen))
        assert sum(f.count for f in findings) == sum(1 for r in rows if r.finding)
        return len(rows), {f.signature: f for f in findings}
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_leaves_a_consistent_store_and_resume_finishes_the_run(tmp_path,
                                                                       jobs):
    proc = _start(tmp_path, jobs)
    try:
        run_dir = _wait_for_commits(tmp_path, 30, 2)
        time.sleep(0.3)  # kill between or during commits
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    committed, before = _check_consistent(run_dir)
    assert RunStore.open(run_dir).meta()["status"] == "running"

    total = committed + 40
    done = run("stress", "--resume", run_dir, "--executions", total, "--jobs", jobs,
               "--json", "--quiet", "--no-report")
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert (out["executions"], out["session_executions"]) == (total, 40)
    after_count, after = _check_consistent(run_dir)
    assert after_count == total
    for sig, f in before.items():
        assert after[sig].first_execution == f.first_execution
        assert after[sig].count >= f.count


@pytest.mark.slow
def test_sigint_stops_cleanly_with_a_summary_and_the_run_resumes(tmp_path):
    proc = _start(tmp_path, 2)
    try:
        run_dir = _wait_for_commits(tmp_path, 20, 1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["stopped"], out["status"]) == ("interrupted", "interrupted")
    assert out["findings"]
    committed, _ = _check_consistent(run_dir)
    assert committed == out["executions"]

    done = run("stress", "--resume", run_dir, "--executions", committed + 10,
               "--json", "--quiet", "--no-report")
    again = json.loads(done.stdout)
    assert (again["session_executions"], again["status"]) == (10, "complete")
