"""The runner: executions in a loop, findings finalised, results returned.

:func:`run_execution` runs one execution of a program under a strategy;
:func:`explore` asks the strategy for executions until it has none left,
the budget is spent, or (by default) the first finding; :func:`replay` runs
one recorded schedule strictly.  A finding's report gets the interleaving
excerpt and the replay command appended here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.observer import Hooks
from rcu_harness.runtime.errors import HarnessError
from rcu_harness.runtime.execution import Execution
from rcu_harness.runtime.finding import Finding, signature
from rcu_harness.runtime.harness import Harness
from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.registry import CALIBRATED, make_strategy
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.sched.schedule import RANDOM, Schedule
from rcu_harness.trace.events import Event, EventKind, decode_all, events_digest
from rcu_harness.trace.interleaving import excerpt
from rcu_harness.trace.tracefile import TraceFile, load_trace

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.runtime.finding import Violation
    from rcu_harness.sched.protocol import Strategy
    from rcu_harness.trace.events import RawEvent

DEFAULT_MAX_STEPS = 200_000
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


@dataclass(frozen=True, slots=True)
class ExploreResult:
    """What an exploration found and how much it ran."""

    findings: tuple[Finding, ...]
    """Distinct findings (by signature), in the order found."""
    executions: int
    steps: int
    counters: dict[str, int]
    wall_time: float
    """Seconds (reporting only; nothing depends on it)."""
    exhausted: bool
    """The strategy explored everything it could (dfs)."""
    strategy: str
    seed: int

    @property
    def ok(self) -> bool:
        """No findings."""
        return not self.findings


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """The outcome of replaying one schedule."""

    finding: Finding | None
    events: tuple[Event, ...]
    events_digest: str
    steps: int
    counters: dict[str, int]
    schedule: Schedule


def default_replay_command(program: Callable[..., Any], info: ReplayInfo) -> str:
    """A python one-liner that replays @info's schedule on @program."""
    mod = getattr(program, "__module__", None)
    qual = getattr(program, "__qualname__", "")
    if mod and qual and "<" not in qual and mod != "__main__":
        return (f"python -c \"import rcu_harness, {mod}; rcu_harness.replay("
                f"'{info.schedule}', program={mod}.{qual})\"")
    return f"rcu_harness.replay('{info.schedule}', program=<your program>)"


def _command(program: Callable[..., Any], hint: Any, info: ReplayInfo) -> str:
    if hint is None:
        return default_replay_command(program, info)
    if isinstance(hint, str):
        return hint.format(schedule=info.schedule, seed=info.seed,
                           execution=info.execution, strategy=info.strategy,
                           base_seed=info.base_seed)
    return str(hint(info))


def run_execution(program: Callable[[Harness], None], strategy: Strategy,
                  index: int, *, max_steps: int = DEFAULT_MAX_STEPS,
                  checkers: Sequence[Callable[[], Observer]] | None = None,
                  record: int = 2) -> Execution:
    """Run execution @index of @program (strategy already prepared).

    @record: 0 records no events (fastest), 1 events, 2 events with the
    model function of each access.
    """
    factories = default_checkers() if checkers is None else checkers
    hooks = Hooks([make() for make in factories])
    ex = Execution(index, strategy, max_steps=max_steps, hooks=hooks,
                   record=record)
    ex.run(program, Harness(ex))
    return ex


def kept_events(raws: Sequence[RawEvent], addr: int) -> tuple[Event, ...]:
    """The last KEEP_EVENTS of @raws plus the life-cycle events of @addr
    (allocation, call_rcu, callback, free, and stores of its parent word:
    the death mark), decoded, in order."""
    start = max(0, len(raws) - KEEP_EVENTS)
    early = [r for r in raws[:start] if addr and r[3] == addr and (
        r[2] in _LIFE_KINDS or (r[2] == EventKind.STORE and r[4] == "parent"))]
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
    report = "\n".join([
        v.body, "", excerpt(ex.events, names, fault=_fault_row(v, names)), "",
        f"Execution {ex.index}, seed {schedule.seed}, {ex.step} steps.",
        "Replay with:", f"  {command}",
    ])
    return Finding(kind=str(v.kind), signature=signature(str(v.kind), v.key),
                   message=v.message, report=report, thread=v.thread,
                   step=v.step, execution=ex.index, seed=schedule.seed,
                   schedule=schedule.encode(), replay_command=command,
                   addr=v.addr, lifecycle=v.lifecycle,
                   events=kept_events(ex.events, v.addr),
                   threads=tuple(t.label for t in ex.threads))


def diagnose(program: Callable[[Harness], None], ex: Execution, *,
             max_steps: int,
             checkers: Sequence[Callable[[], Observer]] | None) -> Execution:
    """The failing execution re-run with full event recording, for its report.

    Exploration runs without events (the hot path stays cheap); replay is
    deterministic, so the finding's execution is re-run once with every
    event and model function recorded.  If the re-run does not reproduce
    the same violation, the original (without interleaving) is kept.
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


def _merge(total: dict[str, int], more: dict[str, int]) -> None:
    for key, n in more.items():
        total[key] = total.get(key, 0) + n


def calibrate(program: Callable[[Harness], None], strategy: str, seed: int, *,
              max_steps: int = DEFAULT_MAX_STEPS,
              strategy_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Strategy parameters with everything that must not depend on history.

    PCT draws its change points from ``[1, k]`` where ``k`` is the number of
    scheduling decisions an execution makes.  Estimating ``k`` from earlier
    executions would make execution i depend on executions 0..i-1 (and so on
    how a campaign is split across processes); instead ``k`` is measured once,
    from one ``random`` execution whose seed derives from the base seed alone,
    and passed as ``steps`` (to ``pct`` and ``mix``, whose even executions are
    pct).  Other strategies need nothing.
    """
    params = dict(strategy_params or {})
    if strategy not in CALIBRATED or params.get("steps"):
        return params
    probe = make_strategy("random", seed)
    probe.new_execution(0)
    ex = run_execution(program, probe, 0, max_steps=max_steps, record=0)
    params["steps"] = max(1, sum(1 for d in ex.decisions if d != RANDOM))
    return params


def explore(program: Callable[[Harness], None], *, strategy: str = "mix",
            executions: int = 1000, seed: int = 0,
            max_steps: int = DEFAULT_MAX_STEPS, stop_on_first: bool = True,
            replay_hint: Any = None,
            checkers: Sequence[Callable[[], Observer]] | None = None,
            **strategy_params: Any) -> ExploreResult:
    """Run up to @executions executions of @program; collect findings."""
    strategy_params = calibrate(program, strategy, seed, max_steps=max_steps,
                                strategy_params=strategy_params)
    inner = make_strategy(strategy, seed, **strategy_params)
    findings: list[Finding] = []
    seen: set[str] = set()
    counters: dict[str, int] = {}
    steps = ran = 0
    exhausted = False
    start = time.perf_counter()
    for i in range(executions):
        if not inner.new_execution(i):
            exhausted = True
            break
        ex = run_execution(program, inner, i, max_steps=max_steps,
                           checkers=checkers, record=0)
        ran += 1
        steps += ex.step
        _merge(counters, ex.counters)
        if ex.violation is None:
            continue
        schedule = ex.schedule()
        info = ReplayInfo(schedule.encode(), schedule.seed, i, strategy, seed,
                          dict(strategy_params))
        full = diagnose(program, ex, max_steps=max_steps, checkers=checkers)
        finding = finalize(full, schedule, _command(program, replay_hint, info))
        if finding.signature not in seen:
            seen.add(finding.signature)
            findings.append(finding)
        if stop_on_first:
            break
    else:
        exhausted = bool(getattr(inner, "exhausted", False))
    return ExploreResult(tuple(findings), ran, steps, counters,
                         time.perf_counter() - start, exhausted, strategy, seed)


def replay(schedule: Schedule | str | TraceFile | os.PathLike[str], *,
           program: Callable[[Harness], None],
           max_steps: int | None = None, replay_hint: Any = None,
           checkers: Sequence[Callable[[], Observer]] | None = None,
           execution: int | None = None) -> ReplayResult:
    """Run @program once, strictly following @schedule.

    @schedule is a :class:`Schedule`, its encoded text, a loaded
    :class:`TraceFile`, or the path of a trace file (validated on load; its
    ``max_steps`` is used unless given).
    """
    if isinstance(schedule, os.PathLike) or (
            isinstance(schedule, str) and schedule.endswith(".json")):
        schedule = load_trace(os.fspath(schedule))
    if isinstance(schedule, TraceFile):
        if max_steps is None:
            max_steps = schedule.max_steps
        if execution is None:
            execution = schedule.execution
        schedule = schedule.schedule
    index = execution or 0
    if max_steps is None:
        max_steps = DEFAULT_MAX_STEPS
    if isinstance(schedule, str):
        schedule = Schedule.decode(schedule)
    strict = ReplayStrategy(schedule)
    strict.new_execution(0)
    ex = run_execution(program, strict, index, max_steps=max_steps, checkers=checkers)
    if strict.remaining:
        raise ReplayDivergence(
            f"replay diverged: the execution ended after decision "
            f"{len(schedule.steps) - strict.remaining} but the schedule has "
            f"{strict.remaining} more")
    finding = None
    if ex.violation is not None:
        info = ReplayInfo(schedule.encode(), schedule.seed, index, "replay", 0)
        finding = finalize(ex, schedule, _command(program, replay_hint, info))
    events = decode_all(ex.events)
    return ReplayResult(finding, events, events_digest(events), ex.step,
                        dict(ex.counters), schedule)
