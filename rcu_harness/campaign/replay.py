"""Replaying one execution of a scenario, by trace file or by seed, and shrinking it.

A :class:`Target` names one execution exactly: the scenario configuration,
the schedule, the step bound, and the replay command that names it.  It
comes from a trace file (:func:`from_trace`: validated, fingerprint checked
against the current model) or from (scenario, mutant, strategy, seed,
execution) (:func:`from_seed`: the schedule is regenerated the way the
campaign made it).  :func:`replay` reruns it strictly with every event
recorded, inside the mutant's patches, and counts the schedule's
preemptions on the way; :func:`minimize` shrinks it
(:mod:`rcu_harness.sched.shrink`) and :func:`write_minimized` writes the
smaller schedule as a new trace file (never over an existing file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcu_harness import __version__
from rcu_harness.runtime.runner import finalize, run_execution
from rcu_harness.scenarios.mutants import applied
from rcu_harness.scenarios.registry import (
    configure,
    default_max_steps,
    get_scenario,
    program,
)
from rcu_harness.scenarios.run import replay_command, schedule_of
from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.schedule import Schedule, ScheduleDecodeError
from rcu_harness.sched.shrink import ScriptStrategy, preemptions, shrink
from rcu_harness.trace.events import decode_all, events_digest
from rcu_harness.trace.tracefile import (
    TraceError,
    TraceFile,
    load_trace,
    trace_for,
    write_trace,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rcu_harness.runtime.finding import Finding
    from rcu_harness.scenarios.registry import Config
    from rcu_harness.sched.shrink import ShrinkResult
    from rcu_harness.trace.events import Event


@dataclass(frozen=True, slots=True)
class Target:
    """One execution, named exactly."""

    cfg: Config
    schedule: Schedule
    max_steps: int
    strategy: str
    strategy_params: Mapping[str, Any]
    seed: int
    """The campaign's base seed."""
    execution: int
    command: str
    """The command that replays it."""
    trace: TraceFile | None = None
    trace_path: Path | None = None


@dataclass(frozen=True, slots=True)
class Replayed:
    """The outcome of a strict replay with every event recorded."""

    finding: Finding | None
    events: tuple[Event, ...]
    names: dict[int, str]
    steps: int
    counters: dict[str, int]
    digest: str
    decisions: int
    preemptions: int


def _module(scenario: str) -> str:
    return get_scenario(scenario).build.__module__


def from_trace(path: Path) -> Target:
    """The execution a trace file records (TraceError if it cannot be used)."""
    first = load_trace(path, check_fingerprint=False)
    trace = load_trace(path, scenario_module=_module(first.scenario))
    try:
        schedule = Schedule.decode(trace.schedule)
    except ScheduleDecodeError as exc:
        raise TraceError(f"{path}: {exc}") from None
    cfg = configure(trace.scenario, dict(trace.parameters), trace.mutant)
    return Target(cfg, schedule, trace.max_steps, trace.strategy,
                  dict(trace.strategy_params), trace.seed, trace.execution,
                  f"python -m rcu_harness replay {path}", trace, path)


def from_seed(cfg: Config, *, strategy: str, seed: int, execution: int,
              strategy_params: Mapping[str, Any],
              max_steps: int | None = None) -> Target:
    """Execution @execution of the run (@cfg, @strategy, @seed); @max_steps
    defaults to the scenario's."""
    max_steps = max_steps or default_max_steps(cfg)
    with applied(cfg.mutant, cfg.fixes):
        text = schedule_of(cfg, strategy=strategy, seed=seed, execution=execution,
                           max_steps=max_steps, **strategy_params)
    command = replay_command(cfg, strategy=strategy, seed=seed, execution=execution,
                             strategy_params=strategy_params, max_steps=max_steps)
    return Target(cfg, Schedule.decode(text), max_steps, strategy,
                  dict(strategy_params), seed, execution, command)


def replay(target: Target, *, schedule: Schedule | None = None,
           command: str | None = None) -> Replayed:
    """Rerun @target (or @schedule in its place) strictly, recording everything."""
    schedule = schedule or target.schedule
    strategy = ScriptStrategy(schedule)
    strategy.new_execution(0)
    with applied(target.cfg.mutant, target.cfg.fixes):
        ex = run_execution(program(target.cfg), strategy, target.execution,
                           max_steps=target.max_steps, record=2)
    if strategy.remaining:
        raise ReplayDivergence(
            f"replay diverged: the execution ended with {strategy.remaining} "
            "recorded decisions left (the model or scenario changed?)")
    finding = None
    if ex.violation is not None:
        finding = finalize(ex, schedule, command or target.command)
    events = decode_all(ex.events)
    return Replayed(finding, events, {t.tid: t.label for t in ex.threads}, ex.step,
                    dict(ex.counters), events_digest(events),
                    len(strategy.decisions), preemptions(strategy.decisions))


def minimize(target: Target, *, max_runs: int) -> ShrinkResult:
    """Shrink @target's schedule to the fewest preemptions (same finding)."""
    setup = program(target.cfg)

    def run(strategy: Any) -> Any:
        return run_execution(setup, strategy, target.execution,
                             max_steps=target.max_steps, record=0)

    with applied(target.cfg.mutant, target.cfg.fixes):
        return shrink(run, target.schedule, max_runs=max_runs)


def free_path(path: Path) -> Path:
    """@path, or @path with ``-2``, ``-3``... before its suffix if it exists."""
    if not path.exists():
        return path
    stem = path.name[:-5] if path.name.endswith(".json") else path.name
    for n in range(2, 10_000):
        candidate = path.with_name(f"{stem}-{n}.json")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"{path}: too many minimized traces next to it")


def default_output(target: Target, sig: str) -> Path:
    """Where the minimized trace goes unless told: the current directory (a
    run directory holds only what its run wrote)."""
    bug = f"-{target.cfg.mutant}" if target.cfg.mutant else ""
    return free_path(Path(f"{target.cfg.scenario}{bug}-{sig}.min.json"))


def write_minimized(target: Target, schedule: Schedule, path: Path) -> Replayed:
    """Write @schedule as a trace file at @path; its replay, which names @path."""
    command = f"python -m rcu_harness replay {path}"
    again = replay(target, schedule=schedule, command=command)
    assert again.finding is not None
    found = again.finding
    trace = trace_for(found, scenario=target.cfg.scenario,
                      harness_version=__version__,
                      parameters=dict(target.cfg.values), mutant=target.cfg.mutant,
                      strategy=target.strategy,
                      strategy_params=dict(target.strategy_params),
                      seed=target.seed, max_steps=target.max_steps,
                      events_digest=again.digest,
                      scenario_module=_module(target.cfg.scenario))
    write_trace(path, trace)
    return again
