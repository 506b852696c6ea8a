"""The coordinator: hands out blocks, keeps budgets, commits results in order.

One :class:`Campaign` drives one run.  It cuts the run's indexes into
blocks (:func:`~rcu_harness.campaign.plan.blocks`), keeps up to two blocks
per worker in flight on the :class:`~rcu_harness.campaign.executor.Executor`
(two *bundles* per worker on an executor that takes several consecutive
blocks per task, a cluster's: :meth:`Campaign._fill_bundles`), and absorbs
results strictly in index order, whatever order workers finish in.  That
order is what makes a run independent of ``--jobs``:

* without ``keep_going`` the run ends at its lowest-index violation, and
  nothing after it is kept, exactly as one process would have stopped;
* a finding's ``first_execution`` is its lowest index, and its count the
  number of stored executions that saw it.

Commits (:meth:`~rcu_harness.store.runstore.RunStore.commit`) are batches
of consecutive executions with their findings, samples and progress meta,
made durable together: at once when a batch holds a new finding, else every
:data:`FLUSH_EXECUTIONS` executions or :data:`FLUSH_SECONDS` seconds.  A
kill loses at most the uncommitted tail, which ``--resume`` runs again.

Stopping: the executions budget, the time budget (only stops handing out
blocks; blocks in flight finish and are kept), the first finding (without
``keep_going``), dfs exhaustion, or Ctrl-C / SIGTERM (:class:`Interrupt`):
the first stops like the time budget, a second one stops at once, dropping
the executions in flight (resume runs them again).
An executor that is lost (:class:`~rcu_harness.campaign.executor.ExecutorLost`:
a cluster's scheduler went away) stops the run like a second Ctrl-C: what
was absorbed is committed, blocks in flight are dropped, ``--resume`` runs
them again.  A unit that fails (an exception on a worker) ends the run with
a :class:`CampaignError` after committing what was absorbed.
Wall-clock time decides only when to stop and commit, never what an
execution does.

A guided strategy (``rff``) learns in epochs: blocks are cut at its epoch
boundaries, an epoch's blocks handed out only once the epochs before it are
absorbed, each with their corpus, which is stored with the run
(:mod:`rcu_harness.campaign.epochs`).

Each result names its worker and its busy seconds; the run's meta keeps
per-worker units, executions and seconds (``workers``), over all sessions.
"""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rcu_harness.campaign.epochs import Epochs
from rcu_harness.campaign.executor import ExecutorLost, InlineExecutor, WorkerError
from rcu_harness.campaign.plan import blocks
from rcu_harness.campaign.progress import Snapshot
from rcu_harness.campaign.saturation import Coverage
from rcu_harness.campaign.worker import WorkUnit, run_unit
from rcu_harness.errors import ExecutionAbandoned
from rcu_harness.known.catalogue import known_finding
from rcu_harness.store.runstore import (
    Batch,
    ExecutionRow,
    FindingRow,
    SampleChunk,
    chunk_arrays,
)
from rcu_harness.trace.tracefile import trace_for
from rcu_harness.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from concurrent.futures import Future
    from types import FrameType

    from rcu_harness.campaign.executor import Executor
    from rcu_harness.campaign.plan import Block, Budget, RunPlan
    from rcu_harness.campaign.progress import Progress
    from rcu_harness.campaign.worker import UnitResult
    from rcu_harness.runner.block import Diagnosed, ExecutionResult
    from rcu_harness.sched.rff import CorpusEntry
    from rcu_harness.store.runstore import RunStore
    from rcu_harness.store.samples import Samples

FLUSH_EXECUTIONS = 1000
FLUSH_SECONDS = 2.0
BLOCK = 16
"""Executions per block (a few tenths of a second of work)."""
SEQUENTIAL_BLOCK = 128
"""dfs blocks are bigger: each one retraces one execution first."""


class StopReason(StrEnum):
    """Why a run ended."""

    EXECUTIONS = "executions"
    TIME = "time"
    FINDING = "finding"
    EXHAUSTED = "exhausted"
    INTERRUPTED = "interrupted"
    LOST = "cluster-lost"
    SATURATED = "saturated"


class CampaignError(RuntimeError):
    """A run could not go on (a worker failed); what was committed stays."""


class Interrupt:
    """Counts Ctrl-C and SIGTERM while installed (instead of raising).

    The first one stops the run like a time budget (blocks in flight
    finish and are kept; an inline block stops after its current
    execution).  A second one stops at once: inside an :meth:`abandonable`
    region (an inline block running) the handler raises
    :class:`~rcu_harness.errors.ExecutionAbandoned` wherever the
    execution is, and worker processes are terminated; the executions in
    flight are dropped and re-run on resume.
    """

    def __init__(self) -> None:
        self.count = 0
        self._abandonable = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count > 1 and self._abandonable:
            raise ExecutionAbandoned(f"interrupted ({signal.Signals(signum).name})")

    @contextmanager
    def abandonable(self) -> Iterator[None]:
        """A region a second interrupt may abandon by raising into it."""
        if self.count > 1:
            raise ExecutionAbandoned("interrupted")
        self._abandonable += 1
        try:
            yield
        finally:
            self._abandonable -= 1

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        """Catch SIGINT and SIGTERM in this block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, self._handle)
               for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)


@dataclass(frozen=True, slots=True)
class Prior:
    """What earlier sessions of the run left (empty for a new run)."""

    done: frozenset[int] = frozenset()
    findings: tuple[FindingRow, ...] = ()
    seconds: float = 0.0
    last_schedule: str | None = None
    workers: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per worker: units, executions, seconds (the meta's ``workers``)."""
    corpus: tuple[CorpusEntry, ...] = ()
    """A guided strategy's corpus so far, by execution."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a session of a run ended."""

    stopped: StopReason
    session: int
    """Executions this session added."""
    seconds: float
    detail: str = ""
    """Why the executor was lost (``stopped`` is LOST), else empty."""


class _Pending:
    """Absorbed results not committed yet."""

    def __init__(self) -> None:
        self.rows: list[ExecutionRow] = []
        self.samples: list[tuple[int, Samples]] = []
        self.counts: dict[str, int] = {}
        self.traces: dict[str, str] = {}
        self.pairs: dict[str, tuple[int, int]] = {}
        self.corpus: list[CorpusEntry] = []
        self.since = time.monotonic()

    def add_pairs(self, pairs: Mapping[str, tuple[int, int]]) -> None:
        mine = self.pairs
        for pair, (first, n) in pairs.items():
            got = mine.get(pair)
            mine[pair] = (first, n) if got is None else (min(got[0], first),
                                                          got[1] + n)

    def due(self) -> bool:
        return bool(self.traces) or len(self.rows) >= FLUSH_EXECUTIONS or (
            bool(self.rows) and time.monotonic() - self.since >= FLUSH_SECONDS)


class Campaign:
    """Runs one run's remaining executions and commits them."""

    def __init__(self, store: RunStore, plan: RunPlan, budget: Budget, *,
                 executor: Executor, progress: Progress, interrupt: Interrupt,
                 label: str, prior: Prior | None = None) -> None:
        self.store, self.plan, self.budget = store, plan, budget
        self.executor, self.progress, self.interrupt = executor, progress, interrupt
        self.label = label
        self.prior = prior or Prior()
        self.rows = {f.signature: f for f in self.prior.findings}
        self.last_schedule = self.prior.last_schedule
        self.executions = len(self.prior.done)
        self.session = 0
        self.units = 0
        self.workers = {w: dict(t) for w, t in self.prior.workers.items()}
        self.lost = ""
        self.stop: StopReason | None = None
        self.pending = _Pending()
        self.coverage = Coverage(
            (pair, first) for pair, first, _n in store.reads_from()
        ) if plan.coverage or plan.guided else None
        self.epochs = Epochs(plan, self.prior.corpus)
        self.held: Block | None = None
        """A block waiting for the epochs before it to be absorbed."""
        self.started = time.monotonic()
        self.token = f"{store.run_dir}@{self.started}"
        """Names this session for the workers' memory of diagnosed signatures."""
        self.bundle: int = 1 if plan.sequential else max(
            getattr(executor, "bundle", 1), 1)
        """Units per task of the executor (:meth:`_fill_bundles`)."""
        self.inline = False
        if isinstance(executor, InlineExecutor):
            self.inline = True
            executor.stop = lambda: interrupt.count > 0

    # -- absorbing results, in index order ----------------------------------
    def _new_finding(self, d: Diagnosed) -> None:
        f = d.finding
        trace = trace_for(f, scenario=self.plan.scenario, harness_version=__version__,
                          parameters=dict(self.plan.params), mutant=self.plan.mutant,
                          strategy=self.plan.strategy,
                          strategy_params=dict(self.plan.strategy_params),
                          seed=self.plan.seed, max_steps=self.plan.max_steps,
                          events_digest=d.events_digest,
                          scenario_module=self.plan.scenario_module)
        self.rows[f.signature] = FindingRow(
            f.signature, f.kind, f.message, f.execution, 0,
            f"findings/{f.signature}.json", f.replay_command)
        self.pending.traces[f.signature] = trace.to_json()

    def _count(self, r: ExecutionResult, diagnosed: dict[str, Diagnosed]) -> None:
        sig = r.signature
        assert sig is not None
        if sig not in self.rows:
            self._new_finding(diagnosed.get(sig) or self._diagnose_here(r))
        self.pending.counts[sig] = self.pending.counts.get(sig, 0) + 1
        if not self.plan.keep_going and not self._known(sig):
            self.stop = StopReason.FINDING

    def _known(self, sig: str) -> bool:
        """Is finding @sig a catalogued kernel bug?  Those are counted and
        reported, but do not end the run: a known bug must not hide new ones."""
        row = self.rows[sig]
        return known_finding(row.kind, row.message,
                             self.plan.config().fixes) is not None

    def _diagnose_here(self, r: ExecutionResult) -> Diagnosed:
        """The report of execution @r, made in this process (the worker did
        not send it: an executor that reorders a worker's blocks)."""
        if self.plan.sequential:
            raise CampaignError(f"execution {r.idx}: finding {r.signature} came "
                                "back without its report")
        again = run_unit(WorkUnit(self.plan, r.idx, r.idx + 1,
                                  corpus=self.epochs.corpus_for(r.idx)))
        if not again.findings or again.findings[0].finding.signature != r.signature:
            raise CampaignError(f"execution {r.idx} did not reproduce finding "
                                f"{r.signature}")
        return again.findings[0]

    def _tally(self, result: UnitResult, executions: int) -> None:
        t = self.workers.setdefault(result.worker or "?",
                                    {"units": 0, "executions": 0, "seconds": 0.0})
        t["units"] += 1
        t["executions"] += executions
        t["seconds"] = round(t["seconds"] + result.seconds, 3)

    def _absorb(self, result: UnitResult) -> None:
        self.units += 1
        before = self.session
        try:
            self._absorb_executions(result)
            if self.coverage is not None:
                self._absorb_pairs(result)
        finally:
            self._tally(result, self.session - before)

    def _absorb_executions(self, result: UnitResult) -> None:
        diagnosed = {d.finding.signature: d for d in result.findings}
        for r in result.executions:
            self.pending.rows.append(ExecutionRow(r.idx, r.seed, r.steps, r.wall_ns,
                                                  r.signature, r.counters))
            if r.samples:
                self.pending.samples.append((r.idx, r.samples))
            self.executions += 1
            self.session += 1
            if r.signature is not None:
                self._count(r, diagnosed)
            if self.stop is StopReason.FINDING:
                return
        if result.last_schedule is not None:
            self.last_schedule = result.last_schedule
        if result.exhausted:
            self.stop = StopReason.EXHAUSTED

    def _absorb_pairs(self, result: UnitResult) -> None:
        """The unit's reads-from pairs; with ``until_saturated``, stop once
        coverage saturated (:mod:`rcu_harness.campaign.saturation`)."""
        assert self.coverage is not None
        self.pending.add_pairs(result.reads_from)
        self.pending.corpus.extend(self.epochs.absorb(result, self.coverage.first))
        self.coverage.absorb(result.reads_from)
        n = result.executions[-1].idx + 1 if result.executions else 0
        if self.plan.until_saturated and self.stop is None \
                and self.coverage.saturated(n):
            self.stop = StopReason.SATURATED

    # -- committing ----------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"wall_seconds": round(self.seconds, 3),
                                "workers": dict(sorted(self.workers.items()))}
        if self.last_schedule is not None:
            meta["last_schedule"] = self.last_schedule
        return meta

    def flush(self) -> None:
        """Commit everything absorbed so far (one transaction)."""
        p = self.pending
        samples = None
        if p.samples:
            first, last = p.samples[0][0], p.samples[-1][0]
            samples = SampleChunk(f"e{first:09d}-{last:09d}", first, last,
                                  len(p.samples), chunk_arrays(p.samples))
        findings = tuple((replace(self.rows[sig], count=n), p.traces.get(sig))
                         for sig, n in sorted(p.counts.items()))
        self.store.commit(Batch(tuple(p.rows), findings, samples, self._meta(),
                                p.pairs, tuple((e.execution, e.new, e.schedule)
                                               for e in p.corpus)))
        for sig, n in p.counts.items():
            self.rows[sig] = replace(self.rows[sig],
                                     count=self.rows[sig].count + n)
        self.pending = _Pending()

    # -- the loop --------------------------------------------------------------
    @property
    def seconds(self) -> float:
        """Wall seconds of the run, earlier sessions included."""
        return self.prior.seconds + time.monotonic() - self.started

    def _seconds_left(self) -> float | None:
        if not self.budget.seconds:
            return None
        return self.budget.seconds - self.seconds

    def snapshot(self) -> Snapshot:
        """Where the run stands now."""
        return Snapshot(self.label, self.executions, self.session, len(self.rows),
                        time.monotonic() - self.started, self.budget,
                        self._seconds_left(), self.units)

    def _unit(self, block: Block) -> WorkUnit:
        # A sequential strategy's next block continues from this one's last
        # execution: only a whole block may end it.
        seconds = None if self.plan.sequential else self._seconds_left()
        corpus = self.epochs.hand_out(block)
        return WorkUnit(self.plan, block.start, block.stop, frozenset(self.rows),
                        self.last_schedule if block.start > 0 else None,
                        self.token, seconds, corpus)


    def _capacity(self) -> int:
        if self.plan.sequential:
            return 1
        return max(self.executor.inflight, 1)

    def _draining(self) -> bool:
        """Stop handing out blocks? (sets the reason once)"""
        if self.stop is None and self.interrupt.count:
            self.stop = StopReason.INTERRUPTED
        left = self._seconds_left()
        if self.stop is None and left is not None and left <= 0:
            self.stop = StopReason.TIME
        return self.stop is not None

    def _submit(self, block: Block) -> Future[UnitResult]:
        if not self.inline:
            return self.executor.submit(self._unit(block))
        with self.interrupt.abandonable():
            return self.executor.submit(self._unit(block))

    def _abandon(self, exc: ExecutionAbandoned) -> None:
        """A second interrupt inside an inline block: keep what it finished."""
        self.stop = StopReason.INTERRUPTED
        partial = exc.partial
        if partial is not None:
            self._absorb(partial)  # type: ignore[arg-type]

    def _fill(self, source: Iterator[Block],
              inflight: dict[int, Future[UnitResult]]) -> bool:
        """Submit blocks up to capacity; False once @source has run dry."""
        if self.bundle > 1:
            return self._fill_bundles(source, inflight)
        while not self._draining() and len(inflight) < self._capacity():
            block = self.held or next(source, None)
            self.held = None
            if block is None:
                return False
            if not self.epochs.may_start(block):
                self.held = block
                return True
            try:
                inflight[block.seq] = self._submit(block)
            except ExecutorLost as exc:
                self._lose(exc)
            except ExecutionAbandoned as exc:
                self._abandon(exc)
        return True

    def _fill_bundles(self, source: Iterator[Block],
                      inflight: dict[int, Future[UnitResult]]) -> bool:
        """:meth:`_fill` for an executor that takes several units per task:
        up to :attr:`bundle` consecutive blocks go in one
        :meth:`~rcu_harness.campaign.executor.Executor.submit_many`, once a
        whole bundle fits in the capacity (a bundle's futures complete one
        after another: no sliver of one is refilled alone).  A block that may
        not start yet (its epoch) or the end of @source cuts a bundle short.
        Each block is still its own unit: handed out, absorbed and checked
        for saturation one by one, in index order."""
        while not self._draining():
            capacity = self._capacity()
            size = min(self.bundle, capacity)
            if capacity - len(inflight) < size:
                return True
            group: list[Block] = []
            units: list[WorkUnit] = []
            waiting = False
            while len(group) < size:
                block = self.held or next(source, None)
                self.held = None
                if block is None:
                    break
                if not self.epochs.may_start(block):  # blocks of the group count
                    self.held, waiting = block, True
                    break
                group.append(block)
                units.append(self._unit(block))  # handed out: may_start knows it
            if group:
                try:
                    futures = self.executor.submit_many(units)
                except ExecutorLost as exc:
                    self._lose(exc)
                else:
                    for block, future in zip(group, futures, strict=True):
                        inflight[block.seq] = future
            if len(group) < size:
                return waiting
        return True

    def _ended(self) -> bool:
        """Stop at once (in-flight blocks dropped)?"""
        return self.stop in (StopReason.FINDING, StopReason.EXHAUSTED,
                             StopReason.LOST, StopReason.SATURATED) \
            or self.interrupt.count > 1

    def run(self) -> Outcome:
        """Run until a budget, a finding, exhaustion or an interrupt ends it."""
        size = SEQUENTIAL_BLOCK if self.plan.sequential else BLOCK
        source = self.epochs.cut(blocks(set(self.prior.done),
                                        self.budget.executions, size))
        inflight: dict[int, Future[UnitResult]] = {}
        ready: dict[int, UnitResult] = {}
        next_seq = 0
        more = True
        while True:
            more = more and self._fill(source, inflight)
            if not inflight or self.interrupt.count > 1:
                break
            wait(list(inflight.values()), timeout=0.25, return_when=FIRST_COMPLETED)
            failed: CampaignError | None = None
            for seq in sorted(s for s, f in inflight.items() if f.done()):
                try:
                    result = self._result(inflight.pop(seq))
                except CampaignError as exc:
                    failed = failed or exc  # the lowest unit's
                    continue
                if result is not None:
                    ready[seq] = result
            while next_seq in ready and self.stop not in (
                    StopReason.FINDING, StopReason.EXHAUSTED, StopReason.SATURATED):
                result = ready.pop(next_seq)
                if self.epochs.take(next_seq, result):
                    self._absorb(result)
                next_seq += 1
            if failed is not None:  # after absorbing the units before it
                self.flush()
                raise failed
            if self._ended():
                break
            if self.pending.due():
                self.flush()
            self.progress.update(self.snapshot())
        if self.interrupt.count > 1:
            self.stop = StopReason.INTERRUPTED
            abandon = getattr(self.executor, "abandon", None)
            if abandon is not None:
                abandon()
        for future in inflight.values():
            future.cancel()
        self.flush()
        self.progress.update(self.snapshot())
        return Outcome(self.stop or StopReason.EXECUTIONS, self.session,
                       time.monotonic() - self.started, self.lost)

    def _lose(self, exc: ExecutorLost) -> None:
        if self.stop not in (StopReason.FINDING, StopReason.EXHAUSTED):
            self.stop = StopReason.LOST
            self.lost = self.lost or str(exc).splitlines()[0]

    def _result(self, future: Future[UnitResult]) -> UnitResult | None:
        """The unit's result; None if the executor was lost meanwhile;
        CampaignError (one line) if the unit failed."""
        try:
            return future.result()
        except ExecutorLost as exc:
            self._lose(exc)
            return None
        except WorkerError as exc:
            raise CampaignError(str(exc).splitlines()[0]) from exc
        except Exception as exc:
            raise CampaignError(f"a worker failed: {type(exc).__name__}: "
                                f"{exc}".splitlines()[0]) from exc
