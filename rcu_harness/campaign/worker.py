"""The worker: runs one block of a run's executions and ships the results.

:func:`run_unit` is what every executor runs, in the coordinating process
or another: for each index ``i`` of the block, ``strategy.new_execution(i)``
and :func:`~rcu_harness.runtime.runner.run_execution` with no events
recorded, all inside the mutant's patches.  Per execution it keeps a
summary (seed, steps, wall time, signature, benign counters) and the
latency samples of :func:`~rcu_harness.runtime.metrics.collect`.

A violation's signature is known without a report.  The first execution of
each signature in the block that the coordinator did not already know
(``known``) is diagnosed: re-run once with every event recorded
(:func:`~rcu_harness.runtime.runner.diagnose`) and finalised into a
:class:`~rcu_harness.runtime.finding.Finding` with its report and exact
replay command; later ones only count.  A worker process also remembers
what it diagnosed for the current run (``run``), across blocks: a worker
gets its blocks in increasing index order and the coordinator absorbs
results in index order, so a report shipped with an earlier block is
always there before a later block needs it.  The lowest-index execution of
every signature is therefore always diagnosed, however the run is split;
should an executor break that order, the coordinator diagnoses the missing
execution itself.  Without ``keep_going`` the block ends at its first
violation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rcu_harness.known.catalogue import known_finding
from rcu_harness.runtime.finding import Finding, signature
from rcu_harness.runtime.metrics import collect
from rcu_harness.runtime.runner import diagnose, finalize, run_execution
from rcu_harness.scenarios.mutants import applied
from rcu_harness.scenarios.registry import program
from rcu_harness.sched.errors import NondeterminismError
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.schedule import Schedule
from rcu_harness.trace.events import decode_all, events_digest

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from rcu_harness.campaign.plan import RunPlan
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.harness import Harness
    from rcu_harness.sched.protocol import Strategy


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """A block of executions of one run."""

    plan: RunPlan
    start: int
    stop: int
    known: frozenset[str] = frozenset()
    """Signatures the run already has a trace for."""
    after: str | None = None
    """Sequential strategies: the encoded schedule of execution ``start - 1``."""
    run: str = ""
    """Names the run session, for the per-process memory of diagnosed
    signatures ("" : no memory)."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The summary of one execution."""

    idx: int
    seed: int
    steps: int
    wall_ns: int
    signature: str | None
    counters: dict[str, int]
    samples: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """A finding with the digest of its fully recorded event stream."""

    finding: Finding
    events_digest: str


@dataclass(frozen=True, slots=True)
class UnitResult:
    """What a block produced."""

    start: int
    executions: tuple[ExecutionResult, ...]
    findings: tuple[Diagnosed, ...]
    exhausted: bool
    """The strategy had no execution left (dfs explored everything)."""
    last_schedule: str | None
    """Sequential strategies: the encoded schedule of the last execution."""
    worker: str = ""
    """Which worker ran the block (set by the executor)."""
    seconds: float = 0.0
    """How long the worker took (set by the executor)."""


def _strategy(unit: WorkUnit, setup: Callable[[Harness], None]) -> Strategy:
    """The plan's strategy, ready for execution ``unit.start``."""
    plan = unit.plan
    strategy = make_strategy(plan.strategy, plan.seed, **plan.strategy_params)
    if unit.after is None:
        return strategy
    previous = Schedule.decode(unit.after)
    follow = getattr(strategy, "follow", None)
    if follow is None:
        raise NondeterminismError(f"strategy {plan.strategy} cannot be resumed")
    follow(previous.steps)
    strategy.new_execution(unit.start - 1)
    ex = run_execution(setup, strategy, unit.start - 1, max_steps=plan.max_steps,
                       record=0)
    if ex.schedule() != previous:
        raise NondeterminismError(f"execution {unit.start - 1} did not retrace "
                                  "its recorded schedule")
    return strategy


def _diagnose(unit: WorkUnit, setup: Callable[[Harness], None],
              ex: Execution) -> Diagnosed:
    schedule = ex.schedule()
    full = diagnose(setup, ex, max_steps=unit.plan.max_steps, checkers=None)
    finding = finalize(full, schedule, unit.plan.replay_command(ex.index))
    digest = events_digest(decode_all(full.events)) if full.record else ""
    return Diagnosed(finding, digest)


def _summary(ex: Execution, strategy: Strategy, wall_ns: int,
             sig: str | None) -> ExecutionResult:
    return ExecutionResult(ex.index, strategy.execution_seed, ex.step, wall_ns,
                           sig, dict(ex.counters), collect(ex))


_DIAGNOSED: dict[str, set[str]] = {}
"""Signatures this process diagnosed, for the one run it last served."""


def _seen(unit: WorkUnit) -> set[str]:
    if not unit.run:
        return set(unit.known)
    if unit.run not in _DIAGNOSED:
        _DIAGNOSED.clear()
        _DIAGNOSED[unit.run] = set()
    seen = _DIAGNOSED[unit.run]
    seen |= unit.known
    return seen


def _known(ex: Execution) -> bool:
    """Is @ex's violation a catalogued kernel bug (which does not end a run)?"""
    v = ex.violation
    return v is not None and known_finding(str(v.kind), v.message) is not None


def run_unit(unit: WorkUnit) -> UnitResult:
    """Run the block @unit; see the module docstring."""
    plan = unit.plan
    cfg = plan.config()
    setup = program(cfg)
    results: list[ExecutionResult] = []
    found: list[Diagnosed] = []
    seen = _seen(unit)
    exhausted = False
    last: str | None = None
    with applied(cfg.mutant, cfg.fixes):
        strategy = _strategy(unit, setup)
        for i in range(unit.start, unit.stop):
            if not strategy.new_execution(i):
                exhausted = True
                break
            began = time.perf_counter_ns()
            ex = run_execution(setup, strategy, i, max_steps=plan.max_steps, record=0)
            wall = time.perf_counter_ns() - began
            v = ex.violation
            sig = None if v is None else signature(str(v.kind), v.key)
            results.append(_summary(ex, strategy, wall, sig))
            if plan.sequential:
                last = ex.schedule().encode()
            if sig is not None and sig not in seen:
                seen.add(sig)
                found.append(_diagnose(unit, setup, ex))
            if sig is not None and not plan.keep_going and not _known(ex):
                break
    exhausted = exhausted or bool(getattr(strategy, "exhausted", False))
    return UnitResult(unit.start, tuple(results), tuple(found), exhausted, last)


def warm_up() -> None:
    """Import what a worker needs before its first unit (process start-up)."""
    from rcu_harness.scenarios import registry

    registry._load()

