"""A full disk: one line naming the run directory and what to do, exit 2;
at creation nothing is left behind, mid-run every committed execution stays
and the printed --resume command goes on from there."""

import errno
import shutil
import sqlite3
import subprocess
import sys

import pytest

from rcu_harness.campaign import coordinator
from rcu_harness.store import runstore
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import ROOT, cli

UAF = ("stress", "--scenario", "rcu_transitions", "--mutant",
       "free-without-grace-period", "--strategy", "random", "--keep-going",
       "--quiet", "--no-report", "--time", "0")


def _one_line_error(code, out, err):
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("rcu-harness: error: ")
    assert "Traceback" not in err
    return err.strip()


def test_a_full_disk_at_creation_leaves_nothing_and_says_so(capsys, tmp_path,
                                                            monkeypatch):
    def full(path):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(runstore, "_connect", full)
    line = _one_line_error(*cli(capsys, *UAF, "--executions", "5", "--out",
                                tmp_path / "runs"))
    assert f"cannot create run directory {tmp_path}/runs/" in line
    assert "(database or disk is full); nothing was run: free space under" in line
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_full_disk_mid_run_keeps_what_was_committed_and_says_how_to_resume(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(coordinator, "FLUSH_EXECUTIONS", 20)
    real = RunStore._insert_executions
    calls = []

    def insert(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, rows)

    monkeypatch.setattr(RunStore, "_insert_executions", insert)
    line = _one_line_error(*cli(capsys, *UAF, "--executions", "200", "--out",
                                tmp_path / "runs"))
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert line.startswith(f"rcu-harness: error: cannot write {run_dir} (No space "
                           f"left on device); {calls[0]} executions are stored; "
                           "free space, then continue with: ")
    assert line.endswith(f" stress --resume {run_dir}")
    monkeypatch.undo()
    code, _, err = cli(capsys, *command_args_of(line), "--executions", "200",
                       "--quiet", "--no-report")
    assert code == 1, err
    store = RunStore.open(run_dir)
    try:
        assert sorted(store.done()) == list(range(200))
    finally:
        store.close()


def command_args_of(line):
    words = line.split(" continue with: ", 1)[1].split()
    return words[words.index("stress"):]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 200 KiB tmpfs, where the machine allows mounting one."""
    where = tmp_path / "disk"
    where.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs",
                           str(where)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_real_full_disk_is_one_line_and_resumes_once_there_is_space(tiny_disk):
    done = subprocess.run([sys.executable, "-m", "rcu_harness", *UAF,
                           "--executions", "400", "--out", str(tiny_disk / "runs")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=False)
    _one_line_error(done.returncode, done.stdout, done.stderr)
    assert "(No space left on device" in done.stderr
    subprocess.run(["mount", "-o", "remount,size=50m", str(tiny_disk)], check=True)
    again = subprocess.run([sys.executable, "-m", "rcu_harness",
                            *command_args_of(done.stderr.strip()), "--executions",
                            "400", "--quiet", "--no-report"],
                           capture_output=True, text=True, cwd=ROOT, timeout=300,
                           check=False)
    assert again.returncode == 1, again.stderr
    (run_dir,) = (tiny_disk / "runs").iterdir()
    store = RunStore.open(run_dir)
    try:
        assert sorted(store.done()) == list(range(400))
    finally:
        store.close()
