"""A run directory has one owner at a time: a second ``stress --resume`` of a
run another live process writes exits 2 naming that process; a dead owner
(even ``kill -9``) leaves nothing behind that blocks a later resume."""

import os
import signal
import subprocess
import sys

import pytest

from rcu_harness.store.lock import LOCK_NAME, RunInProgressError, RunLock
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import ROOT, cli

SMALL = ("--scenario", "mmput_race", "--set", "vmas=2", "--quiet", "--no-report")


@pytest.fixture
def run_dir(capsys, tmp_path):
    code, _, err = cli(capsys, "stress", *SMALL, "--executions", "2", "--out",
                       tmp_path / "runs")
    assert code == 0, err
    (found,) = (tmp_path / "runs").iterdir()
    return found


def test_a_second_owner_is_refused_naming_the_first(run_dir):
    first = RunStore.open(run_dir, own=True)
    try:
        with pytest.raises(RunInProgressError, match=f"run in progress \\(pid "
                                                     f"{os.getpid()}\\)"):
            RunStore.open(run_dir, own=True)
        RunStore.open(run_dir).close()  # a reader needs no ownership
    finally:
        first.close()
    RunStore.open(run_dir, own=True).close()  # released on close


def test_resume_of_a_run_in_progress_exits_2_and_runs_nothing(capsys, run_dir):
    owner = RunLock.acquire(run_dir)
    try:
        code, out, err = cli(capsys, "stress", "--resume", run_dir, "--executions",
                             "50", "--quiet", "--no-report")
    finally:
        owner.release()
    assert code == 2
    assert out == ""
    assert err == (f"rcu-harness: error: {run_dir}: run in progress (pid "
                   f"{os.getpid()}); wait for it to end or stop it, then resume\n")
    store = RunStore.open(run_dir)
    try:
        assert len(store.done()) == 2
    finally:
        store.close()


def test_a_run_being_created_is_owned_from_its_first_moment(tmp_path):
    store = RunStore.create(tmp_path / "run", {"status": "running"})
    try:
        with pytest.raises(RunInProgressError):
            RunStore.open(tmp_path / "run", own=True)
    finally:
        store.close()


def test_an_owner_killed_with_sigkill_leaves_the_run_resumable(capsys, run_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path;"
         "from rcu_harness.store.lock import RunLock;"
         "RunLock.acquire(Path(sys.argv[1])); print('held', flush=True);"
         "time.sleep(600)", str(run_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RunInProgressError, match=f"pid {holder.pid}"):
            RunLock.acquire(run_dir)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert (run_dir / LOCK_NAME).read_text().strip() == str(holder.pid)
    code, _, err = cli(capsys, "stress", "--resume", run_dir, "--executions", "4",
                       "--quiet", "--no-report")
    assert code == 0, err
    store = RunStore.open(run_dir)
    try:
        assert sorted(store.done()) == [0, 1, 2, 3]
    finally:
        store.close()
