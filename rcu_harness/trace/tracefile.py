"""Versioned JSON trace files: everything needed to replay one finding.

A trace file holds ``format`` (this module's :data:`FORMAT`),
``harness_version``, ``model_fingerprint``, ``scenario`` and its
``parameters``, ``mutant``, ``strategy`` and ``strategy_params``, ``seed``
(the campaign's base seed), ``execution``, the encoded ``schedule`` (whose
own seed is the execution's), ``max_steps``, ``events_digest`` and the
``finding`` (kind, signature, message, report).

Loading validates and fails with a distinct exception per problem, each
with a one-line message that says how to fix it: missing file, truncated
file, not JSON, another format version, a model that changed since.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rcu_harness.trace.fingerprint import model_fingerprint

FORMAT = 1
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


class TraceFingerprintError(TraceError):
    """The model or scenario source changed since the trace was recorded."""


@dataclass(frozen=True, slots=True)
class TraceFinding:
    """The finding part of a trace file."""

    kind: str
    signature: str
    message: str
    report: str


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


def load_trace(path: str | Path, *, scenario_module: str | None = None,
               check_fingerprint: bool = True) -> TraceFile:
    """Read and validate a trace file."""
    path = Path(path)
    data = _parse(path)
    version = data.get("format")
    if version != FORMAT:
        raise TraceVersionError(f"{path}: trace format {version!r}, this harness "
                                f"reads format {FORMAT}; {_FIX} with this "
                                "version")
    try:
        finding = data.get("finding")
        data["finding"] = TraceFinding(**finding) if finding else None
        trace = TraceFile(**data)
    except TypeError as exc:
        raise TraceNotJsonError(f"{path}: not a trace file of format {FORMAT} "
                                f"({exc}); {_FIX}") from None
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
        finding=TraceFinding(finding.kind, finding.signature, finding.message,
                             finding.report),
        parameters=dict(parameters or {}),
        mutant=mutant,
        strategy=strategy,
        strategy_params=dict(strategy_params or {}),
        seed=seed,
        execution=finding.execution,
        max_steps=max_steps,
        events_digest=events_digest,
    )
