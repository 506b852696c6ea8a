"""The worker: runs one block of a run's executions and ships the results.

:func:`run_unit` is what every executor runs, in the coordinating process
or another: the plan's program, inside the mutant's patches, through the
exploration loop every exploration uses
(:func:`~rcu_harness.runner.block.run_block`, with latency samples), each
new finding diagnosed and given the exact CLI line that replays it.

``known`` are the signatures the run already has a trace for.  A worker
process also remembers what it diagnosed for the current run (``run``),
across blocks: a worker gets its blocks in increasing index order and the
coordinator absorbs results in index order, so a report shipped with an
earlier block is always there before a later block needs it.  The
lowest-index execution of every signature is therefore always diagnosed,
however the run is split; should an executor break that order, the
coordinator diagnoses the missing execution itself.  Without
``keep_going`` the block ends at its first violation that is not a
catalogued kernel bug (:mod:`rcu_harness.known.catalogue`).  A worker
process keeps the program of the configuration it last served across
blocks (:func:`_program`), so that the program's setup snapshots
(:mod:`rcu_harness.runtime.snapshot`) are built once per process, not once
per block of 16 executions.  A sequential
strategy's block first retraces the previous block's last execution
(``after``, :func:`~rcu_harness.runner.block.resume`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rcu_harness.errors import ExecutionAbandoned
from rcu_harness.known.catalogue import known_finding
from rcu_harness.runner.block import resume as resume_after
from rcu_harness.runner.block import run_block
from rcu_harness.scenarios.catalog import applied, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.schedule import Schedule

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rcu_harness.campaign.plan import RunPlan
    from rcu_harness.runner.block import BlockResult, Diagnosed, ExecutionResult
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.finding import Violation
    from rcu_harness.scenarios.spec import Config
    from rcu_harness.sched.rff import CorpusEntry


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
    seconds: float | None = None
    """The run's time budget left when the block was handed out (None: no
    time limit): the block starts no execution after that many seconds of
    its own, so a ``--time`` budget ends a run within one execution per
    worker, not one block (16 executions of a 2000-VMA tree are minutes).
    A unit that waited (queued in the local pool, or a later unit of a
    cluster's bundle) gets only what the earlier units of its run left its
    process (:func:`unit_deadline`)."""
    corpus: tuple[CorpusEntry, ...] = ()
    """Guided strategies (rff): the corpus of the epochs before the block's
    (a block never spans two epochs)."""


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
    reads_from: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """With the plan's ``coverage``: the block's reads-from pairs, each with
    its first execution and count."""
    corpus: tuple[CorpusEntry, ...] = ()
    """Guided strategies: the executions that made pairs new to the block
    (:class:`~rcu_harness.runner.feedback.Feedback`)."""


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


_PROGRAM: dict[str, Callable[[Harness], None]] = {}
"""The program of the one configuration this process last served (keyed
by :func:`_config_key`)."""


def _config_key(cfg: Config) -> str:
    return repr((cfg.scenario, sorted(cfg.values.items()), cfg.mutant))


def _program(cfg: Config) -> Callable[[Harness], None]:
    """@cfg's program, the same object for every block of one configuration
    this process runs: its setup snapshots are recorded by the first
    execution that builds the setup and replayed by every later one (each
    snapshot is keyed by the state it starts from, so a replay is the build
    it stands for, byte for byte; tests/trace/test_golden_traces.py).
    Recording one costs a walk of the execution's objects and a compile(),
    about as much as two executions of ``mmput_race``: once per block it was
    half of a campaign's time on that scenario."""
    key = _config_key(cfg)
    setup = _PROGRAM.get(key)
    if setup is None:
        _PROGRAM.clear()
        setup = _PROGRAM[key] = program(cfg)
    return setup


def _known(fixes: tuple[str, ...]) -> Callable[[Violation], bool]:
    """Is a violation a catalogued kernel bug (which does not end a run),
    in a run that applies the candidate kernel fixes @fixes?"""
    def known(v: Violation) -> bool:
        return known_finding(str(v.kind), v.message, fixes) is not None
    return known


_DEADLINES: dict[str, float] = {}
"""The run session (``WorkUnit.run``) this process last served, and the
earliest :func:`time.monotonic` at which one of its units told it to start
no more executions."""


def unit_deadline(unit: WorkUnit) -> float | None:
    """When @unit, starting now, must start no more executions: now plus its
    ``seconds``, but never later than what an earlier unit of its run told
    this process.  Each is the run's time budget's end or later (a unit
    starts after it was handed out), so the earliest is the truest: a unit
    that waited in a queue (the local pool keeps one queued per worker, a
    cluster's bundle holds several) gets no time of its own."""
    if unit.seconds is None:
        return None
    deadline = time.monotonic() + unit.seconds
    if unit.run:
        if unit.run not in _DEADLINES:
            _DEADLINES.clear()
        deadline = _DEADLINES[unit.run] = min(
            deadline, _DEADLINES.get(unit.run, deadline))
    return deadline


def run_unit(unit: WorkUnit, stop: Callable[[], bool] | None = None) -> UnitResult:
    """Run the block @unit; see the module docstring.

    @stop (inline runs only) is asked before each execution after the
    first: True ends the block early, with what it ran.  A Ctrl-C that
    abandons an execution (:class:`ExecutionAbandoned`) leaves with the
    executions finished before it as its ``partial`` result.
    """
    plan = unit.plan
    cfg = plan.config()
    setup = _program(cfg)
    try:
        with applied(cfg.mutant, cfg.fixes):
            strategy = make_strategy(plan.strategy, plan.seed,
                                     **plan.strategy_params)
            if unit.after is not None:
                resume_after(setup, strategy, Schedule.decode(unit.after),
                             unit.start - 1, max_steps=plan.max_steps)
            deadline = unit_deadline(unit)
            block = run_block(setup, strategy, unit.start, unit.stop,
                              command=lambda i, _s: plan.replay_command(i),
                              seen=_seen(unit), max_steps=plan.max_steps,
                              keep_going=plan.keep_going, samples=True,
                              goes_on=_known(cfg.fixes), halt=stop, deadline=deadline,
                              coverage=plan.coverage, corpus=unit.corpus)
    except ExecutionAbandoned as exc:
        exc.partial = _unit_result(unit, exc.partial)  # type: ignore[arg-type]
        raise
    return _unit_result(unit, block)


def _unit_result(unit: WorkUnit, block: BlockResult) -> UnitResult:
    last = block.last_schedule
    return UnitResult(unit.start, block.executions, block.findings, block.exhausted,
                      last.encode() if unit.plan.sequential and last is not None
                      else None, reads_from=block.reads_from, corpus=block.corpus)
