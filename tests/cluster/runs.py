"""Running ``stress`` in the tests and comparing what runs stored."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rcu_harness.cli import main
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import ROOT

UAF = ("--scenario", "rcu_transitions", "--mutant", "free-without-grace-period",
       "--set", "vmas=4", "--strategy", "random", "--keep-going")
"""Several distinct findings, each seen many times: counts and first
executions say whether a unit was lost or counted twice."""


def stress(out: Path | None, *argv) -> tuple[int, dict, str]:
    """``stress ARGV --json`` in this process: (status, object, stderr);
    @out None for ``--resume``."""
    stdout, stderr = io.StringIO(), io.StringIO()
    where = [] if out is None else ["--out", str(out)]
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["stress", *map(str, argv), *where, "--json", "--quiet",
                     "--no-report"])
    text = stdout.getvalue()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def start(out: Path, *argv) -> subprocess.Popen[str]:
    """``python -m rcu_harness stress ARGV --json`` as a child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "rcu_harness", "stress", *map(str, argv), "--out",
         str(out), "--json", "--quiet", "--no-report"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(out: Path, executions: int, timeout: float = 120) -> Path:
    """The run directory under @out once it has committed @executions."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for db in out.glob("*/run.sqlite"):
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                n = con.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
                con.close()
            except sqlite3.Error:
                continue
            if n >= executions:
                return db.parent
        time.sleep(0.05)
    pytest.fail(f"the campaign did not commit {executions} executions in time")


def content(run_dir) -> tuple[list, list]:
    """Every stored execution and finding (with its trace file's bytes)."""
    run_dir = Path(run_dir)
    store = RunStore.open(run_dir)
    try:
        assert store.integrity() == "ok"
        rows = [(r.idx, r.seed, r.steps, r.finding, dict(r.counters))
                for r in store.executions()]
        findings = [(f.signature, f.kind, f.message, f.first_execution, f.count,
                     f.replay, (run_dir / f.trace).read_bytes())
                    for f in store.findings()]
    finally:
        store.close()
    return rows, findings


def summary(out: dict) -> tuple:
    """The figures of a ``--json`` summary that must not depend on executors."""
    return (out["executions"], out["steps"], out["counters"], out["stopped"],
            [(f["signature"], f["kind"], f["first_execution"], f["count"],
              f["replay"]) for f in out["findings"]])


def workers(run_dir) -> dict[str, dict]:
    """The run's per-worker tallies (meta ``workers``)."""
    store = RunStore.open(Path(run_dir))
    try:
        return store.meta()["workers"]
    finally:
        store.close()
