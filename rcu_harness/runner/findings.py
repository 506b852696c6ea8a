"""A violation becomes a finding: its report, its events and its replay command.

Exploration runs without events (the hot path stays cheap); replay is
deterministic, so :func:`diagnose` re-runs a failing execution once with
every event and model function recorded, and :func:`finalize` turns its
violation into a :class:`~rcu_harness.runtime.finding.Finding`: the report
body, the interleaving excerpt, the execution's kept events and the
command that replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcu_harness.errors import HarnessError
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.finding import Finding, signature
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.trace.events import EventKind, decode_all
from rcu_harness.trace.interleaving import excerpt, key_events, stale_loads

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.finding import Violation
    from rcu_harness.sched.schedule import Schedule
    from rcu_harness.trace.events import Event, RawEvent

KEEP_EVENTS = 400
"""A finding keeps the last this many events of its execution (plus every
life-cycle event of its object): enough for a report's swimlane."""
_LIFE_KINDS = frozenset({EventKind.ALLOC.value, EventKind.FREE.value,
                         EventKind.CALL_RCU.value, EventKind.RCU_CALLBACK.value})


@dataclass(frozen=True, slots=True)
class ReplayInfo:
    """What a replay hint may use to build a replay command."""

    schedule: str
    seed: int
    """The execution's own seed."""
    execution: int
    strategy: str
    base_seed: int
    strategy_params: dict[str, Any] = field(default_factory=dict)


def default_replay_command(program: Callable[..., Any], info: ReplayInfo) -> str:
    """A python one-liner that replays @info's schedule on @program."""
    mod = getattr(program, "__module__", None)
    qual = getattr(program, "__qualname__", "")
    if mod and qual and "<" not in qual and mod != "__main__":
        return (f"python -c \"import rcu_harness, {mod}; rcu_harness.replay("
                f"'{info.schedule}', program={mod}.{qual})\"")
    return f"rcu_harness.replay('{info.schedule}', program=<your program>)"


def replay_command(program: Callable[..., Any], hint: Any, info: ReplayInfo) -> str:
    """The replay command of @info: @hint (a format string or a callable
    taking the ReplayInfo), or the default one-liner."""
    if hint is None:
        return default_replay_command(program, info)
    if isinstance(hint, str):
        return hint.format(schedule=info.schedule, seed=info.seed,
                           execution=info.execution, strategy=info.strategy,
                           base_seed=info.base_seed)
    return str(hint(info))


def kept_events(raws: Sequence[RawEvent], addr: int,
                keep: Sequence[int] = ()) -> tuple[Event, ...]:
    """The last KEEP_EVENTS of @raws plus the life-cycle events of @addr
    (allocation, call_rcu, callback, free, and stores of its parent word:
    the death mark) and the events at the indexes @keep, decoded, in order."""
    start = max(0, len(raws) - KEEP_EVENTS)
    wanted = set(keep)
    early = [r for i, r in enumerate(raws[:start]) if i in wanted or (
        addr and r[3] == addr and (
            r[2] in _LIFE_KINDS or (r[2] == EventKind.STORE and r[4] == "parent")))]
    return decode_all([*early, *raws[start:]])


def _fault_row(v: Violation, names: dict[int, str]) -> tuple[int, int, str] | None:
    """The violating access as an interleaving row (thread id, step, access),
    for violations that are an access."""
    tid = next((t for t, label in names.items() if label == v.thread), None)
    if tid is None or not v.access:
        return None
    return tid, v.step, v.access


def finalize(ex: Execution, schedule: Schedule, command: str) -> Finding:
    """Turn the execution's violation into a :class:`Finding`."""
    v = ex.violation
    assert v is not None
    names = {t.tid: t.label for t in ex.threads}
    fault = _fault_row(v, names)
    stale = stale_loads(ex.events, names) if ex.memory_model is not None else ""
    keep = key_events(ex.events, v.addr, v.lifecycle, fault)
    report = "\n".join([
        v.body, "", excerpt(ex.events, names, fault=fault, keep=keep), "",
        *([stale, ""] if stale else []),
        f"Execution {ex.index}, seed {schedule.seed}, {ex.step} steps.",
        "Replay with:", f"  {command}",
    ])
    return Finding(kind=str(v.kind), signature=signature(str(v.kind), v.key),
                   message=v.message, report=report, thread=v.thread,
                   step=v.step, execution=ex.index, seed=schedule.seed,
                   schedule=schedule.encode(), replay_command=command,
                   addr=v.addr, lifecycle=v.lifecycle,
                   events=kept_events(ex.events, v.addr, keep.indexes),
                   threads=tuple(t.label for t in ex.threads))


def diagnose(program: Callable[[Harness], None], ex: Execution, *,
             max_steps: int,
             checkers: Sequence[Callable[[], Observer]] | None) -> Execution:
    """The failing execution re-run with full event recording, for its report.

    If the re-run does not reproduce the same violation, the original
    (without interleaving) is kept.
    """
    if ex.record >= 2 or ex.violation is None:
        return ex
    strict = ReplayStrategy(ex.schedule())
    strict.new_execution(0)
    try:
        again = run_execution(program, strict, ex.index, max_steps=max_steps,
                              checkers=checkers, record=2)
    except HarnessError:
        return ex
    v, w = ex.violation, again.violation
    if w is None or signature(str(w.kind), w.key) != signature(str(v.kind), v.key):
        return ex
    return again
