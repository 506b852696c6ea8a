"""The figures of one stored run, loaded into frozen dataclasses.

:func:`load_run` reads a run directory through
:class:`~rcu_harness.store.runstore.RunStore` (meta, per-execution rows,
findings and their trace files, sample chunks) and computes every figure a
report shows; nothing is rerun.  The sample names are those of
:mod:`rcu_harness.runtime.metrics`.  Figures:

* campaign: executions, scheduling points (steps), executions with a
  finding; executions/s and points/s, over the campaign's elapsed time
  when the run's meta records it (``wall_seconds``, as the campaign
  writes it, or ``elapsed_s``, or ``started`` and
  ``finished`` as Unix times), else over the sum of the executions' own
  wall-clock times (the rate of one worker); per worker (a local process or
  a cluster worker, the meta's ``workers``): units, executions, busy
  seconds and executions per busy second;
* spans (``h.span``), grouped as readers (``reader.*``), writers
  (``dup_mmap``, ``dup_mmap.*``, ``writer.*``, ``rcu_mode.*``,
  ``exit_mmap``) and others: latency in steps and in wall-clock ns, and
  each per-span counter; reader spans always have ``restarts`` (reader
  restarts on dead nodes per walk; 0 where none was counted);
* RCU: grace-period duration (``value.rcu.gp_steps``), call_rcu -> free
  (``rcu.free_delay_steps``), objects waiting for a grace period per
  execution: the peak (``rcu.waiting_peak``) and the time-weighted mean of
  the ``rcu.waiting`` series over the execution's steps;
* rcutorture's Reader Pipe and Reader Batch (``rcu.pipe``, ``rcu.batch``)
  as 11-bucket histograms with their rules, and the ages of reader loads of
  retired objects (``rcu.retired_age``);
* benign counters summed over executions (``teardown_in_rcu_mode``: the
  extra RCU cycles of the tear-down race; ``reader_restart``; ...), with the
  number of executions that counted each;
* coverage pairs (``cover.*``): loads and executions per (reader level,
  writer span, write path);
* page faults under per-VMA locks (``span.fault.*`` and the VMA_LOCK_*
  counters), when the run has any: :mod:`rcu_harness.report.faults`;
* findings, each with its trace file's events and its object's life cycle.

Bad input raises :class:`ReportError` with a one-line message: a missing
or non-run directory, an empty run (no executions), or a corrupt sample
file or store.
"""

from __future__ import annotations

import sqlite3
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rcu_harness.invocation import runnable
from rcu_harness.report.faults import FaultFigures, fault_figures
from rcu_harness.report.stats import (
    Histogram,
    Summary,
    buckets,
    histogram,
    per_owner,
    summarize,
    time_weighted_mean,
)
from rcu_harness.runtime.metrics import BATCH_RULE, LEGAL_AGES, PIPE_LEN, PIPE_RULE
from rcu_harness.store.runstore import RunStore, StoreError
from rcu_harness.trace.tracefile import TraceError, load_trace

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from rcu_harness.store.runstore import ExecutionRow, FindingRow
    from rcu_harness.trace.tracefile import TraceEvent, TraceMark

EMPTY = np.zeros(0, dtype=np.int64)
WRITER_SPANS = ("dup_mmap", "writer.", "rcu_mode.", "exit_mmap")
BENIGN = {
    "teardown_in_rcu_mode": "extra RCU cycles: a dying tree torn down in RCU "
                            "mode (the benign mmget_not_zero() race)",
    "reader_restart": "reader restarts on dead nodes",
    "mmget_not_zero_failed": "lockless readers that found the mm dying",
    "rcu_grace_periods": "grace periods run",
    "vma_lock_success": "VMA_LOCK_SUCCESS: faults handled under a per-VMA lock",
    "vma_lock_abort": "VMA_LOCK_ABORT: lock_vma_under_rcu() gave up (hole, VMA "
                      "being written, bounds changed): the mmap_lock path",
    "vma_lock_miss": "VMA_LOCK_MISS: the VMA was detached after the walk: walk again",
    "vma_lock_retry": "VMA_LOCK_RETRY: the fault needed the mmap_lock after all",
    "lock_vma_under_rcu_miss": "lockless fault reads that fell back to the mmap_lock",
    "stack_expanded": "stacks expanded by a fault (mmap_lock taken for write)",
    "fault_sigsegv": "faults on no VMA or a bad access (SIGSEGV)",
    "fault_cow": "write faults on pages fork write-protected",
    "vma_reuse_across_mm": "VMAs one mm freed that another mm's vm_area_alloc() "
                           "got back (SLAB_TYPESAFE_BY_RCU)",
    "vma_reused_other_mm": "vma_start_read() took a reference on a VMA reused by "
                           "another mm (then dropped it: the vm_mm check)",
}


class ReportError(ValueError):
    """A run cannot be reported on; the message is one line."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """A sample's summary (None when empty) and histogram."""

    summary: Summary | None
    hist: Histogram

    @classmethod
    def of(cls, values: np.ndarray) -> Distribution:
        """The distribution of @values."""
        return cls(summarize(values), histogram(values))


@dataclass(frozen=True, slots=True)
class WorkerFigure:
    """What one worker (a local process, a cluster worker) did for the run."""

    name: str
    units: int
    executions: int
    seconds: float
    """Busy seconds: the sum of its units' wall time."""

    @property
    def rate(self) -> float:
        """Executions per busy second."""
        return self.executions / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Campaign:
    """How much the run did and how fast."""

    run_dir: str
    meta: Mapping[str, Any]
    executions: int
    steps: int
    wall_ns: int
    violations: int
    """Executions that ended in a finding."""
    distinct_findings: int
    executions_per_s: float
    points_per_s: float
    rate_basis: str
    steps_per_execution: Distribution
    workers: tuple[WorkerFigure, ...] = ()
    """Per worker, from the meta's ``workers`` (all sessions), by name."""


@dataclass(frozen=True, slots=True)
class SpanFigure:
    """Latency of one span name."""

    name: str
    group: str
    """``reader``, ``writer`` or ``other``."""
    steps: Distribution
    ns: Distribution
    extras: tuple[tuple[str, Distribution], ...]
    """Per-span counters (``restarts``, ``entries``...), by name."""

    def extra(self, key: str) -> Distribution | None:
        """The counter @key, if the span has it."""
        return dict(self.extras).get(key)


@dataclass(frozen=True, slots=True)
class RcuFigures:
    """Grace periods and the memory RCU holds."""

    gp_steps: Distribution
    free_delay: Distribution
    waiting_peak: Distribution
    """Per execution: most objects waiting for a grace period at once."""
    waiting_mean: Distribution
    """Per execution: objects waiting, averaged over its steps."""


@dataclass(frozen=True, slots=True)
class Pipeline:
    """An rcutorture-style histogram with the rule that decides failure."""

    name: str
    counts: tuple[int, ...]
    rule: str

    @property
    def total(self) -> int:
        """Read-side sections counted."""
        return sum(self.counts)

    @property
    def illegal(self) -> int:
        """Sections past the legal buckets."""
        return sum(self.counts[LEGAL_AGES:])

    @property
    def verdict(self) -> str:
        """``ok`` or rcutorture's ``!!!`` with the count."""
        if not self.illegal:
            return "ok"
        last = LEGAL_AGES - 1
        return f"!!! {self.illegal} sections past bucket {last}: RCU is broken"


@dataclass(frozen=True, slots=True)
class Benign:
    """A benign counter over the run."""

    name: str
    total: int
    executions: int
    meaning: str


@dataclass(frozen=True, slots=True)
class CoverPair:
    """Reader loads at one level during one kind of write."""

    level: str
    span: str
    store: str
    loads: int
    executions: int


@dataclass(frozen=True, slots=True)
class FindingView:
    """A distinct finding with its trace's events."""

    signature: str
    kind: str
    message: str
    count: int
    first_execution: int
    replay: str
    trace: str
    thread: str = ""
    step: int = 0
    addr: str = ""
    lifecycle: tuple[TraceMark, ...] = ()
    events: tuple[TraceEvent, ...] = ()
    problem: str = ""
    """Why the trace file could not be read ("" when it was)."""
    report: str = ""
    """The finding's report (KASAN or lockdep layout, call traces, the
    interleaving excerpt, the replay command), as the run printed it."""


@dataclass(frozen=True, slots=True)
class RunReport:
    """Every figure of one run."""

    campaign: Campaign
    spans: tuple[SpanFigure, ...]
    rcu: RcuFigures
    pipe: Pipeline
    batch: Pipeline
    retired_ages: tuple[int, ...]
    """Reader loads of retired objects, bucketed by age like the pipe."""
    benign: tuple[Benign, ...]
    coverage: tuple[CoverPair, ...]
    findings: tuple[FindingView, ...]
    samples: Mapping[str, np.ndarray] = field(compare=False, repr=False)
    """The raw samples (for plots)."""
    faults: FaultFigures | None = None
    """Page faults under per-VMA locks (None: the run took none)."""
    reads_from: tuple[tuple[str, int, int], ...] = ()
    """Reads-from pairs (pair, first execution, executions that made it), by
    first execution; empty for a run without ``--coverage``."""

    def group(self, name: str) -> tuple[SpanFigure, ...]:
        """The span figures of group @name."""
        return tuple(s for s in self.spans if s.group == name)


def one_line(exc: BaseException) -> str:
    """@exc's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _read_store(run_dir: Path) -> tuple[dict[str, Any], list[ExecutionRow],
                                         list[FindingRow], dict[str, np.ndarray]]:
    if not run_dir.exists():
        raise ReportError(f"{run_dir}: no such run directory")
    try:
        store = RunStore.open(run_dir)
    except StoreError as e:
        raise ReportError(one_line(e)) from None
    try:
        rows = store.executions()
        meta, findings = store.meta(), store.findings()
        meta["reads_from"] = store.reads_from()
        samples = store.samples() if rows else {}
    except StoreError as e:
        raise ReportError(one_line(e)) from None
    except (sqlite3.DatabaseError, zipfile.BadZipFile, zlib.error, OSError,
            ValueError, EOFError, KeyError) as e:
        raise ReportError(f"{run_dir}: corrupt run store or sample file "
                          f"({one_line(e)})") from None
    finally:
        store.close()
    if not rows:
        raise ReportError(f"{run_dir}: empty run (no executions stored)")
    return meta, rows, findings, samples


def _check_samples(run_dir: Path, samples: Mapping[str, np.ndarray]) -> None:
    for key, arr in samples.items():
        owners = samples.get(f"{key}@exec")
        if not key.endswith("@exec") and (owners is None or len(owners) != len(arr)):
            raise ReportError(f"{run_dir}: corrupt sample file (sample {key!r} has "
                              "no matching execution index)")


def _elapsed(meta: Mapping[str, Any]) -> float | None:
    for key in ("wall_seconds", "elapsed_s"):
        value = meta.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and value > 0:
            return float(value)
    start, end = meta.get("started"), meta.get("finished")
    if isinstance(start, int | float) and isinstance(end, int | float) and end > start:
        return float(end - start)
    return None


def _campaign(run_dir: Path, meta: dict[str, Any], rows: list[ExecutionRow],
              findings: list[FindingRow]) -> Campaign:
    steps = np.array([r.steps for r in rows], dtype=np.int64)
    wall = int(sum(r.wall_ns for r in rows))
    elapsed = _elapsed(meta)
    if elapsed is not None:
        secs, basis = elapsed, "campaign elapsed time (meta)"
    else:
        secs, basis = wall / 1e9, "sum of per-execution wall-clock times"
    n = len(rows)
    return Campaign(
        run_dir=str(run_dir), meta=meta, executions=n, steps=int(steps.sum()),
        wall_ns=wall, violations=sum(1 for r in rows if r.finding),
        distinct_findings=len(findings),
        executions_per_s=n / secs if secs > 0 else 0.0,
        points_per_s=float(steps.sum()) / secs if secs > 0 else 0.0,
        rate_basis=basis, steps_per_execution=Distribution.of(steps),
        workers=_workers(meta))


def _workers(meta: Mapping[str, Any]) -> tuple[WorkerFigure, ...]:
    tallies = meta.get("workers")
    if not isinstance(tallies, dict):
        return ()
    return tuple(WorkerFigure(str(name), int(t.get("units", 0)),
                              int(t.get("executions", 0)),
                              float(t.get("seconds", 0.0)))
                 for name, t in sorted(tallies.items()) if isinstance(t, dict))


def _group(name: str) -> str:
    if name.startswith("reader."):
        return "reader"
    if name.startswith(WRITER_SPANS):
        return "writer"
    return "other"


def _aligned(samples: Mapping[str, np.ndarray], key: str,
             span_owners: np.ndarray) -> np.ndarray:
    """Counter @key with a 0 for each span of an execution that lacks it
    (collect() adds a counter only in executions where some span set it)."""
    values = samples[key]
    have = samples.get(f"{key}@exec", EMPTY)
    missing = int(np.count_nonzero(~np.isin(span_owners, have)))
    return np.concatenate([values.astype(np.float64), np.zeros(missing)])


def _spans(samples: Mapping[str, np.ndarray]) -> tuple[SpanFigure, ...]:
    names = sorted(k[len("span."):-len(".steps")] for k in samples
                   if k.startswith("span.") and k.endswith(".steps"))
    out = []
    for name in names:
        prefix = f"span.{name}."
        steps = samples[f"{prefix}steps"]
        keys = sorted(k[len(prefix):] for k in samples if k.startswith(prefix)
                      and "." not in k[len(prefix):] and "@" not in k[len(prefix):]
                      and k[len(prefix):] not in ("steps", "ns"))
        owners = samples.get(f"{prefix}steps@exec", EMPTY)
        extras = {k: _aligned(samples, prefix + k, owners) for k in keys}
        group = _group(name)
        if group == "reader" and "restarts" not in extras:
            extras["restarts"] = np.zeros(len(steps))
        out.append(SpanFigure(
            name, group, Distribution.of(steps),
            Distribution.of(samples.get(f"{prefix}ns", EMPTY)),
            tuple((k, Distribution.of(v)) for k, v in sorted(extras.items()))))
    return tuple(out)


def _rcu(samples: Mapping[str, np.ndarray], rows: list[ExecutionRow]) -> RcuFigures:
    series = samples.get("rcu.waiting", EMPTY.reshape(0, 2)).reshape(-1, 2)
    owners = samples.get("rcu.waiting@exec", EMPTY)
    by_exec = per_owner(series, owners)
    means = np.array([time_weighted_mean(by_exec.get(r.idx, EMPTY), r.steps)
                      for r in rows if "rcu.waiting_peak" in samples])
    return RcuFigures(
        gp_steps=Distribution.of(samples.get("value.rcu.gp_steps", EMPTY)),
        free_delay=Distribution.of(samples.get("rcu.free_delay_steps", EMPTY)),
        waiting_peak=Distribution.of(samples.get("rcu.waiting_peak", EMPTY)),
        waiting_mean=Distribution.of(means))


def _benign(rows: list[ExecutionRow]) -> tuple[Benign, ...]:
    names = sorted({k for r in rows for k in r.counters} | {"teardown_in_rcu_mode"})
    return tuple(Benign(name, sum(int(r.counters.get(name, 0)) for r in rows),
                        sum(1 for r in rows if r.counters.get(name, 0)),
                        BENIGN.get(name, "")) for name in names)


def _coverage(samples: Mapping[str, np.ndarray]) -> tuple[CoverPair, ...]:
    out = []
    for key in sorted(samples):
        if not key.startswith("cover.") or key.endswith("@exec"):
            continue
        rest = key[len("cover."):]
        level, _, tail = rest.partition(".")
        span, _, store = tail.rpartition(".")
        values = samples[key]
        out.append(CoverPair(level, span, store, int(np.sum(values)),
                             int(np.count_nonzero(values))))
    return tuple(out)


def _finding(run_dir: Path, row: FindingRow) -> FindingView:
    base = FindingView(row.signature, row.kind, row.message, row.count,
                       row.first_execution, runnable(row.replay), row.trace)
    try:
        trace = load_trace(run_dir / row.trace, check_fingerprint=False)
    except TraceError as e:
        return _replace(base, problem=one_line(e))
    tf = trace.finding
    if tf is None:
        return _replace(base, events=trace.events, problem="the trace has no finding")
    return _replace(base, thread=tf.thread, step=tf.step, addr=tf.addr,
                    lifecycle=tf.lifecycle, events=trace.events, report=tf.report,
                    problem="" if trace.events else
                    f"trace format {trace.format} has no events")


def _replace(view: FindingView, **changes: Any) -> FindingView:
    from dataclasses import replace

    return replace(view, **changes)


def load_run(run_dir: Path) -> RunReport:
    """Every figure of the run in @run_dir; ReportError on bad input."""
    meta, rows, findings, samples = _read_store(run_dir)
    pairs = tuple(meta.pop("reads_from"))
    _check_samples(run_dir, samples)
    return RunReport(
        campaign=_campaign(run_dir, meta, rows, findings),
        spans=_spans(samples),
        rcu=_rcu(samples, rows),
        pipe=Pipeline("Reader Pipe",
                      buckets(samples.get("rcu.pipe", EMPTY), PIPE_LEN), PIPE_RULE),
        batch=Pipeline("Reader Batch",
                       buckets(samples.get("rcu.batch", EMPTY), PIPE_LEN), BATCH_RULE),
        retired_ages=buckets(samples.get("rcu.retired_age", EMPTY), PIPE_LEN),
        benign=_benign(rows),
        coverage=_coverage(samples),
        findings=tuple(_finding(run_dir, row) for row in findings),
        samples=samples,
        faults=fault_figures(samples, rows), reads_from=pairs)
