"""Failures on a cluster, as for the local pool: a worker killed mid-unit has
its units run again (nothing lost, nothing counted twice); a lost scheduler
stops the run like Ctrl-C, keeps what finished, and ``--resume`` finishes it
on another executor with identical results; ``local:N`` workers survive a
Ctrl-C to the process group and exit with a SIGKILLed coordinator."""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.cli.helpers import run
from tests.cluster.procs import DaskProcs
from tests.cluster.runs import UAF, committed, content, start, stress, summary, workers

pytestmark = pytest.mark.timeout(300)

LONG = (*UAF, "--executions", "320")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The long run with two local processes (equal to one: tests/cli)."""
    code, out, err = stress(tmp_path_factory.mktemp("ref"), *LONG, "--jobs", "2")
    assert code == 1, err
    return out


@pytest.fixture
def procs(tmp_path):
    procs = DaskProcs(tmp_path / "dask")
    try:
        yield procs
    finally:
        procs.close()


def _busy_worker(procs, pids):
    """A worker running one of the campaign's units now."""
    with procs.client() as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for addr, keys in sorted(client.processing().items()):
                if any(str(k).startswith("rcu-unit-") for k in keys):
                    return addr, pids[addr]
            time.sleep(0.02)
    pytest.fail("no worker was running a unit")


def test_a_worker_killed_mid_unit_has_its_units_run_again(tmp_path, procs, reference):
    procs.scheduler()
    procs.worker("w1")
    procs.worker("w2")
    pids = procs.wait_for_workers(2)
    coordinator = start(tmp_path / "runs", *LONG, "--scheduler", procs.address)
    try:
        committed(tmp_path / "runs", 32)
        victim, pid = _busy_worker(procs, pids)
        os.kill(pid, signal.SIGKILL)
        assert coordinator.poll() is None, "the run ended before the kill"
        stdout, stderr = coordinator.communicate(timeout=240)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("complete", "executions")
    assert summary(out) == summary(reference)
    assert content(out["run_dir"]) == content(reference["run_dir"])
    tallies = workers(out["run_dir"])
    assert sum(t["executions"] for t in tallies.values()) == 320
    survivor = next(a for a in pids if a != victim)
    assert tallies[survivor]["executions"] > tallies.get(victim, {}).get(
        "executions", 0), "the survivor ran the victim's units"


def test_losing_the_scheduler_stops_like_ctrl_c_and_resume_finishes_the_run(
        tmp_path, procs, reference):
    procs.scheduler()
    procs.worker("w1")
    procs.worker("w2")
    procs.wait_for_workers(2)
    coordinator = start(tmp_path / "runs", *LONG, "--scheduler", procs.address)
    try:
        run_dir = committed(tmp_path / "runs", 32)
        procs.kill(procs.scheduler_proc)
        stdout, stderr = coordinator.communicate(timeout=120)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr  # findings so far, as after Ctrl-C
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("interrupted", "cluster-lost")
    assert 32 <= out["executions"] < 320
    assert any("--resume" in note for note in out["notes"])
    rows, _ = content(run_dir)
    assert [r[0] for r in rows] == list(range(out["executions"]))

    done = run("stress", "--resume", run_dir, "--jobs", "1", "--json", "--quiet",
               "--no-report", timeout=240)
    assert done.returncode == 1, done.stderr
    again = json.loads(done.stdout)
    assert (again["status"], again["executions"]) == ("complete", 320)
    assert again["session_executions"] == 320 - out["executions"]
    assert content(run_dir) == content(reference["run_dir"])


def _children(pid):
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] not in (b"Z", b"X"):
                kids.append(int(entry.name))
    return kids


def _gone(pids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if Path(f"/proc/{p}").exists()
                 and b"Z" not in Path(f"/proc/{p}/stat").read_bytes().rsplit(
                     b")", 1)[1].split()[:1]]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def test_local_workers_ignore_ctrl_c_and_exit_with_their_coordinator(tmp_path):
    slow = (*UAF, "--executions", "100000", "--time", "0")
    coordinator = start(tmp_path / "a", *slow, "--scheduler", "local:2")
    try:
        committed(tmp_path / "a", 32)
        kids = _children(coordinator.pid)
        for pid in [coordinator.pid, *kids]:
            os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        stdout, stderr = coordinator.communicate(timeout=120)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("interrupted", "interrupted")
    assert sum(t["executions"] for t in workers(out["run_dir"]).values()) == out[
        "executions"]
    assert not _gone(kids)

    coordinator = start(tmp_path / "b", *slow, "--scheduler", "local:2")
    try:
        committed(tmp_path / "b", 16)
        kids = _children(coordinator.pid)
        assert len(kids) >= 2
        coordinator.kill()
        coordinator.communicate(timeout=30)
    finally:
        coordinator.kill()
    assert not _gone(kids), "local workers outlived their coordinator"
