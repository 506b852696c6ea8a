"""Sessions: start a run in a new run directory, or resume a stored one.

A run directory is named ``<out>/<UTC time>-<scenario>[-<mutant>]-<strategy>``
(a ``-2``, ``-3``... suffix when that exists: nothing is ever overwritten;
the name only labels the run).  Its meta holds the :class:`RunPlan`, the
:class:`Budget`, the model fingerprint and the session's progress
(``status``: running, complete, interrupted or failed; ``stopped``: why;
``wall_seconds``; ``last_schedule`` for dfs), so :func:`resume_run` can
continue a run from the directory alone.  A killed run still says
``running``; resuming it runs exactly the indexes not stored.

Resuming: ``--executions`` sets the run's new total, ``--time`` the
seconds this session may take (default: what is left of the run's time
budget), ``--jobs`` how many workers, ``--scheduler`` which executor (any:
a run started on a cluster may go on locally and the other way round).  A
run whose model fingerprint differs from the current model is refused (its
executions would not be the ones the plan names).

The executor of a session (``executor_for(plan, jobs)``; ``jobs`` None:
the executor's default) is made before the run directory is created or
its status touched, so an executor that refuses the run (a cluster worker
that cannot load the scenario) leaves nothing behind.

A run directory that cannot be written (a full disk) ends the session with
one line (:class:`RunDirError`) naming the directory: at creation nothing
is left behind; mid-run, every execution committed so far is kept and the
line gives the ``--resume`` command that goes on from there.
"""

from __future__ import annotations

import shlex
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.campaign.coordinator import (
    Campaign,
    CampaignError,
    Interrupt,
    Outcome,
    Prior,
    StopReason,
)
from rcu_harness.campaign.executor import ClusterError, InlineExecutor, make_executor
from rcu_harness.campaign.plan import Budget, PlanError, RunPlan, check_strategy
from rcu_harness.campaign.summary import RunSummary, summarize
from rcu_harness.invocation import command
from rcu_harness.scenarios.programs import file_stem
from rcu_harness.sched.registry import StrategyParamError, check_bounds
from rcu_harness.sched.rff import CorpusEntry
from rcu_harness.store.runstore import Batch, RunStore, StoreError, StoreWriteError
from rcu_harness.trace.fingerprint import model_fingerprint
from rcu_harness.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from rcu_harness.campaign.executor import Executor
    from rcu_harness.campaign.progress import Progress

    ExecutorFor = Callable[[RunPlan, int | None], Executor]


class RunDirError(ValueError):
    """The output directory cannot take a run, or a run cannot be resumed."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished session of a run."""

    run_dir: Path
    outcome: Outcome
    summary: RunSummary


def label_of(plan: RunPlan) -> str:
    """``scenario[+mutant]/strategy``."""
    bug = f"+{plan.mutant}" if plan.mutant else ""
    return f"{plan.scenario}{bug}/{plan.strategy}"


def check_out(out: Path) -> None:
    """Make sure runs can be written under @out (RunDirError if not)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} is not a directory; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create output directory {out} "
                          f"({exc.strerror}); choose another --out") from None
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise RunDirError(f"output directory {out} is not writable "
                          f"({exc.strerror}); choose another --out") from None


def _new_store(out: Path, plan: RunPlan, meta: dict[str, object]) -> RunStore:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    bug = f"-{plan.mutant}" if plan.mutant else ""
    stem = f"{stamp}-{file_stem(plan.scenario)}{bug}-{plan.strategy}"
    for n in range(1, 10_000):
        run_dir = out / (stem if n == 1 else f"{stem}-{n}")
        try:
            return RunStore.create(run_dir, meta)
        except FileExistsError:
            continue
        except StoreWriteError as exc:
            raise RunDirError(f"{exc}; nothing was run: free space under {out} "
                              "and run the command again") from None
    raise RunDirError(f"too many runs named {stem} in {out}")


def local_executor(plan: RunPlan, jobs: int | None) -> Executor:
    """The local executor for ``--jobs`` @jobs (None: 1)."""
    return make_executor(jobs or 1)


@contextmanager
def executors(scheduler: str | None, plans: Iterable[RunPlan] = ()
              ) -> Iterator[ExecutorFor]:
    """The ``executor_for`` of a command: local (@scheduler None), or a Dask
    cluster (:mod:`~rcu_harness.campaign.cluster`) connected and checked
    against @plans up front, closed on leaving."""
    if scheduler is None:
        yield local_executor
        return
    try:
        from rcu_harness.campaign.cluster import Cluster
    except ImportError as exc:
        raise ClusterError(f"running on a cluster needs dask.distributed ({exc}); "
                           "pip install 'rcu-harness[cluster]'") from None
    with Cluster(scheduler) as cluster:
        for plan in plans:
            if not plan.sequential:
                cluster.check(plan)
        yield cluster.executor


@dataclass(frozen=True, slots=True)
class _Session:
    executor: Executor
    notes: tuple[str, ...]
    """What the summary says about the choice of executor."""


@contextmanager
def _session(plan: RunPlan, jobs: int | None, progress: Progress,
             executor_for: ExecutorFor) -> Iterator[_Session]:
    """The session's executor, shut down (and @progress closed) on leaving."""
    notes = tuple(plan.lifted())
    for note in notes:
        progress.note("note: " + note)
    try:
        if not plan.sequential:
            executor = executor_for(plan, jobs)
        else:
            executor = InlineExecutor()
            if jobs != 1:
                note = (f"{plan.strategy} explores in order (each execution "
                        "backtracks from the previous one): this run uses one "
                        "worker, this process")
                notes += (note,)
                progress.note("note: " + note)
    except BaseException:
        progress.close()
        raise
    try:
        yield _Session(executor, notes)
    finally:
        executor.shutdown(cancel=True)
        progress.close()


def _finish(store: RunStore, campaign: Campaign, outcome: Outcome,
            notes: tuple[str, ...]) -> RunResult:
    stopped = outcome.stopped
    status = "interrupted" if stopped in (StopReason.INTERRUPTED,
                                          StopReason.LOST) else "complete"
    if stopped is StopReason.LOST:
        notes += (f"{outcome.detail}; what finished is stored: continue with "
                  f"rcu-harness stress --resume {store.run_dir}",)
    store.commit(Batch(meta={"status": status, "stopped": str(outcome.stopped),
                             "wall_seconds": round(campaign.seconds, 3)}))
    return RunResult(store.run_dir, outcome,
                     summarize(store, session=outcome.session, notes=notes))


def _drive(store: RunStore, plan: RunPlan, budget: Budget, *, session: _Session,
           progress: Progress, interrupt: Interrupt, prior: Prior | None
           ) -> RunResult:
    campaign = Campaign(store, plan, budget, executor=session.executor,
                        progress=progress, interrupt=interrupt,
                        label=label_of(plan), prior=prior)
    try:
        try:
            outcome = campaign.run()
        except CampaignError:
            store.commit(Batch(meta={"status": "failed"}))
            raise
        return _finish(store, campaign, outcome, session.notes)
    except StoreWriteError as exc:
        raise RunDirError(_unwritable(store, exc)) from None


def _unwritable(store: RunStore, exc: StoreWriteError) -> str:
    """The one line for a run that cannot be written any more: what is
    stored is safe, and how to go on."""
    try:
        stored = f"{len(store.done())} executions are stored"
    except sqlite3.Error:
        stored = "what was committed is stored"
    resume = command("stress", "--resume", shlex.quote(str(store.run_dir)))
    return f"{exc}; {stored}; free space, then continue with: {resume}"


def start_run(plan: RunPlan, budget: Budget, *, out: Path, jobs: int | None,
              progress: Progress, interrupt: Interrupt, job: str = "",
              index: int = 0, executor_for: ExecutorFor = local_executor,
              ) -> RunResult:
    """Run @plan in a new run directory under @out."""
    meta: dict[str, object] = {
        "plan": plan.to_json(), "budget": budget.to_json(), "job": job,
        "run_index": index, "label": label_of(plan),
        "harness_version": __version__,
        "model_fingerprint": model_fingerprint(plan.scenario_module),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": sys.argv[1:], "status": "running", "wall_seconds": 0.0}
    with _session(plan, jobs, progress, executor_for) as session:
        store = _new_store(out, plan, meta)
        try:
            return _drive(store, plan, budget, session=session, progress=progress,
                          interrupt=interrupt, prior=None)
        finally:
            store.close()


def _prior(store: RunStore, plan: RunPlan) -> Prior:
    meta = store.meta()
    done = frozenset(store.done())
    last = meta.get("last_schedule")
    if plan.sequential and done and (done != frozenset(range(len(done)))
                                     or last is None):
        raise RunDirError(f"{store.run_dir}: the stored {plan.strategy} "
                              "executions cannot be continued; start a new run")
    workers = meta.get("workers")
    return Prior(done, tuple(store.findings()), float(meta.get("wall_seconds", 0)),
                 last if isinstance(last, str) else None,
                 workers if isinstance(workers, dict) else {},
                 tuple(CorpusEntry(*row) for row in store.corpus()))


def _check_model(store: RunStore, plan: RunPlan) -> None:
    stored = store.meta().get("model_fingerprint")
    now = model_fingerprint(plan.scenario_module)
    if stored != now:
        raise RunDirError(f"{store.run_dir} was run against model "
                          f"{str(stored)[:12]}, the current model is {now[:12]} "
                          "(maple/ or the scenario changed); start a new run")


def _nothing_to_do(store: RunStore, progress: Progress, stopped: StopReason,
                   note: str) -> RunResult:
    """A resume with nothing to run: the stored summary, saying why."""
    progress.close()
    return RunResult(store.run_dir, Outcome(stopped, 0, 0.0),
                     summarize(store, session=0, notes=(note,)))


_PROGRESS: dict[str, tuple[type, ...]] = {
    "wall_seconds": (int, float), "last_schedule": (str,), "status": (str,),
    "stopped": (str,)}


def _check_progress(meta: dict[str, object]) -> None:
    """PlanError unless the session progress in @meta has its types."""
    for key, types in _PROGRESS.items():
        value = meta.get(key)
        if key in meta and (isinstance(value, bool) or not isinstance(value, types)):
            raise PlanError(f"the stored {key!r} is {value!r:.40}")
    seconds = meta.get("wall_seconds", 0)
    if isinstance(seconds, int | float) and seconds < 0:
        raise PlanError(f"the stored 'wall_seconds' is {seconds}")


def resume_run(run_dir: Path, *, jobs: int | None, executions: int | None,
               seconds: int | None, progress: Progress, interrupt: Interrupt,
               executor_for: ExecutorFor = local_executor) -> RunResult:
    """Continue the run in @run_dir without repeating stored executions."""
    store = RunStore.open(run_dir, own=True)
    try:
        meta = store.meta()
        if "plan" not in meta or "budget" not in meta:
            raise StoreError(f"{run_dir} is not a stress run (no plan in its store)")
        try:
            plan = RunPlan.from_json(meta["plan"])
            stored = Budget.from_json(meta["budget"])
            _check_progress(meta)
            check_strategy(plan.strategy, plan.strategy_params)
            check_bounds(plan.strategy, dict(plan.strategy_params), plan.max_steps)
        except (PlanError, StrategyParamError) as exc:
            raise StoreError(f"{run_dir} is damaged ({exc}); the run cannot be "
                             "resumed, start a new one") from None
        plan.config()  # the scenario and mutant still exist
        _check_model(store, plan)
        prior = _prior(store, plan)
        if meta.get("stopped") in (StopReason.FINDING, StopReason.EXHAUSTED,
                                   StopReason.SATURATED):
            return _nothing_to_do(store, progress, StopReason(meta["stopped"]),
                                  f"run already ended ({meta['stopped']}); "
                                  "nothing to resume")
        budget = Budget(
            stored.executions if executions is None else executions,
            stored.seconds if seconds is None
            else (int(prior.seconds) + seconds if seconds else 0))
        left = budget.executions - sum(1 for i in prior.done if i < budget.executions)
        if left <= 0 and executions is not None:
            raise RunDirError(f"{run_dir} already has {len(prior.done)} executions; "
                              "--executions sets the run's total: give more than "
                              f"{len(prior.done)}")
        if left <= 0:
            return _nothing_to_do(store, progress, StopReason.EXECUTIONS,
                                  f"run already complete ({len(prior.done)} "
                                  "executions); give --executions N, a new total "
                                  f"above {len(prior.done)}, to extend it")
        if seconds is None and budget.seconds and prior.seconds >= budget.seconds:
            return _nothing_to_do(store, progress, StopReason.TIME,
                                  f"the run's time budget ({budget.seconds} s) is "
                                  "spent; give --time S to run S seconds more")
        with _session(plan, jobs, progress, executor_for) as session:
            store.commit(Batch(meta={"status": "running",
                                     "budget": budget.to_json()}))
            return _drive(store, plan, budget, session=session, progress=progress,
                          interrupt=interrupt, prior=prior)
    finally:
        store.close()
