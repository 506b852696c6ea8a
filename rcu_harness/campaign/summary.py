"""Run summaries: what ``stress`` prints at the end, read back from the store.

A summary is built from the run directory, never from the coordinator's
memory, so it shows exactly what was committed.  :meth:`RunSummary.to_json`
is the object ``stress --json`` prints for one run; :func:`combine` is the
object for a job of several runs (sums at top level, one object per run in
``runs``); :func:`render` is the text form.  Commands in both name the
interpreter or console script running now
(:func:`~rcu_harness.invocation.runnable`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcu_harness.invocation import command, runnable
from rcu_harness.known.catalogue import CATALOGUE, known_finding
from rcu_harness.scenarios.spec import KERNEL_FIXES

KERNEL_META = "kernel_confirmation"
"""The run meta key ``oracle confirm`` records its verdicts under
(:data:`rcu_harness.oracle.confirm.KERNEL_META`)."""

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from rcu_harness.store.runstore import RunStore


@dataclass(frozen=True, slots=True)
class FindingSummary:
    """One distinct finding of a run."""

    signature: str
    kind: str
    message: str
    count: int
    first_execution: int
    trace: str
    """Path of the trace file."""
    replay: str
    """The exact replay command (by seed and execution)."""
    known: str = ""
    """The id of the catalogued kernel bug it matches, or "" (new)."""
    kernel: tuple[str, str] = ("unchecked", "")
    """``oracle confirm``'s verdict (confirmed, model-only, not-expressible,
    unchecked) and its reason."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {"signature": self.signature, "kind": self.kind,
                "message": self.message, "count": self.count,
                "first_execution": self.first_execution, "trace": self.trace,
                "replay": runnable(self.replay),
                "replay_trace": command("replay", shlex.quote(self.trace)),
                "known": self.known or None, "kernel": self.kernel[0],
                "kernel_why": self.kernel[1] or None}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run, as stored."""

    run_dir: str
    label: str
    executions: int
    session_executions: int
    steps: int
    wall_seconds: float
    stopped: str
    status: str
    findings: tuple[FindingSummary, ...]
    counters: Mapping[str, int]
    plan: Mapping[str, Any]
    notes: tuple[str, ...] = field(default=())
    workers: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per worker: units, executions, busy seconds (all sessions)."""

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of one run."""
        return {"run_dir": self.run_dir, "label": self.label,
                "executions": self.executions,
                "session_executions": self.session_executions,
                "steps": self.steps, "wall_seconds": round(self.wall_seconds, 3),
                "stopped": self.stopped, "status": self.status,
                "findings": [f.to_json() for f in self.findings],
                "counters": dict(self.counters), "plan": dict(self.plan),
                "notes": list(self.notes),
                "workers": {w: dict(t) for w, t in self.workers.items()}}


def summarize(store: RunStore, *, session: int, notes: Sequence[str] = ()
              ) -> RunSummary:
    """The summary of the run in @store (@session: executions this session)."""
    meta = store.meta()
    totals = store.totals()
    run_dir: Path = store.run_dir
    plan = meta.get("plan", {})
    kernel = meta.get(KERNEL_META, {})
    findings = tuple(FindingSummary(f.signature, f.kind, f.message, f.count,
                                    f.first_execution, str(run_dir / f.trace),
                                    f.replay,
                                    _known_id(f.kind, f.message, _fixes(plan)),
                                    tuple(kernel.get(f.signature,
                                                     ("unchecked", ""))))
                     for f in store.findings())
    return RunSummary(str(run_dir), str(meta.get("label", run_dir.name)),
                      totals.executions, session, totals.steps,
                      float(meta.get("wall_seconds", 0.0)),
                      str(meta.get("stopped", "")), str(meta.get("status", "")),
                      findings, dict(totals.counters), plan, tuple(notes),
                      _workers(meta.get("workers")))


def _workers(value: object) -> dict[str, dict[str, float]]:
    if not isinstance(value, dict):
        return {}
    return {str(w): dict(t) for w, t in sorted(value.items()) if isinstance(t, dict)}


def _fixes(plan: Mapping[str, Any]) -> tuple[str, ...]:
    """The candidate kernel fixes a stored run's @plan applies."""
    params = plan.get("params", {})
    text = str(params.get(KERNEL_FIXES, "")) if isinstance(params, dict) else ""
    return tuple(name for name in text.split(",") if name)


def _known_id(kind: str, message: str, fixes: tuple[str, ...]) -> str:
    """The catalogue id of a finding that is a known kernel bug present in
    its run (which applies the candidate fixes @fixes), else ""."""
    entry = known_finding(kind, message, fixes)
    return entry.id if entry is not None else ""


def new_findings(runs: Sequence[RunSummary], *, strict: bool = False) -> int:
    """How many distinct findings are new (all of them when @strict)."""
    return sum(1 for r in runs for f in r.findings if strict or not f.known)


def combine(runs: Sequence[RunSummary], job: str, *, planned: int | None = None
            ) -> dict[str, Any]:
    """The ``--json`` object of a job of several runs (@planned of them, of
    which @runs ran: an interrupt leaves the rest not started)."""
    planned = len(runs) if planned is None else planned
    counters: dict[str, int] = {}
    for r in runs:
        for key, n in r.counters.items():
            counters[key] = counters.get(key, 0) + n
    return {"job": job, "run_dir": None,
            "run_dirs": [r.run_dir for r in runs],
            "executions": sum(r.executions for r in runs),
            "session_executions": sum(r.session_executions for r in runs),
            "steps": sum(r.steps for r in runs),
            "wall_seconds": round(sum(r.wall_seconds for r in runs), 3),
            "findings": [dict(f.to_json(), run_dir=r.run_dir)
                         for r in runs for f in r.findings],
            "counters": dict(sorted(counters.items())),
            "runs_planned": planned, "runs_not_started": planned - len(runs),
            "runs": [r.to_json() for r in runs]}


def _rate(s: RunSummary) -> str:
    rate = s.executions / s.wall_seconds if s.wall_seconds > 0 else 0.0
    return f"{rate:.1f} executions/s"


def _worker_line(s: RunSummary) -> list[str]:
    if len(s.workers) < 2:
        return []
    parts = []
    for name, t in s.workers.items():
        busy = t.get("seconds", 0.0)
        rate = t.get("executions", 0) / busy if busy > 0 else 0.0
        parts.append(f"{name} {int(t.get('executions', 0))} ({rate:.1f}/s)")
    return ["  workers (executions, per busy second): " + ", ".join(parts)]


def render(s: RunSummary) -> str:
    """The text summary of one run."""
    lines = [f"run {s.run_dir}",
             f"  {s.label}: {s.executions} executions, {s.steps} steps, "
             f"{s.wall_seconds:.1f} s ({_rate(s)}); stopped: {s.stopped}",
             *_worker_line(s)]
    lines += [f"  note: {n}" for n in s.notes]
    if s.status == "interrupted":
        lines.append("  interrupted; continue with: "
                     + command("stress", "--resume", shlex.quote(s.run_dir)))
    if s.counters:
        lines.append("  benign: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(s.counters.items())))
    if not s.findings:
        lines.append("  no findings")
    known = sum(1 for f in s.findings if f.known)
    if known:
        lines.append(f"  {known} known kernel bug{'s' if known != 1 else ''} "
                     f"(catalogued; not counted as new), "
                     f"{len(s.findings) - known} new")
    for f in s.findings:
        lines += [f"  {'known ' if f.known else ''}{f.kind} {f.signature}: "
                  f"{f.message}",
                  f"    seen in {f.count} execution{'s' if f.count != 1 else ''}, "
                  f"first in execution {f.first_execution}",
                  f"    trace:  {f.trace}",
                  f"    replay: {runnable(f.replay)}",
                  f"            {command('replay', shlex.quote(f.trace))}"]
        verdict, why = f.kernel
        lines.append(f"    kernel: {verdict} ({why})" if why else
                     f"    kernel: {verdict} "
                     f"({command('oracle', 'confirm', shlex.quote(f.trace))})")
        if f.known:
            entry = next(e for e in CATALOGUE if e.id == f.known)
            lines += ["    " + line for line in entry.describe().splitlines()]
    return "\n".join(lines)
