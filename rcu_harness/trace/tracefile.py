"""Versioned JSON trace files: everything needed to replay one finding.

A trace file holds ``format`` (this module's :data:`FORMAT`),
``harness_version``, ``model_fingerprint``, ``scenario`` and its
``parameters``, ``mutant``, ``strategy`` and ``strategy_params``, ``seed``
(the campaign's base seed), ``execution``, the encoded ``schedule`` (whose
own seed is the execution's), ``max_steps``, ``events_digest``, the
``finding`` (kind, signature, message, report; since format 2 also the
faulting ``thread`` and ``step``, the object's ``addr`` and its
``lifecycle``: allocation, death, call_rcu and free as ``{what, thread,
step}``) and, since format 2, ``events``: the finding's execution as
recorded by its diagnosing re-run (the last few hundred events plus the
object's life-cycle events), each ``{step, thread, kind, addr, word, index,
value, function}`` with the thread's label, the kind's name in lower case,
the address in hex and the value as a deterministic summary, so that a
report can draw the interleaving without rerunning anything; since format
3 an event also has ``reads`` and ``stale``: under a weak memory model
(``parameters.memory_model`` is ``lkmm``), the store a load read (``step
N`` or ``init``) and, for a load that read an older store than the newest,
the newest one's (``step N``); both ``""`` otherwise.

Versions: this harness writes format :data:`FORMAT` and reads every format
in :data:`READABLE`; a format-1 file loads with no events and an empty
life cycle, a format-2 file with empty ``reads`` and ``stale``.  Any other
version fails with :class:`TraceVersionError`.  The
version changes whenever a field is added, because an older harness
rejects fields it does not know.

Loading validates and fails with a distinct exception per problem, each
with a one-line message that says how to fix it: missing file, truncated
file, not JSON, another format version, a field missing, unknown or of the
wrong type or range (:mod:`rcu_harness.trace.schema`), a model that changed
since.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcu_harness.trace.events import thread_label
from rcu_harness.trace.fingerprint import model_fingerprint
from rcu_harness.trace.schema import problem

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.trace.events import Event

FORMAT = 3
READABLE = (1, 2, 3)
"""Formats this harness loads (1: before events and life cycles; 2: before
the reads-from of weak memory)."""
_FIX = "re-run the campaign to regenerate it"


class TraceError(Exception):
    """A trace file cannot be used."""


class TraceMissingError(TraceError):
    """The trace file does not exist."""


class TraceTruncatedError(TraceError):
    """The trace file ends before its JSON document does."""


class TraceNotJsonError(TraceError):
    """The trace file is not JSON (or not a JSON object)."""


class TraceVersionError(TraceError):
    """The trace file has another format version."""


class TraceSchemaError(TraceError):
    """A field of the trace file is missing, unknown, or of the wrong type or range."""


class TraceFingerprintError(TraceError):
    """The model or scenario source changed since the trace was recorded."""


@dataclass(frozen=True, slots=True)
class TraceMark:
    """One step of the finding's object's life."""

    what: str
    """``alloc``, ``death``, ``call_rcu`` or ``free``."""
    thread: str
    step: int


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One recorded event, as a trace file stores it."""

    step: int
    thread: str
    """The thread's label (``name/tid``)."""
    kind: str
    """The :class:`~rcu_harness.trace.events.EventKind` name, lower case."""
    addr: str
    """The address, in hex."""
    word: str | None
    index: int
    value: str
    function: str
    """The model function that made the access, or ``""``."""
    reads: str = ""
    """Under a weak memory model, the store a load read: ``step N``, or
    ``init`` for the word's value before any store."""
    stale: str = ""
    """The newest store a load did not read (``step N``), or ``""``."""


@dataclass(frozen=True, slots=True)
class TraceFinding:
    """The finding part of a trace file."""

    kind: str
    signature: str
    message: str
    report: str
    thread: str = ""
    step: int = 0
    addr: str = ""
    """The object the finding is about, in hex (``""``: none)."""
    lifecycle: tuple[TraceMark, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceFile:
    """One trace file's content."""

    harness_version: str
    model_fingerprint: str
    scenario: str
    schedule: str
    finding: TraceFinding | None
    parameters: dict[str, Any] = field(default_factory=dict)
    mutant: str | None = None
    strategy: str = "random"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    execution: int = 0
    max_steps: int = 200_000
    events_digest: str = ""
    events: tuple[TraceEvent, ...] = ()
    format: int = FORMAT

    def to_json(self) -> str:
        """The canonical JSON text (sorted keys, trailing newline)."""
        return json.dumps(asdict(self), sort_keys=True, indent=1) + "\n"


def write_trace(path: str | Path, trace: TraceFile) -> None:
    """Write @trace to @path atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(trace.to_json())
    tmp.replace(path)


def _parse(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise TraceMissingError(f"{path}: no such trace file; {_FIX} or check "
                                "the path")
    text = path.read_text(errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        body = text.rstrip()
        at_end = exc.pos >= len(body) or exc.msg.startswith("Unterminated string")
        if not body or (body.lstrip().startswith(("{", "[")) and at_end):
            raise TraceTruncatedError(f"{path}: trace file is truncated; {_FIX}"
                                      ) from None
        raise TraceNotJsonError(f"{path}: not a JSON trace file ({exc.msg}); "
                                f"{_FIX}") from None
    if not isinstance(data, dict):
        raise TraceNotJsonError(f"{path}: not a JSON object; {_FIX}")
    return data


def _from_json(data: dict[str, Any]) -> TraceFile:
    finding = data.get("finding")
    if finding:
        marks = tuple(TraceMark(**m) for m in finding.get("lifecycle", ()))
        finding = TraceFinding(**{**finding, "lifecycle": marks})
    events = tuple(TraceEvent(**e) for e in data.get("events", ()))
    return TraceFile(**{**data, "finding": finding or None, "events": events})


def trace_events(events: Sequence[Event], threads: Sequence[str]
                 ) -> tuple[TraceEvent, ...]:
    """@events in trace form, thread ids replaced by the labels in @threads."""
    return tuple(TraceEvent(e.step, thread_label(e.thread, threads),
                            e.kind.name.lower(),
                            hex(e.addr), e.word, e.index, e.value, e.function,
                            e.reads, e.stale)
                 for e in events)


def invalid(path: Path, version: object, why: str) -> TraceSchemaError:
    """The one-line error for a trace file at @path whose content is @why."""
    return TraceSchemaError(f"{path}: not a valid trace file of format {version} "
                            f"({why}); {_FIX}")


def load_trace(path: str | Path, *, scenario_module: str | None = None,
               check_fingerprint: bool = True) -> TraceFile:
    """Read and validate a trace file."""
    path = Path(path)
    data = _parse(path)
    version = data.get("format")
    if version not in READABLE:
        raise TraceVersionError(f"{path}: trace format {version!r}, this harness "
                                f"reads formats {', '.join(map(str, READABLE))};"
                                f" {_FIX} with this version")
    why = problem(data)
    if why is not None:
        raise invalid(path, version, why)
    trace = _from_json(data)
    if check_fingerprint:
        now = model_fingerprint(scenario_module)
        if now != trace.model_fingerprint:
            raise TraceFingerprintError(
                f"{path}: recorded against model {trace.model_fingerprint[:12]},"
                f" the current model is {now[:12]} (maple/ or the scenario "
                f"changed); {_FIX}")
    return trace


def trace_for(finding: Any, *, scenario: str, harness_version: str,
              parameters: dict[str, Any] | None = None, mutant: str | None = None,
              strategy: str = "random",
              strategy_params: dict[str, Any] | None = None, seed: int = 0,
              max_steps: int = 200_000, events_digest: str = "",
              scenario_module: str | None = None) -> TraceFile:
    """The trace file content for a :class:`~rcu_harness.runtime.finding.Finding`."""
    return TraceFile(
        harness_version=harness_version,
        model_fingerprint=model_fingerprint(scenario_module),
        scenario=scenario,
        schedule=finding.schedule,
        finding=TraceFinding(
            finding.kind, finding.signature, finding.message, finding.report,
            thread=getattr(finding, "thread", ""), step=getattr(finding, "step", 0),
            addr=hex(finding.addr) if getattr(finding, "addr", 0) else "",
            lifecycle=tuple(TraceMark(*m) for m in getattr(finding, "lifecycle", ()))),
        parameters=dict(parameters or {}),
        mutant=mutant,
        strategy=strategy,
        strategy_params=dict(strategy_params or {}),
        seed=seed,
        execution=finding.execution,
        max_steps=max_steps,
        events_digest=events_digest,
        events=trace_events(getattr(finding, "events", ()),
                            getattr(finding, "threads", ())),
    )
