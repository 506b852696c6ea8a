"""Hand-started Dask clusters for the tests: ``dask scheduler`` and ``dask
worker`` processes on 127.0.0.1, on ports the system picks, stopped by the
test that started them (each in its own session, so Ctrl-C in the test
runner's terminal does not reach them; the scheduler also gives up by
itself after a while idle, and workers once the scheduler is gone, should a
test runner be killed before it cleans up)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason="the cluster tests need dask.distributed: pip install "
    "-e '.[test]' installs it (the test extra includes the cluster extra)")

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 90
"""How long a scheduler or worker may take to come up on a loaded machine."""


class DaskProcs:
    """A scheduler and workers started as separate processes."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.address = ""
        self.scheduler_proc: subprocess.Popen | None = None

    def _spawn(self, name: str, *argv: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed below)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "dask", *argv], cwd=self.tmp,
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def scheduler(self) -> str:
        """Start ``dask scheduler``; its address once it listens."""
        path = self.tmp / "scheduler.json"
        self.scheduler_proc = self._spawn(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
            "--no-dashboard", "--scheduler-file", str(path),
            "--idle-timeout", "600s")
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.scheduler_proc.poll() is not None:
                pytest.fail(f"dask scheduler exited: {self.log('scheduler')}")
            try:
                self.address = json.loads(path.read_text())["address"]
                return self.address
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        pytest.fail("dask scheduler did not start in time")

    def worker(self, name: str, *extra: str, nthreads: int = 1) -> subprocess.Popen:
        """Start ``dask worker`` (no nanny: its pid is the worker's)."""
        return self._spawn(name, "worker", self.address, "--host", "127.0.0.1",
                           "--nthreads", str(nthreads), "--no-nanny",
                           "--no-dashboard", "--name", name,
                           "--death-timeout", "60s", *extra)

    def client(self) -> distributed.Client:
        """A client of this cluster (for the test to look at it)."""
        return distributed.Client(self.address, timeout=START_SECONDS,
                                  set_as_default=False)

    def wait_for_workers(self, n: int) -> dict[str, int]:
        """Wait until exactly @n workers are registered; their pids by address."""
        with self.client() as client:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                if len(client.scheduler_info()["workers"]) == n:
                    return client.run(os.getpid)
                time.sleep(0.1)
        logs = " | ".join(self.log(p.name) for p in sorted(self.tmp.glob("w*.log")))
        pytest.fail(f"{n} dask workers did not register in time: {logs}")

    def log(self, name: str) -> str:
        """The tail of process @name's output."""
        path = self.tmp / f"{Path(name).stem}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL @proc (and its process group) and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def close(self) -> None:
        """Stop every process this object started."""
        for proc in self.procs:
            self.kill(proc)
