"""Replay: one execution, strictly following a schedule, every event recorded.

This is the one replay path.  :func:`replay` takes a
:class:`~rcu_harness.sched.schedule.Schedule` (or its text, a loaded trace
file, or a trace file's path) and the program, runs it under a logging
:class:`~rcu_harness.sched.replay.ReplayStrategy`, and returns the finding
(if any), the events, their digest and the schedule's decisions and
preemptions.  :func:`schedule_of` regenerates the schedule of execution
``i`` of a run from (strategy, seed, parameters) alone, for replay by seed.
The CLI (:mod:`rcu_harness.campaign.replay`) and ``rcu_harness.testing``
call these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.memory.wmm import with_memory_model
from rcu_harness.runner.feedback import corpus_before
from rcu_harness.runner.findings import ReplayInfo, finalize, replay_command
from rcu_harness.runner.run import DEFAULT_MAX_STEPS, run_execution
from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.protocol import Guided
from rcu_harness.sched.registry import check_execution, strategy_kind
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.sched.schedule import Schedule, preemptions
from rcu_harness.trace.events import decode_all, events_digest
from rcu_harness.trace.tracefile import TraceFile, load_trace

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.memory.wmm.api import MemoryModel
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.finding import Finding
    from rcu_harness.trace.events import Event


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """The outcome of replaying one schedule."""

    finding: Finding | None
    events: tuple[Event, ...]
    events_digest: str
    steps: int
    counters: dict[str, int]
    schedule: Schedule
    names: dict[int, str]
    """Thread labels by thread id."""
    decisions: int
    """Thread choices the schedule made."""
    preemptions: int
    """Of which switched away from a thread that could go on."""
    memory_model: MemoryModel | None = None
    """The execution's weak memory model (its log, for litmus export), None
    under sc."""


def replay(schedule: Schedule | str | TraceFile | os.PathLike[str], *,
           program: Callable[[Harness], None],
           max_steps: int | None = None, replay_hint: Any = None,
           checkers: Sequence[Callable[[], Observer]] | None = None,
           execution: int | None = None,
           memory_model: str | None = None) -> ReplayResult:
    """Run @program once, strictly following @schedule.

    @schedule is a :class:`Schedule`, its encoded text, a loaded
    :class:`TraceFile`, or the path of a trace file (validated on load; its
    ``max_steps``, execution index and memory model are used unless
    given).  @memory_model must be the one the schedule was recorded under
    (default sc).  Raises
    :class:`~rcu_harness.sched.errors.ReplayDivergence` if the program does
    not make the recorded decisions.
    """
    if isinstance(schedule, os.PathLike) or (
            isinstance(schedule, str) and schedule.endswith(".json")):
        schedule = load_trace(os.fspath(schedule))
    if isinstance(schedule, TraceFile):
        if max_steps is None:
            max_steps = schedule.max_steps
        if execution is None:
            execution = schedule.execution
        if memory_model is None:
            memory_model = str(schedule.parameters.get("memory_model", "sc"))
        schedule = schedule.schedule
    program = with_memory_model(program, memory_model or "sc")
    index = execution or 0
    if isinstance(schedule, str):
        schedule = Schedule.decode(schedule)
    strict = ReplayStrategy(schedule, log=True)
    strict.new_execution(0)
    ex = run_execution(program, strict, index,
                       max_steps=DEFAULT_MAX_STEPS if max_steps is None else max_steps,
                       checkers=checkers)
    if strict.remaining:
        raise ReplayDivergence(
            f"replay diverged: the execution ended after decision "
            f"{len(schedule.steps) - strict.remaining} but the schedule has "
            f"{strict.remaining} more (did the model or the program change?)")
    finding = None
    if ex.violation is not None:
        info = ReplayInfo(schedule.encode(), schedule.seed, index, "replay", 0)
        finding = finalize(ex, schedule, replay_command(program, replay_hint, info))
    events = decode_all(ex.events)
    return ReplayResult(finding, events, events_digest(events), ex.step,
                        dict(ex.counters), schedule,
                        {t.tid: t.label for t in ex.threads},
                        len(strict.decisions), preemptions(strict.decisions),
                        ex.memory_model)


def schedule_of(program: Callable[[Harness], None], *, strategy: str, seed: int,
                execution: int, strategy_params: dict[str, Any],
                max_steps: int = DEFAULT_MAX_STEPS) -> Schedule:
    """The schedule execution @execution of a run follows.

    @strategy_params must be complete (calibrated, as the run stored them).
    A random-access strategy prepares execution @execution directly; a
    sequential one (dfs) runs the executions before it first, and a guided
    one (rff) the epochs before its own, for their corpus.  The index is
    bounded (:func:`~rcu_harness.sched.registry.check_execution`).
    """
    check_execution(strategy, execution, strategy_params)
    kind = strategy_kind(strategy)
    inner = kind.make(seed, **strategy_params)
    if kind.sequential and execution > 0:
        for i in range(execution):
            if not inner.new_execution(i):
                raise ValueError(f"strategy {strategy} has no execution {execution}")
            run_execution(program, inner, i, max_steps=max_steps, record=0)
    if isinstance(inner, Guided):
        first = inner.epoch_bounds(execution)[0]
        inner.feed(corpus_before(program, inner, first, max_steps=max_steps))
    if not inner.new_execution(execution):
        raise ValueError(f"strategy {strategy} has no execution {execution}")
    ex = run_execution(program, inner, execution, max_steps=max_steps, record=0)
    return ex.schedule()
