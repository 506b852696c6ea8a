"""Campaigns on a Dask cluster: ``stress --scheduler tcp://HOST:PORT`` or ``local:N``.

:class:`Cluster` connects to a ``dask.distributed`` scheduler (or starts a
``LocalCluster`` of N single-threaded worker processes on loopback for
``local:N``) and checks every worker before a unit runs there: the same
rcu-harness version and the same source code (a digest of every ``.py`` of
``rcu_harness`` and ``maple``), one thread per worker process, and, per
run, that the worker can load the run's scenario and mutant with the same
model fingerprint.  Any problem is one :class:`ClusterError` line naming
the worker, raised before the run directory is created.

:class:`DaskExecutor` is the campaign executor
(:class:`~rcu_harness.campaign.executor.Executor`) on that cluster: it
submits up to :data:`BUNDLE` consecutive units (a *bundle*) as one task
running :func:`run_bundle`, which pays Dask's fixed cost per task once for
them all, and hands the coordinator a :class:`concurrent.futures.Future`
per unit, completed from the Dask future's callback with the unit's own
result or error.  The coordinator still plans, absorbs and checks
saturation per unit, in index order, stays on this machine and remains
the only writer of the run's store; workers only compute.

Failure semantics (each tested in tests/cluster):

* a worker that dies mid-task (kill -9): the scheduler reruns its tasks on
  other workers; the coordinator receives each unit's result once, in
  index order, so nothing is lost or counted twice;
* a task whose result does not arrive while the client is still connected
  (its worker died holding the finished result, so Dask reports the future
  ``lost``; the fetch failed; the scheduler dropped the task): its units
  are submitted again, as one task under a fresh key, at most
  :data:`UNIT_RETRIES` times, then a
  :class:`~rcu_harness.campaign.executor.WorkerError` naming the units'
  executions; a rerun gives the same records (execution *i* depends only
  on the plan and *i*);
* the scheduler lost (the client's connection breaks; Dask then cancels
  every future), and only then:
  :class:`~rcu_harness.campaign.executor.ExecutorLost`, the coordinator
  stops as on a second Ctrl-C (status ``interrupted``, stopped
  ``cluster-lost``), keeps what it absorbed, and ``--resume`` continues on
  any executor with identical results;
* a unit that fails on a worker (a worker that joined later and cannot load
  the scenario): a :class:`~rcu_harness.campaign.executor.WorkerError`
  naming the worker and the unit's executions, the other units of its
  bundle keep their results; a worker of another version fails the whole
  task; a task that killed every worker it ran on (Dask's
  ``KilledWorker``): an error naming its units' executions.

Units run one at a time per worker process (:data:`_RUN` guards it even on
a worker started with several threads, which the start-up check refuses):
mutants patch module globals and the runtime keeps per-process state.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import distributed

import maple
from rcu_harness import version
from rcu_harness.campaign.executor import (
    ClusterError,
    ExecutorLost,
    WorkerError,
    exit_when_gone,
    timed,
)
from rcu_harness.scenarios.catalog import program
from rcu_harness.trace.fingerprint import model_fingerprint

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from rcu_harness.campaign.plan import RunPlan
    from rcu_harness.campaign.worker import UnitResult, WorkUnit

CONNECT_SECONDS = 10.0
"""How long to try reaching the scheduler, and to wait for a first worker."""
RESULT_SECONDS = 120.0
"""How long fetching a finished unit's result from its worker may take."""
UNIT_RETRIES = 3
"""How many times a task (a unit, or a bundle of them) is submitted again
when its result does not arrive while the scheduler is still connected
(its worker died holding the result, the fetch failed, the scheduler
dropped the task); once more ends the run naming its executions."""
BUNDLE = 4
"""Units per task (a *bundle*): 4 units of 16 executions, about 0.2 s of
the default job per task, so that Dask's fixed cost per task (about 4 ms:
scheduler, worker, result fetch; stress/bench_cluster.py) is about 2% of the
work instead of 8%.  The coordinator still plans, absorbs and checks
saturation per unit; only the trips to the cluster are per bundle."""
THREADS_SECONDS = 2.0
"""How long the cluster's thread count is cached."""
LOCAL_CONFIG = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.scheduler.work-stealing-interval": "1s",
}
"""Dask settings of a ``local:N`` cluster: its timers tick less often than
Dask's defaults (20 ms to 500 ms), which cuts the CPU an idle 2-worker
cluster burns by about a third (stress/bench_cluster.py); units last tenths
of a second, so nothing needs the finer ticks."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What a process runs: rcu-harness version and source digest."""

    version: str
    digest: str
    host: str

    def mismatch(self, other: Identity, worker: str) -> str:
        """Why @other (on @worker) cannot run this process's units ("": it can)."""
        where = f"worker {worker} (host {other.host})"
        if other.version != self.version:
            return (f"{where} runs rcu-harness {other.version}, this coordinator "
                    f"{self.version}; install the same version on every worker")
        if other.digest != self.digest:
            return (f"{where} runs other rcu-harness code than this coordinator "
                    f"(version {self.version} both, source digest "
                    f"{other.digest[:12]} vs {self.digest[:12]}); install the "
                    "same checkout on every worker")
        return ""


@cache
def code_digest() -> str:
    """BLAKE2b of every .py file of rcu_harness and maple, in path order."""
    h = hashlib.blake2b(digest_size=16)
    for name, module in (("rcu_harness", version), ("maple", maple)):
        root = Path(module.__file__ or "").parent
        for path in sorted(root.rglob("*.py")):
            h.update(f"{name}/{path.relative_to(root).as_posix()}"
                     .encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def identity() -> Identity:
    """This process's :class:`Identity`."""
    return Identity(version.__version__, code_digest(), socket.gethostname())


# -- what runs on the workers ---------------------------------------------------

_RUN = threading.Lock()
"""One unit at a time per worker process."""


def _worker_name() -> str:
    try:
        return str(distributed.get_worker().address)
    except ValueError:  # not inside a worker (a test calling this directly)
        return f"{socket.gethostname()} pid {os.getpid()}"


def run_bundle(units: Sequence[WorkUnit], expect: Identity
               ) -> list[UnitResult | WorkerError]:
    """The task of a bundle: check this worker against @expect, then run
    @units in order, one at a time in this process; each unit's result, or
    its own :class:`~rcu_harness.campaign.executor.WorkerError` (one line
    naming this worker and the unit's executions): a failing unit does not
    cost the others theirs.  A unit's time budget (``seconds``) ends where
    the bundle's first unit's does, or earlier
    (:func:`~rcu_harness.campaign.worker.unit_deadline`)."""
    name = _worker_name()
    problem = expect.mismatch(identity(), name)
    if problem:
        raise WorkerError(problem)
    out: list[UnitResult | WorkerError] = []
    with _RUN:
        for unit in units:
            try:
                out.append(timed(unit, name))
            except Exception as exc:
                text = f"{type(exc).__name__}: {exc}".splitlines()[0]
                out.append(WorkerError(
                    f"worker {name} (host {socket.gethostname()}) failed on "
                    f"executions {unit.start}..{unit.stop - 1}: {text}"))
    return out



def load_plan(plan: RunPlan, fingerprint: str) -> str:
    """Can this worker run @plan's units?  "" if so, else why not."""
    what = f"scenario {plan.scenario}" + (f" with mutant {plan.mutant}"
                                          if plan.mutant else "")
    host = socket.gethostname()
    try:
        program(plan.config())
        mine = model_fingerprint(plan.scenario_module)
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return f"(host {host}) cannot load {what}: {text}"
    if mine != fingerprint:
        return (f"(host {host}) has another model for {what} (fingerprint "
                f"{mine[:12]}, this coordinator {fingerprint[:12]}); install the "
                "same checkout on every worker")
    return ""


def dask_setup(worker: Any) -> None:
    """Preload of ``local:N`` workers: they ignore Ctrl-C (the coordinator
    alone decides how to stop, as for the local pool), exit when the
    coordinator dies; importing this module imported the model."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=exit_when_gone, args=(os.getppid(),), daemon=True,
                     name="coordinator-watchdog").start()


# -- the coordinator's side -------------------------------------------------------

def _quiet() -> None:
    """Silence distributed's logging here: the coordinator reports every
    cluster event itself, in one line (distributed sets levels per module,
    so every logger of its tree is set)."""
    names = [n for n in logging.root.manager.loggerDict
             if n == "distributed" or n.startswith("distributed.")]
    for name in ["distributed", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _executions(units: Sequence[WorkUnit]) -> str:
    """@units' executions, consecutive ones merged (``32..95``; ``0..15, 48..63``
    where a resumed run skips what it has)."""
    spans: list[list[int]] = []
    for unit in units:
        if spans and spans[-1][1] == unit.start:
            spans[-1][1] = unit.stop
        else:
            spans.append([unit.start, unit.stop])
    return ", ".join(f"{a}..{b - 1}" for a, b in spans)


def _what(units: Sequence[WorkUnit]) -> str:
    """How messages name a task: its unit, or its bundle's units."""
    if len(units) == 1:
        return f"unit of executions {_executions(units)}"
    return f"bundle of {len(units)} units (executions {_executions(units)})"


def _failed(units: Sequence[WorkUnit], error: BaseException | None) -> Exception:
    """What the units of a task that erred raise: the worker's own
    :class:`~rcu_harness.campaign.executor.WorkerError`, or one naming the
    task's units (Dask's ``KilledWorker``: the task killed every worker it
    ran on, ``distributed.scheduler.allowed-failures`` + 1 of them)."""
    if isinstance(error, WorkerError):
        return error
    what = _one_line(error) if error is not None else "no error given"
    return WorkerError(f"{_what(units)} failed on the cluster: {what}")


class Cluster:
    """A checked connection to a Dask cluster, for one command.

    @spec is ``local:N`` or a scheduler address (``tcp://HOST:PORT``).
    """

    def __init__(self, spec: str, *, connect_seconds: float | None = None) -> None:
        self.spec = spec
        self.connect_seconds = connect_seconds or CONNECT_SECONDS
        self.expect = identity()
        self._local: distributed.LocalCluster | None = None
        self._client: distributed.Client | None = None
        self._checked: set[str] = set()
        _quiet()
        try:
            self.address = self._start()
            self._wait_for_workers()
            self._check_workers()
        except BaseException:
            self.close()
            raise

    def _start(self) -> str:
        if self.spec.startswith("local:"):
            try:
                with dask.config.set(LOCAL_CONFIG):
                    self._local = self._local_cluster()
            except Exception as exc:
                raise ClusterError(f"cannot start a local Dask cluster "
                                   f"({_one_line(exc)})") from None
            address = str(self._local.scheduler_address)
        else:
            address = self.spec
        try:
            self._client = distributed.Client(address, timeout=self.connect_seconds,
                                              set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} "
                               f"({_one_line(exc)}); start it with `dask "
                               "scheduler` or fix --scheduler") from None
        return address

    def _local_cluster(self) -> distributed.LocalCluster:
        return distributed.LocalCluster(
            n_workers=int(self.spec[len("local:"):]), threads_per_worker=1,
            processes=True, host="127.0.0.1", scheduler_port=0,
            dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
            silence_logs=logging.CRITICAL, preload=[__name__])

    @property
    def client(self) -> distributed.Client:
        """The Dask client."""
        assert self._client is not None
        return self._client

    def _wait_for_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.connect_seconds)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"the Dask scheduler at {self.address} has no "
                               f"workers ({_one_line(exc)}); start `dask worker "
                               f"{self.address} --nthreads 1` on each host"
                               ) from None

    def _check_workers(self) -> None:
        found = self.client.run(identity, on_error="return")
        threads = self.client.nthreads()
        for name in sorted(found):
            got = found[name]
            if isinstance(got, BaseException):
                raise ClusterError(f"worker {name} cannot run rcu-harness "
                                   f"({_one_line(got)}); install rcu-harness "
                                   f"{self.expect.version} there")
            problem = self.expect.mismatch(got, name)
            if not problem and threads.get(name, 1) > 1:
                problem = (f"worker {name} (host {got.host}) has "
                           f"{threads[name]} threads, and a worker process runs "
                           "one unit at a time; start workers with `dask worker "
                           "ADDRESS --nthreads 1 --nworkers N` (N: cores)")
            if problem:
                raise ClusterError(problem)

    def check(self, plan: RunPlan) -> None:
        """Refuse (ClusterError) if a worker cannot run @plan's units."""
        key = repr(sorted(plan.to_json().items()))
        if key in self._checked:
            return
        fingerprint = model_fingerprint(plan.scenario_module)
        found = self.client.run(load_plan, plan, fingerprint, on_error="return")
        for name in sorted(found):
            got = found[name]
            if isinstance(got, BaseException):
                got = f"cannot check scenario {plan.scenario} ({_one_line(got)})"
            if got:
                raise ClusterError(f"worker {name} {got}")
        self._checked.add(key)

    def executor(self, plan: RunPlan, jobs: int | None) -> DaskExecutor:
        """An executor for @plan's units (checked first); @jobs caps units in
        flight (None: two bundles per worker thread of the cluster)."""
        self.check(plan)
        return DaskExecutor(self, jobs)

    def close(self) -> None:
        """Disconnect (and stop a LocalCluster started here)."""
        if self._client is not None:
            self._client.close(timeout=self.connect_seconds)
            self._client = None
        if self._local is not None:
            self._local.close(timeout=self.connect_seconds)
            self._local = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class DaskExecutor:
    """Runs units as tasks on a :class:`Cluster`, up to @bundle consecutive
    units per task (:data:`BUNDLE`)."""

    def __init__(self, cluster: Cluster, jobs: int | None,
                 bundle: int = BUNDLE) -> None:
        self.cluster = cluster
        self.jobs = jobs
        self.bundle = bundle
        self._pending: set[distributed.Future[list[UnitResult | WorkerError]]] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._threads = (0, -THREADS_SECONDS)

    @property
    def workers(self) -> int:
        """Worker threads of the cluster now (cached a couple of seconds)."""
        count, when = self._threads
        now = time.monotonic()
        if now - when >= THREADS_SECONDS:
            try:
                count = sum(self.cluster.client.nthreads().values())
            except Exception:  # lost: the next submit says so
                count = 0
            self._threads = (count, now)
        return count

    @property
    def inflight(self) -> int:
        """``--jobs``, else two bundles per worker thread (a queued one each)."""
        return self.jobs or max(2 * self.bundle * self.workers, 1)

    def _lost(self, why: str = "") -> ExecutorLost:
        return ExecutorLost(f"lost the Dask scheduler {self.cluster.address}"
                            + (f": {why}" if why else ""))

    def submit(self, unit: WorkUnit) -> Future[UnitResult]:
        """Submit @unit as a task of its own."""
        return self.submit_many([unit])[0]

    def submit_many(self, units: Sequence[WorkUnit]) -> list[Future[UnitResult]]:
        """Submit @units as one task (:func:`run_bundle`); each unit's future
        completes from Dask's callback with the unit's own result or error."""
        client = self.cluster.client
        if client.status != "running":
            raise self._lost(f"client {client.status}")
        futures: list[Future[UnitResult]] = []
        for _ in units:
            future: Future[UnitResult] = Future()
            future.set_running_or_notify_cancel()
            futures.append(future)
        self._send(tuple(units), futures, 0)
        return futures

    def _send(self, units: tuple[WorkUnit, ...], futures: list[Future[UnitResult]],
              tries: int) -> None:
        """Submit @units' task (a fresh key), @tries times submitted before."""
        try:
            task = self.cluster.client.submit(
                run_bundle, units, self.cluster.expect, pure=False,
                key=f"rcu-unit-{units[0].start}-{uuid.uuid4().hex[:12]}")
        except Exception as exc:
            raise self._lost(_one_line(exc)) from exc
        with self._lock:
            self._pending.add(task)
        task.add_done_callback(lambda done: self._done(units, futures, done, tries))

    def _done(self, units: tuple[WorkUnit, ...], futures: list[Future[UnitResult]],
              task: distributed.Future[list[UnitResult | WorkerError]],
              tries: int) -> None:
        """Dask's callback (its callback thread): complete @futures, or submit
        @units again if their worker died before the result was fetched."""
        with self._lock:
            self._pending.discard(task)
        try:
            if self._closing:
                raise self._lost("shut down")
            status = task.status
            if status == "finished":
                try:
                    results = task.result(timeout=RESULT_SECONDS)
                except Exception as exc:
                    why = f"fetching its result failed ({_one_line(exc)})"
                else:
                    for future, got in zip(futures, results, strict=True):
                        if isinstance(got, BaseException):
                            future.set_exception(got)
                        else:
                            future.set_result(got)
                    return
            elif status == "error":
                raise _failed(units, task.exception(timeout=RESULT_SECONDS))
            elif status == "lost":
                why = "its worker died holding its result"
            else:  # "cancelled" (the scheduler or the connection dropped it)
                why = f"its task was {status}"
            self._again(units, futures, task, tries, why)
        except Exception as exc:  # never leave the coordinator waiting
            for future in futures:
                if not future.done():
                    future.set_exception(exc)

    def _again(self, units: tuple[WorkUnit, ...], futures: list[Future[UnitResult]],
               task: distributed.Future[list[UnitResult | WorkerError]], tries: int,
               why: str) -> None:
        """@units' result did not arrive (@why): the cluster is lost if the
        client's connection to the scheduler is, else submit @units again."""
        client = self.cluster.client
        if client.status != "running":
            raise self._lost(f"client {client.status}")
        # drop the old key, so that the scheduler does not recompute it too
        task.release()
        if tries >= UNIT_RETRIES:
            raise WorkerError(f"{_what(units)} was submitted {tries + 1} times and "
                              f"its result never arrived (last time {why}); check "
                              "the workers and their logs")
        if self._closing:
            raise self._lost("shut down")
        self._send(units, futures, tries + 1)

    def shutdown(self, *, cancel: bool) -> None:
        """Stop delivering results; @cancel: cancel this executor's tasks
        still on the cluster (the cluster itself stays up)."""
        self._closing = True
        with self._lock:
            pending = list(self._pending)
        if cancel and pending and self.cluster.client.status == "running":
            # the scheduler may be gone meanwhile: then nothing is left to cancel
            with contextlib.suppress(Exception):
                self.cluster.client.cancel(pending)
