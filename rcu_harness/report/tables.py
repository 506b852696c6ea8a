"""The report's figures as titled tables of text cells.

One table model feeds every output: the terminal (rich), plain text
(``report.txt``) and HTML render the same :class:`Table` objects, so the
three never disagree.  Latency tables print count, mean, standard
deviation, p50, p90, p99, p99.9 and max (:mod:`rcu_harness.report.stats`);
wall-clock times are shown in microseconds (the JSON keeps nanoseconds).
"""

from __future__ import annotations

import bisect
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.runtime.metrics import LEVELS

if TYPE_CHECKING:
    from rcu_harness.report.faults import FaultFigures
    from rcu_harness.report.model import (
        Distribution,
        FindingView,
        Pipeline,
        RunReport,
    )
    from rcu_harness.report.stats import Summary

STAT_COLUMNS = ("n", "mean", "std", "p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table; @note is printed under it (rules, explanations)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def num(x: float | None, scale: float = 1.0) -> str:
    """A number for a table cell (``-`` for none)."""
    if x is None:
        return "-"
    v = float(x) / scale
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if abs(v) >= 1000 else f"{v:.2f}"


def num_like(cell: str) -> bool:
    """Does @cell hold a number (or ``-``)?  Such columns align right."""
    body = cell.replace(",", "").replace(".", "", 1).lstrip("+-").removesuffix("%")
    return body.isdigit() or cell == "-"


def stat_cells(s: Summary | None, scale: float = 1.0) -> tuple[str, ...]:
    """The STAT_COLUMNS cells of @s."""
    if s is None:
        return ("0",) + ("-",) * (len(STAT_COLUMNS) - 1)
    return (f"{s.count:,}", *(num(v, scale) for v in (
        s.mean, s.std, s.p50, s.p90, s.p99, s.p999, s.max)))


def _dist_table(title: str, label: str, rows: list[tuple[str, Distribution]],
                scale: float = 1.0, note: str = "") -> Table:
    return Table(title, (label, *STAT_COLUMNS),
                 tuple((name, *stat_cells(d.summary, scale)) for name, d in rows),
                 note)


def campaign_table(r: RunReport) -> Table:
    """What ran, how much and how fast."""
    c = r.campaign
    plan = c.meta.get("plan")
    meta = {**c.meta, **(plan if isinstance(plan, dict) else {})}
    rows = [("run", c.run_dir)]
    for key in ("label", "scenario", "mutant", "strategy", "strategy_params", "seed",
                "params", "parameters", "status"):
        if meta.get(key) not in (None, "", {}):
            lines = textwrap.wrap(_short(meta[key]), 72, break_on_hyphens=False)
            rows += [(key if i == 0 else "", line) for i, line in enumerate(lines)]
    spe = c.steps_per_execution.summary
    rows += [
        ("executions", f"{c.executions:,}"),
        ("executions with a finding", f"{c.violations:,}"),
        ("distinct findings", f"{c.distinct_findings:,}"),
        ("scheduling points", f"{c.steps:,}"),
        ("points per execution (p50 / max)",
         f"{num(spe.p50 if spe else None)} / {num(spe.max if spe else None)}"),
        ("executions/s", num(c.executions_per_s)),
        ("scheduling points/s", num(c.points_per_s)),
        ("rates over", c.rate_basis),
    ]
    rows += [(f"worker {w.name}", f"{w.executions:,} executions in {w.units:,} "
              f"units, {w.seconds:,.1f} s busy: {num(w.rate)}/s")
             for w in c.workers]
    return Table("Campaign", ("figure", "value"), tuple(rows))


def _short(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def latency_tables(r: RunReport, group: str, title: str) -> list[Table]:
    """Steps and wall-clock tables of the spans of @group."""
    spans = r.group(group)
    if not spans:
        return []
    return [
        _dist_table(f"{title}, scheduling steps", "span",
                    [(s.name, s.steps) for s in spans]),
        _dist_table(f"{title}, wall-clock microseconds", "span",
                    [(s.name, s.ns) for s in spans], scale=1000.0),
    ]


def restart_table(r: RunReport) -> Table | None:
    """Reader restarts on dead nodes per walk."""
    rows = []
    for s in r.group("reader"):
        d = s.extra("restarts")
        if d is None or d.summary is None:
            continue
        x = r.samples.get(f"span.{s.name}.restarts")
        restarted = int((x > 0).sum()) if x is not None else 0
        total = float(x.sum()) if x is not None else 0.0
        rows.append((s.name, f"{d.summary.count:,}", num(total),
                     f"{restarted:,}", num(d.summary.mean), num(d.summary.p99),
                     num(d.summary.max)))
    if not rows:
        return None
    return Table("Reader restarts on dead nodes, per walk",
                 ("span", "walks", "restarts", "walks restarted", "mean", "p99", "max"),
                 tuple(rows))


def extra_tables(r: RunReport) -> list[Table]:
    """Per-span counters other than restarts (entries per walk...)."""
    rows: list[tuple[str, Distribution]] = []
    for s in r.spans:
        rows += [(f"{s.name}: {k}", d) for k, d in s.extras if k != "restarts"]
    return [_dist_table("Per-span counters", "span: counter", rows)] if rows else []


def rcu_table(r: RunReport) -> Table:
    """Grace periods and the memory RCU holds."""
    g = r.rcu
    return _dist_table("Grace periods and memory held by RCU", "figure", [
        ("grace period, start -> end (steps)", g.gp_steps),
        ("call_rcu -> free (steps)", g.free_delay),
        ("objects waiting for a GP: peak per execution", g.waiting_peak),
        ("objects waiting for a GP: mean per execution", g.waiting_mean),
    ], note="Objects waiting: queued with call_rcu() and not yet freed (maple "
            "nodes and kfree_rcu()'d VMAs); the mean is weighted by steps.")


def pipeline_line(p: Pipeline) -> str:
    """rcutorture's one-line form: ``Reader Pipe: 120 3 0 0 ...``."""
    return f"{p.name + ':':<14}{' '.join(str(c) for c in p.counts)}"


def pipeline_table(r: RunReport) -> Table:
    """Reader Pipe and Reader Batch, with their rules."""
    ages = " ".join(str(c) for c in r.retired_ages)
    rows = tuple((f"{p.name} (sections)", " ".join(str(c) for c in p.counts),
                  f"{p.total:,}", p.verdict) for p in (r.pipe, r.batch))
    return Table("rcutorture-style reader histograms (buckets 0..10)",
                 ("histogram", "buckets", "count", "verdict"),
                 (*rows, ("retired-object loads by age", ages,
                          f"{sum(r.retired_ages):,}", "")),
                 note=f"{r.pipe.rule}\n{r.batch.rule}")


def benign_table(r: RunReport) -> Table:
    """Benign outcomes: counted, never failed."""
    return Table("Benign outcomes (counted, not failures)",
                 ("counter", "total", "executions", "meaning"),
                 tuple((b.name, f"{b.total:,}", f"{b.executions:,}", b.meaning)
                       for b in r.benign))


def coverage_table(r: RunReport) -> Table:
    """Reader loads per level during each kind of write."""
    kinds = sorted({(p.span, p.store) for p in r.coverage})
    loads = {(p.span, p.store, p.level): p.loads for p in r.coverage}
    execs: dict[tuple[str, str], int] = {}
    for p in r.coverage:
        key = (p.span, p.store)
        execs[key] = max(execs.get(key, 0), p.executions)
    rows = tuple((span, store, *(f"{loads.get((span, store, lv), 0):,}"
                                 for lv in LEVELS), f"{execs[(span, store)]:,}")
                 for span, store in kinds)
    seen = {p.level for p in r.coverage}
    missing = [lv for lv in LEVELS if lv not in seen]
    note = ("Reader loads made while another thread was inside a write "
            "operation on the same tree, by the reader's position and the "
            "writer's span and write path; 'executions' is the most executions "
            "any one level saw the pair in.")
    if not kinds:
        note += " No reader load was interleaved with a write."
    elif missing:
        note += f" Never interleaved at: {', '.join(missing)}."
    return Table("Coverage: reader position x writer operation",
                 ("writer span", "write path", *LEVELS, "executions"), rows, note)


def saturation_points(n: int) -> list[int]:
    """Execution counts 1, 2, 5, 10, 20, 50 ... below @n, then @n."""
    out, base = [], 1
    while base < n:
        out += [m for m in (base, 2 * base, 5 * base) if m < n]
        base *= 10
    return [*out, n] if n else []


def curve(r: RunReport) -> list[tuple[int, int]]:
    """The saturation curve at :func:`saturation_points`: (executions,
    distinct reads-from pairs the first that many executions made)."""
    firsts = sorted(first for _, first, _ in r.reads_from)
    return [(m, bisect.bisect_left(firsts, m))
            for m in saturation_points(r.campaign.executions)]


def reads_from_table(r: RunReport) -> Table | None:
    """The saturation curve and the pairs found last (None: not measured)."""
    if not r.reads_from:
        return None
    points = curve(r)
    n, total = points[-1]
    half = bisect.bisect_left(sorted(f for _, f, _ in r.reads_from), n // 2)
    rows = tuple((f"{m:,}", f"{c:,}") for m, c in points)
    late = ", ".join(f"{p} (execution {first})"
                     for p, first, _ in r.reads_from[-3:])
    note = (f"Distinct reads-from pairs (word: write site -> read site) made by "
            f"the first N executions.  The second half of the run added "
            f"{total - half:,} of {total:,} ({100 * (total - half) / total:.1f}%; "
            f"saturated when at most 1%, docs/search.md).  Found last: {late}.")
    return Table("Reads-from coverage (saturation curve)",
                 ("executions", "distinct pairs"), rows, note)


def findings_table(r: RunReport) -> Table | None:
    """The distinct findings."""
    if not r.findings:
        return None
    rows = tuple((f.signature, f.kind, f"{f.count:,}", str(f.first_execution),
                  f.message) for f in r.findings)
    notes = []
    for f in r.findings:
        notes.append(f"{f.signature}: replay with {f.replay}")
        if life := finding_lifecycle(f):
            notes.append(f"{f.signature}: {life}")
        if f.problem:
            notes.append(f"{f.signature}: no swimlane ({f.problem})")
    return Table("Findings", ("signature", "kind", "count", "first execution",
                              "message"), rows, note="\n".join(notes))


def finding_lifecycle(f: FindingView) -> str:
    """One line: the object's allocation, death, call_rcu, free and the access."""
    parts = [f"{m.what} by {m.thread} at step {m.step}" for m in f.lifecycle]
    if parts and f.thread:
        parts.append(f"faulting access by {f.thread} at step {f.step}")
    return "; ".join(parts)


def fault_tables(f: FaultFigures) -> list[Table]:
    """The page-fault latency report (see :mod:`rcu_harness.report.faults`)."""
    pct = (lambda k: f"{100.0 * k / f.faults:.1f}%") if f.faults else str
    per_fault = Table(
        "Page faults under per-VMA locks, per fault", ("figure", *STAT_COLUMNS),
        (("scheduling steps", *stat_cells(f.steps)),
         ("retries (VMA_LOCK_MISS + VMA_LOCK_RETRY)", *stat_cells(f.retries))),
        note=f"{f.faults:,} faults; {f.fallback:,} ({pct(f.fallback)}) took the "
             f"mmap_lock path; {f.sigsegv:,} ({pct(f.sigsegv)}) ended in SIGSEGV.")
    events = Table(
        "VMA lock events (the kernel's vmstat VMA_LOCK_*)",
        ("event", "total", "per fault", "meaning"),
        tuple((e.name, f"{e.total:,}", f"{e.per_fault:.3f}", e.meaning)
              for e in f.events)
        + tuple((name, f"{n:,}", f"{n / f.faults:.3f}" if f.faults else "0", "")
                for name, n in f.extra_counters))
    hists = Table(
        "rcutorture-style fault histograms (buckets 0..10)",
        ("histogram", "buckets", "faults"),
        (("Fault retries", " ".join(str(c) for c in f.retry_hist),
          f"{sum(f.retry_hist):,}"),
         ("Fault steps (2^(k+5))", " ".join(str(c) for c in f.step_hist),
          f"{sum(f.step_hist):,}")),
        note="Fault retries: bucket k counts faults that walked or faulted "
             "again k times. Fault steps: bucket k counts faults of fewer than "
             "2^(k+5) scheduling steps (0: < 32, 1: < 64 ...); the last bucket "
             "collects the rest. A correct kernel keeps retries rare: a VMA "
             "is detached under a walk only in a narrow window.")
    return [per_fault, events, hists]


def report_tables(r: RunReport) -> list[Table]:
    """Every table of a run's report, in reading order."""
    tables = [campaign_table(r)]
    tables += latency_tables(r, "reader", "Reader latency")
    tables += [t for t in (restart_table(r),) if t is not None]
    tables += fault_tables(r.faults) if r.faults is not None else []
    tables += latency_tables(r, "writer", "Writer latency")
    tables += latency_tables(r, "other", "Other spans")
    tables += extra_tables(r)
    tables += [rcu_table(r), pipeline_table(r), benign_table(r), coverage_table(r)]
    if (rf := reads_from_table(r)) is not None:
        tables.append(rf)
    tables += [t for t in (findings_table(r),) if t is not None]
    return tables
