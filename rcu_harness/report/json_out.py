"""The report as JSON: every figure, machine-readable (``report.json``).

Layout (``format`` :data:`FORMAT`)::

    campaign   executions, steps, wall_ns, violations, distinct_findings,
               executions_per_s, points_per_s, rate_basis, meta,
               steps_per_execution, workers ([{name, units, executions,
               seconds (busy), executions_per_s}])
    spans      {name: {group, steps, ns, extras: {counter: ...}}}
    rcu        gp_steps, free_delay_steps, waiting_peak, waiting_mean
    pipeline   pipe and batch ({counts, illegal, verdict, rule}),
               retired_ages (counts)
    benign     {counter: {total, executions, meaning}}
    faults     null, or {faults, steps, retries (summaries), fallback, sigsegv,
               events: {VMA_LOCK_*: {counter, total, per_fault}}, retry_hist,
               step_hist} (page faults under per-VMA locks)
    coverage   [{level, span, store, loads, executions}]
    reads_from {pairs: [{pair, first_execution, executions}], curve:
               [[executions, distinct pairs]]} (empty without --coverage)
    findings   [{signature, kind, message, count, first_execution, replay,
                 trace, thread, step, addr, lifecycle, events, problem}]

Every distribution is ``{"summary": {count, mean, std, min, p50, p90, p99,
p99.9, max} or null, "histogram": {edges, counts}}``; wall-clock values are
nanoseconds, everything else scheduling steps or counts.  A finding's
``events`` is the number of events its trace holds (the events themselves
stay in the trace file).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rcu_harness.report.tables import curve

if TYPE_CHECKING:
    from pathlib import Path

    from rcu_harness.report.model import Distribution, Pipeline, RunReport

FORMAT = 1


def dist(d: Distribution) -> dict[str, Any]:
    """A distribution as JSON."""
    return {"summary": d.summary.as_dict() if d.summary else None,
            "histogram": d.hist.as_dict()}


def _pipeline(p: Pipeline) -> dict[str, Any]:
    return {"counts": list(p.counts), "sections": p.total, "illegal": p.illegal,
            "verdict": p.verdict, "rule": p.rule}


def report_dict(r: RunReport) -> dict[str, Any]:
    """Every figure of @r as plain JSON data."""
    c = r.campaign
    return {
        "format": FORMAT,
        "campaign": {
            "run_dir": c.run_dir, "meta": dict(c.meta), "executions": c.executions,
            "steps": c.steps, "wall_ns": c.wall_ns, "violations": c.violations,
            "distinct_findings": c.distinct_findings,
            "executions_per_s": c.executions_per_s, "points_per_s": c.points_per_s,
            "rate_basis": c.rate_basis,
            "steps_per_execution": dist(c.steps_per_execution),
            "workers": [{"name": w.name, "units": w.units,
                         "executions": w.executions, "seconds": w.seconds,
                         "executions_per_s": w.rate} for w in c.workers]},
        "spans": {s.name: {"group": s.group, "steps": dist(s.steps), "ns": dist(s.ns),
                           "extras": {k: dist(d) for k, d in s.extras}}
                  for s in r.spans},
        "rcu": {"gp_steps": dist(r.rcu.gp_steps),
                "free_delay_steps": dist(r.rcu.free_delay),
                "waiting_peak": dist(r.rcu.waiting_peak),
                "waiting_mean": dist(r.rcu.waiting_mean)},
        "pipeline": {"pipe": _pipeline(r.pipe), "batch": _pipeline(r.batch),
                     "retired_ages": list(r.retired_ages)},
        "benign": {b.name: {"total": b.total, "executions": b.executions,
                            "meaning": b.meaning} for b in r.benign},
        "faults": None if r.faults is None else {
            "faults": r.faults.faults,
            "steps": r.faults.steps.as_dict() if r.faults.steps else None,
            "retries": r.faults.retries.as_dict() if r.faults.retries else None,
            "fallback": r.faults.fallback, "sigsegv": r.faults.sigsegv,
            "events": {e.name: {"counter": e.counter, "total": e.total,
                                "per_fault": e.per_fault} for e in r.faults.events},
            "retry_hist": list(r.faults.retry_hist),
            "step_hist": list(r.faults.step_hist)},
        "coverage": [{"level": p.level, "span": p.span, "store": p.store,
                      "loads": p.loads, "executions": p.executions}
                     for p in r.coverage],
        "reads_from": {"pairs": [{"pair": p, "first_execution": first,
                                  "executions": n} for p, first, n in r.reads_from],
                       "curve": [list(c) for c in curve(r)] if r.reads_from
                       else []},
        "findings": [{
            "signature": f.signature, "kind": f.kind, "message": f.message,
            "count": f.count, "first_execution": f.first_execution,
            "replay": f.replay, "trace": f.trace, "thread": f.thread,
            "step": f.step, "addr": f.addr,
            "lifecycle": [{"what": m.what, "thread": m.thread, "step": m.step}
                          for m in f.lifecycle],
            "events": len(f.events), "problem": f.problem} for f in r.findings],
    }


def to_json(data: object) -> str:
    """Canonical JSON text (sorted keys, indented, trailing newline)."""
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def write_json(path: Path, r: RunReport) -> None:
    """Write @r's figures to @path."""
    path.write_text(to_json(report_dict(r)))
