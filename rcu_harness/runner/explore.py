"""``explore()``: run a program's executions under a strategy, collect findings.

One block (:func:`~rcu_harness.runner.block.run_block`) from execution 0:
until the strategy has no execution left, the budget (executions, and
optionally seconds) is spent, or, by default, the first finding.  The
result counts every distinct finding the way ``rcu-harness stress`` does:
how many executions saw it and the first one that did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rcu_harness.memory.wmm import with_memory_model
from rcu_harness.runner.block import calibrate, run_block
from rcu_harness.runner.findings import ReplayInfo, replay_command
from rcu_harness.runner.run import DEFAULT_MAX_STEPS
from rcu_harness.sched.registry import strategy_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.finding import Finding
    from rcu_harness.sched.schedule import Schedule


class Stopped(StrEnum):
    """Why an exploration ended."""

    FINDING = "finding"
    EXECUTIONS = "executions"
    TIME = "time"
    EXHAUSTED = "exhausted"


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
    counts: Mapping[str, int] = field(default_factory=dict)
    """Executions that saw each finding, by signature (``stress`` prints
    them as "seen in N executions"); a finding's ``execution`` is the first."""
    stopped: Stopped = Stopped.EXECUTIONS

    @property
    def ok(self) -> bool:
        """No findings."""
        return not self.findings

    def count(self, finding: Finding) -> int:
        """How many executions saw @finding."""
        return self.counts.get(finding.signature, 0)


def explore(program: Callable[[Harness], None], *, strategy: str = "aimed-data",
            executions: int = 1000, seed: int = 0,
            max_steps: int = DEFAULT_MAX_STEPS, stop_on_first: bool = True,
            replay_hint: Any = None,
            checkers: Sequence[Callable[[], Observer]] | None = None,
            seconds: float = 0.0, memory_model: str = "sc",
            **strategy_params: Any) -> ExploreResult:
    """Run up to @executions executions of @program; collect findings.

    @seconds > 0 also stops the exploration after that many seconds
    (between executions).  @replay_hint makes each finding's replay command:
    a format string (``{schedule}``, ``{seed}``, ``{execution}``,
    ``{strategy}``, ``{base_seed}``) or a callable taking a
    :class:`~rcu_harness.runner.findings.ReplayInfo`.  @memory_model:
    ``sc`` (default) or ``lkmm`` (:mod:`rcu_harness.memory.wmm`).
    """
    program = with_memory_model(program, memory_model)
    kind = strategy_kind(strategy)
    start = time.perf_counter()
    deadline = time.monotonic() + seconds if seconds > 0 else None
    params = calibrate(program, strategy, seed, max_steps=max_steps,
                       strategy_params=strategy_params)
    inner = kind.make(seed, **params)

    def command(index: int, schedule: Schedule) -> str:
        info = ReplayInfo(schedule.encode(), schedule.seed, index, strategy, seed,
                          dict(params))
        return replay_command(program, replay_hint, info)

    block = run_block(program, inner, 0, executions, command=command, seen=set(),
                      max_steps=max_steps, checkers=checkers,
                      keep_going=not stop_on_first, deadline=deadline)
    counters: dict[str, int] = {}
    counts: dict[str, int] = {}
    for r in block.executions:
        for key, n in r.counters.items():
            counters[key] = counters.get(key, 0) + n
        if r.signature is not None:
            counts[r.signature] = counts.get(r.signature, 0) + 1
    stopped = (Stopped.EXHAUSTED if block.exhausted else Stopped.TIME
               if block.timed_out else Stopped.FINDING if counts and stop_on_first
               else Stopped.EXECUTIONS)
    return ExploreResult(tuple(d.finding for d in block.findings),
                         len(block.executions),
                         sum(r.steps for r in block.executions), counters,
                         time.perf_counter() - start, block.exhausted, strategy,
                         seed, counts, stopped)
