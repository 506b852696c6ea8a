"""Executors: where work units run: this process, local processes, a cluster.

The seam is small on purpose: :class:`Executor` has ``workers`` (how many
units it runs at once), ``inflight`` (how many units the coordinator keeps
submitted), ``submit(unit)`` returning a
:class:`concurrent.futures.Future` of the
:class:`~rcu_harness.campaign.worker.UnitResult`, and ``shutdown()``.
An executor whose every task has a fixed cost (a cluster's round trip) may
take several consecutive units as one task: its ``bundle`` (units per task,
1 here) is above 1 and the coordinator then hands them to
``submit_many(units)``, which returns one future per unit, each completed
with that unit's own result or error.
Futures are what cluster engines hand back already (``dask.distributed``'s
``Client.submit``, Ray's ``ObjectRef.future()``), so an engine plugs in as
a small class (:mod:`~rcu_harness.campaign.cluster`, Dask); the coordinator
never sees processes.  A result says which worker made it and how long that
took (:func:`timed`), for the per-worker figures of the run.  Two
exceptions cross the seam: :class:`WorkerError` (a unit failed; the message
names the worker) and :class:`ExecutorLost` (the executor itself is gone,
say a cluster's scheduler: the coordinator stops as on Ctrl-C).

* :class:`InlineExecutor` (``--jobs 1``) runs a unit in the calling process
  when it is submitted: no start-up cost, no pickling.  Its ``stop``
  predicate ends a unit between executions (the first Ctrl-C).
* :class:`ProcessExecutor` (``--jobs N``) is a
  :class:`~concurrent.futures.ProcessPoolExecutor` over the ``forkserver``
  start method (``spawn`` where there is none): workers never inherit the
  coordinator's greenlets, open SQLite connection or signal handlers, and
  the fork server imports the model once, so a worker starts in a fraction
  of what ``spawn`` needs (see reports/BENCHMARKS.md).  Workers ignore
  SIGINT: a Ctrl-C reaches the whole process group, and the coordinator
  alone decides how to stop (an interrupt inside a simulated thread would
  otherwise be reported as a finding).  A worker whose coordinator died
  (SIGKILL) exits within a second or two: a watchdog thread checks that the
  coordinator's process still exists and is not a zombie.  The optional
  ``abandon()`` (a second Ctrl-C) terminates the workers at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from rcu_harness.campaign.worker import run_unit

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.campaign.worker import UnitResult, WorkUnit

PRELOAD = ["rcu_harness.campaign.worker", "rcu_harness.scenarios"]


class WorkerError(RuntimeError):
    """A unit failed on a worker; the message (one line) names the worker, or
    the unit when no one worker is to blame (its result lost too often)."""


class ClusterError(ValueError):
    """A cluster cannot run this campaign (unreachable, a worker of another
    version...); the message is one line naming the worker."""


class ExecutorLost(RuntimeError):
    """The executor can run no more units (a cluster's scheduler is gone)."""


def timed(unit: WorkUnit, worker: str,
          stop: Callable[[], bool] | None = None) -> UnitResult:
    """Run @unit, labelling the result with @worker and its busy seconds
    (@stop: see :func:`~rcu_harness.campaign.worker.run_unit`)."""
    began = time.perf_counter()
    result = run_unit(unit, stop)
    return replace(result, worker=worker, seconds=time.perf_counter() - began)


def _pid_label() -> str:
    return f"pid {os.getpid()}"


def _run_here(unit: WorkUnit) -> UnitResult:
    return timed(unit, _pid_label())


class Executor(Protocol):
    """Runs work units somewhere and hands back futures of their results."""

    @property
    def workers(self) -> int:
        """How many units it runs at once."""
        ...

    @property
    def inflight(self) -> int:
        """How many units to keep submitted (at least 1)."""
        ...

    @property
    def bundle(self) -> int:
        """Units per task: the coordinator gives up to this many consecutive
        units to :meth:`submit_many` at once (1: one by one to :meth:`submit`)."""
        ...

    def submit(self, unit: WorkUnit) -> Future[UnitResult]:
        """Start @unit (or queue it)."""
        ...

    def submit_many(self, units: Sequence[WorkUnit]) -> list[Future[UnitResult]]:
        """Start @units as one task; a future per unit, in order."""
        ...

    def shutdown(self, *, cancel: bool) -> None:
        """Release the workers; @cancel drops units not started yet."""
        ...


class InlineExecutor:
    """Runs each unit in this process as it is submitted."""

    workers = 1
    inflight = 1
    bundle = 1

    def __init__(self) -> None:
        self.stop: Callable[[], bool] | None = None
        """Set by the campaign: asked between executions, True ends a unit
        early (the first Ctrl-C)."""

    def submit(self, unit: WorkUnit) -> Future[UnitResult]:
        """Run @unit now; the future is already done."""
        future: Future[UnitResult] = Future()
        try:
            future.set_result(timed(unit, _pid_label(), self.stop))
        except Exception as exc:  # delivered like a remote failure
            future.set_exception(exc)
        return future

    def submit_many(self, units: Sequence[WorkUnit]) -> list[Future[UnitResult]]:
        """Run @units now, one by one."""
        return [self.submit(unit) for unit in units]

    def shutdown(self, *, cancel: bool) -> None:
        """Nothing to release."""


WATCHDOG_SECONDS = 1.0


def alive(pid: int) -> bool:
    """Is process @pid running (a zombie, killed but not yet reaped, is not)?"""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the pid was reused
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: trust kill()
    return state not in (b"Z", b"X")


def exit_when_gone(coordinator: int) -> None:
    """Exit this worker once the coordinator process is gone."""
    while alive(coordinator):
        time.sleep(WATCHDOG_SECONDS)
    os._exit(0)


def _init_worker(coordinator: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=exit_when_gone, args=(coordinator,), daemon=True,
                     name="coordinator-watchdog").start()


def start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class ProcessExecutor:
    """A pool of local worker processes."""

    bundle = 1

    def __init__(self, workers: int, method: str | None = None) -> None:
        self.workers = workers
        self.method = method or start_method()
        ctx = multiprocessing.get_context(self.method)
        if self.method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                         initializer=_init_worker,
                                         initargs=(os.getpid(),))

    @property
    def inflight(self) -> int:
        """Two units per worker: each has its next one queued."""
        return 2 * self.workers

    def submit(self, unit: WorkUnit) -> Future[UnitResult]:
        """Queue @unit for the next free worker."""
        return self._pool.submit(_run_here, unit)

    def submit_many(self, units: Sequence[WorkUnit]) -> list[Future[UnitResult]]:
        """Queue @units one by one (a local task costs next to nothing)."""
        return [self.submit(unit) for unit in units]

    def abandon(self) -> None:
        """Terminate the workers now (a second Ctrl-C): running units are
        dropped, :meth:`shutdown` then returns at once."""
        # ProcessPoolExecutor has no public way to stop running work; its
        # worker processes are in ``_processes`` (pid -> Process)
        processes = getattr(self._pool, "_processes", None) or {}
        for process in list(processes.values()):
            if process.is_alive():
                process.terminate()

    def shutdown(self, *, cancel: bool) -> None:
        """Stop the pool (running units finish unless :meth:`abandon` ran)."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def make_executor(jobs: int) -> Executor:
    """The local executor for ``--jobs`` @jobs."""
    return InlineExecutor() if jobs <= 1 else ProcessExecutor(jobs)
