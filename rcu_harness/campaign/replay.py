"""Replaying one execution of a run, by trace file or by seed, and shrinking it.

A :class:`Target` names one execution exactly: the scenario (or program)
configuration, the schedule, the step bound, and the replay command that
names it.  It comes from a trace file (:func:`from_trace`: validated,
fingerprint checked against the current model) or from (scenario, mutant,
strategy, seed, execution) (:func:`from_seed`: the schedule is regenerated
the way the campaign made it, :func:`~rcu_harness.runner.replay.schedule_of`).
:func:`replay` reruns it with the one strict replay
(:func:`rcu_harness.runner.replay.replay`) inside the mutant's patches;
:func:`minimize` shrinks it (:mod:`rcu_harness.runner.shrink`) and
:func:`write_minimized` writes the smaller schedule as a new trace file
(never over an existing file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.replay import ReplayResult, schedule_of
from rcu_harness.runner.replay import replay as strict_replay
from rcu_harness.runner.run import run_execution
from rcu_harness.runner.shrink import shrink
from rcu_harness.scenarios.catalog import (
    applied,
    configure,
    default_max_steps,
    get_scenario,
    program,
)
from rcu_harness.scenarios.programs import file_stem
from rcu_harness.scenarios.run import replay_command
from rcu_harness.sched.registry import STRATEGIES
from rcu_harness.sched.schedule import Schedule, ScheduleDecodeError
from rcu_harness.trace.tracefile import (
    TraceError,
    TraceEvent,
    TraceFile,
    invalid,
    load_trace,
    trace_events,
    trace_for,
    write_trace,
)
from rcu_harness.version import __version__

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rcu_harness.runner.shrink import ShrinkResult
    from rcu_harness.scenarios.spec import Config


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


def _module(scenario: str) -> str:
    return get_scenario(scenario).source_module


def from_trace(path: Path) -> Target:
    """The execution a trace file records (TraceError if it cannot be used)."""
    first = load_trace(path, check_fingerprint=False)
    if first.strategy not in STRATEGIES:
        raise invalid(path, first.format, f"unknown strategy {first.strategy!r} "
                      f"(known: {', '.join(sorted(STRATEGIES))})")
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
    setup = program(cfg)
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(setup, strategy, seed, max_steps=max_steps,
                           strategy_params=dict(strategy_params))
        schedule = schedule_of(setup, strategy=strategy, seed=seed,
                               execution=execution, strategy_params=params,
                               max_steps=max_steps)
    command = replay_command(cfg, strategy=strategy, seed=seed, execution=execution,
                             strategy_params=params, max_steps=max_steps)
    return Target(cfg, schedule, max_steps, strategy, params, seed, execution,
                  command)


def replay(target: Target, *, schedule: Schedule | None = None,
           command: str | None = None) -> ReplayResult:
    """Rerun @target (or @schedule in its place) strictly, recording everything."""
    text = command or target.command
    with applied(target.cfg.mutant, target.cfg.fixes):
        return strict_replay(schedule or target.schedule, program=program(target.cfg),
                             max_steps=target.max_steps, execution=target.execution,
                             replay_hint=lambda _info: text)


def recorded_difference(target: Target, r: ReplayResult) -> str | None:
    """How the trace's recorded events differ from this replay's, or None.

    The trace stores a finding's events (its last few hundred, plus its
    object's life cycle) besides the digest of the whole stream; both are
    compared, so a trace whose events were edited (and its digest left
    alone) does not pass for the execution it no longer records.
    """
    trace = target.trace
    if trace is None:
        return None
    if trace.events_digest and trace.events_digest != r.events_digest:
        return (f"its digest is {trace.events_digest}, this replay's "
                f"{r.events_digest}")
    if not trace.events:
        return None
    mine = (trace_events(r.finding.events, r.finding.threads)
            if r.finding is not None else ())
    for i, (a, b) in enumerate(zip(trace.events, mine, strict=False)):
        if a != b:
            return (f"its recorded event {i} (step {a.step}, {a.thread}) is "
                    f"{_text(a)}, this replay's is {_text(b)}")
    if len(trace.events) != len(mine):
        return (f"it records {len(trace.events)} events of the finding, this "
                f"replay has {len(mine)}")
    return None


def _text(e: TraceEvent) -> str:
    where = f"{e.word}[{e.index}]" if e.word and e.index >= 0 else e.word or ""
    return " ".join(x for x in (e.kind, where, e.addr, e.value) if x)


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
    return free_path(Path(f"{file_stem(target.cfg.scenario)}{bug}-{sig}.min.json"))


def write_minimized(target: Target, schedule: Schedule, path: Path
                    ) -> ReplayResult:
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
                      events_digest=again.events_digest,
                      scenario_module=_module(target.cfg.scenario))
    write_trace(path, trace)
    return again
