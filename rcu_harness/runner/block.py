"""The exploration loop: a block of executions of one program.

Every exploration runs through :func:`run_block`: :func:`rcu_harness.explore`
(one block, all its executions), a campaign's worker
(:func:`rcu_harness.campaign.worker.run_unit`, one block per work unit, in
whatever process) and the benchmarks.  For each index ``i`` of the block:
``strategy.new_execution(i)`` (False: the strategy is exhausted), one
execution with no events recorded, and a summary (seed, steps, wall time,
signature, benign counters and, if asked, the latency samples as plain lists,
:func:`~rcu_harness.runtime.metrics.sample_lists`).  The cyclic collector runs
less often while a block runs (:mod:`rcu_harness.runner.collector`).

A violation's signature is known without a report.  The first execution of
each signature not in ``seen`` (which the caller keeps, across blocks if it
likes) is diagnosed (:func:`~rcu_harness.runner.findings.diagnose`) and
finalised with the command that replays it; later ones only count.
Without ``keep_going`` the block ends at its first violation.  A
``deadline`` (a :func:`time.monotonic` value) only stops the block between
executions: wall-clock time never changes what an execution does.

Strategies with history (:class:`~rcu_harness.sched.protocol.Sequential`)
resume from the last execution of the previous block: :func:`resume` puts
them on its path (``follow``) and retraces it once.  Calibrated strategies
get their ``steps`` from :func:`calibrate` before the first block.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.reads_from import ReadsFromCoverage
from rcu_harness.errors import ExecutionAbandoned
from rcu_harness.runner.collector import young_threshold
from rcu_harness.runner.feedback import Feedback, pair_texts
from rcu_harness.runner.findings import diagnose, finalize
from rcu_harness.runner.run import DEFAULT_MAX_STEPS, run_execution
from rcu_harness.runtime.finding import Finding, signature
from rcu_harness.runtime.metrics import sample_lists
from rcu_harness.sched.aimed_class import AUTO, program_class
from rcu_harness.sched.data_aim import AUTO as DATA_AUTO
from rcu_harness.sched.data_aim import NONE as DATA_NONE
from rcu_harness.sched.errors import NondeterminismError
from rcu_harness.sched.pct_site import (
    CONFLICT_WALKS,
    RCU_OR_ANY,
    ConflictCounter,
    DataCounter,
    SiteCounter,
    resolve_stall_in,
)
from rcu_harness.sched.protocol import Guided, Profiled, Sequential
from rcu_harness.sched.registry import (
    check_bounds,
    counts_sites,
    counts_sync,
    strategy_kind,
    takes,
)
from rcu_harness.sched.schedule import READ
from rcu_harness.trace.events import decode_all, events_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.finding import Violation
    from rcu_harness.sched.protocol import Strategy
    from rcu_harness.sched.rff import CorpusEntry
    from rcu_harness.sched.schedule import Schedule
    from rcu_harness.store.samples import Samples



@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The summary of one execution."""

    idx: int
    seed: int
    steps: int
    wall_ns: int
    signature: str | None
    counters: dict[str, int]
    samples: Samples = field(default_factory=dict)
    """The latency samples (:func:`~rcu_harness.runtime.metrics.sample_lists`),
    if asked; empty otherwise."""


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """A finding with the digest of its fully recorded event stream."""

    finding: Finding
    events_digest: str


@dataclass(frozen=True, slots=True)
class BlockResult:
    """What a block produced."""

    executions: tuple[ExecutionResult, ...]
    findings: tuple[Diagnosed, ...]
    """The diagnosed first execution of each new signature, in order."""
    exhausted: bool
    """The strategy had no execution left."""
    timed_out: bool
    """The deadline stopped the block before its last index."""
    last_schedule: Schedule | None
    """The schedule of the block's last execution (None: it ran none)."""
    reads_from: dict[str, tuple[int, int]] = field(default_factory=dict)
    """With ``coverage``: each reads-from pair the block's executions made
    (:mod:`rcu_harness.memory.reads_from`, as text), with the first of them
    that made it and how many did."""
    corpus: tuple[CorpusEntry, ...] = ()
    """A guided strategy's: the executions that made pairs no earlier
    execution of the block made (:mod:`rcu_harness.runner.feedback`)."""


def calibrate(program: Callable[[Harness], None], strategy: str, seed: int, *,
              max_steps: int = DEFAULT_MAX_STEPS,
              strategy_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Strategy parameters with everything that must not depend on history.

    PCT draws its change points from ``[1, k]`` where ``k`` is the number of
    scheduling decisions an execution makes.  Estimating ``k`` from earlier
    executions would make execution i depend on executions 0..i-1 (and so on
    how a campaign is split across processes); instead ``k`` is measured once,
    from one ``random`` execution whose seed derives from the base seed alone,
    and passed as ``steps`` to calibrated strategies (``pct``, and ``mix``,
    whose even executions are pct).  ``pct-sync`` (and a portfolio with a
    ``pct-sync`` member, such as ``aimed-surw``) gets ``sync_steps``, the number
    of those decisions that were of the kind its ``points`` names (given,
    else the strategy's own default: ``sync``, the chosen thread not at a
    maple word, :func:`~rcu_harness.runtime.pending.is_sync`, or ``field``
    for ``aimed`` and ``aimed-surw``), counted on the same random walk while
    it watches pending accesses.  ``pct-site`` and ``pct-relay`` (and a
    portfolio with either member, such as ``aimed-site``, ``aimed-relay``,
    ``aimed-stale``, ``aimed-pct`` and ``aimed-rcu``)
    get ``sites``, the
    number of distinct sites (fields) of that random walk's decisions of
    its ``points`` kind (``field`` unless given; with ``stall_in=rcu`` only
    those whose thread was inside an RCU read-side section; ``rcu-or-any``,
    ``aimed-rcu``'s, is resolved here to ``rcu`` when the walk reached 2 of
    those or more, else to ``any``, and passed on so), and, when that
    is below 2
    (a program without VMA or mm fields), ``fallback_steps``, the walk's
    decisions of the kind ``sync``, among which pct-site then draws its stall
    (:mod:`rcu_harness.sched.pct_site`, *Fallback*), or with ``fallback``
    ``pct`` (``aimed-pct``'s) all of its decisions, ``steps``, PCT's ``k``.
    ``aimed-class``'s ``program_class=auto`` is resolved on the same walk
    (:func:`~rcu_harness.sched.aimed_class.program_class`: the walk's read
    choices, sites and readers' sites) and passed on so.
    With ``aim=conflict`` and the form ``rcu``, the walk also collects
    pct-site's ``acts`` (the fields a thread stored to inside an RCU
    read-side section) and, for a pct-relay, ``conflicts`` (the readers'
    fields another thread stored to in an object a reader held), the
    latter over :data:`~rcu_harness.sched.pct_site.CONFLICT_WALKS` walks
    (its executions ``0..15``), each only for a member that takes it
    (:mod:`rcu_harness.sched.pct_site`, *Conflict aim*); with ``data=auto``
    (``aimed-data``'s) the same walks, made by a
    :class:`~rcu_harness.sched.pct_site.DataCounter` (the same decisions and
    values), score the program's draws into ``data``
    (:mod:`rcu_harness.sched.data_aim`), resolved to ``none`` where they are not
    run or score nothing.
    The walk is run once: when ``sync_steps``, ``sites`` or the class is
    wanted, the probe is
    :class:`~rcu_harness.sched.pct_site.SiteCounter`, which counts them
    all while it walks, and ``steps`` is its decisions (watching pending
    accesses changes no decision, so every value is the one separate
    probes measured); else a plain ``random`` execution.  A *profiled*
    strategy (``surw``, a portfolio with a ``surw`` member) gets its
    ``profile`` the same way, from one execution of its own made without
    one.  Other strategies need nothing.

    A probe that livelocks (a mutant's reader spinning on a dead node) can
    make more decisions than the step bound: past the bound the execution
    goes on under a fair round-robin for up to the bound again before the
    livelock is reported.  Its counts are then taken as the bound, the most
    decisions an execution can make before livelock is diagnosed, so that
    the run goes on (and finds the livelock) instead of refusing its own
    calibration.

    Bounds are checked (:func:`~rcu_harness.sched.registry.check_bounds`)
    once ``steps`` is known: a PCT depth beyond it is refused.
    """
    params = dict(strategy_params or {})
    kind = strategy_kind(strategy)
    if (kind.profiled and not params.get("profile")
            and takes(strategy, params, "profile")):
        own = {k: v for k, v in params.items() if k != "steps"}
        params["profile"] = _profile(program, kind.make(seed, **own), max_steps)
    steps = (kind.calibrated and not params.get("steps")
             and takes(strategy, params, "steps"))
    sync = not params.get("sync_steps") and counts_sync(strategy, params)
    sites = not params.get("sites") and counts_sites(strategy, params)
    points = params.get("points", kind.options().get("points"))
    classify = params.get("program_class",
                          kind.options().get("program_class")) == AUTO
    conflict = bool(sites) and params.get(
        "aim", kind.options().get("aim")) == "conflict"
    data = params.get("data", kind.options().get("data")) == DATA_AUTO
    counter: type[SiteCounter] = (
        (DataCounter if data and takes(strategy, params, "data") else ConflictCounter)
        if conflict else SiteCounter)
    walk = counter(seed, str(points or "field"),
                   str(points or "sync")) if sync or sites or classify else None
    if steps or walk is not None:
        probe = walk or strategy_kind("random").make(seed)
        probe.new_execution(0)
        ex = run_execution(program, probe, 0, max_steps=max_steps, record=0)
        decisions = sum(1 for d in ex.decisions if d >= 0)
        if steps:
            params["steps"] = min(max_steps, max(1, decisions))
        if classify and walk is not None:
            params["program_class"] = program_class(
                sum(1 for d in ex.decisions if d <= READ), len(walk.sites),
                len(walk.rcu_sites))
        if sync and walk is not None:
            params["sync_steps"] = min(max_steps, max(1, walk.sync_decisions))
        if sites and walk is not None:
            stall_in = params.get("stall_in", kind.options().get("stall_in"))
            if stall_in == RCU_OR_ANY:
                stall_in = params["stall_in"] = resolve_stall_in(
                    stall_in, len(walk.rcu_sites))
            rcu = stall_in == "rcu"
            params["sites"] = min(max_steps, max(1, len(
                walk.rcu_sites if rcu else walk.sites)))
            if params["sites"] < 2 and not params.get("fallback_steps"):
                pct = params.get("fallback", kind.options().get("fallback")) == "pct"
                params["fallback_steps"] = min(max_steps, max(
                    1, decisions if pct else walk.fallback_decisions))
            if conflict and rcu and isinstance(walk, ConflictCounter):
                _conflict_words(program, strategy, params, walk, max_steps)
    if data and params.get("data", DATA_AUTO) == DATA_AUTO:
        params["data"] = DATA_NONE  # no walk scored the draws: the generator's values
    check_bounds(strategy, params, max_steps)
    return params


def _conflict_words(program: Callable[[Harness], None], strategy: str,
                    params: dict[str, Any], walk: ConflictCounter,
                    max_steps: int) -> None:
    """``aim=conflict``'s words into @params, unless given: ``acts`` from
    @walk's execution 0 (a pct-site takes them), ``conflicts`` from it and
    its executions ``1..CONFLICT_WALKS - 1`` (a pct-relay takes them), and
    with a :class:`~rcu_harness.sched.pct_site.DataCounter` (``data=auto``)
    ``data`` from the same walks (:mod:`rcu_harness.sched.data_aim`)."""
    if takes(strategy, params, "acts") and not params.get("acts"):
        params["acts"] = ",".join(sorted(walk.act_sites))
    words = takes(strategy, params, "conflicts") and not params.get("conflicts")
    data = isinstance(walk, DataCounter)
    if words or data:
        for index in range(1, CONFLICT_WALKS):
            walk.new_execution(index)
            run_execution(program, walk, index, max_steps=max_steps, record=0)
    if words:
        params["conflicts"] = ",".join(sorted(walk.conflicts))
    if isinstance(walk, DataCounter):
        params["data"] = walk.data or DATA_NONE


def _profile(program: Callable[[Harness], None], probe: Strategy,
             max_steps: int) -> str:
    """A profiled strategy's ``profile``: what execution 0 of @probe's
    profile probe (made without one, so from the base seed alone) measured
    (``surw``: each thread's number of interesting events)."""
    if not isinstance(probe, Profiled):
        raise TypeError(f"{type(probe).__name__} measures no profile")
    probe = probe.profile_probe()
    probe.new_execution(0)
    run_execution(program, probe, 0, max_steps=max_steps, record=0)
    return probe.measured_profile()


def resume(program: Callable[[Harness], None], strategy: Strategy,
           previous: Schedule, index: int, *, max_steps: int) -> None:
    """Put sequential @strategy on the path of execution @index, whose
    schedule was @previous, so that its next execution is @index + 1."""
    if not isinstance(strategy, Sequential):
        raise NondeterminismError(f"strategy {type(strategy).__name__} has no "
                                  "history to resume")
    strategy.follow(previous.steps)
    strategy.new_execution(index)
    ex = run_execution(program, strategy, index, max_steps=max_steps, record=0)
    if ex.schedule() != previous:
        raise NondeterminismError(f"execution {index} did not retrace its "
                                  "recorded schedule")


def _diagnosed(program: Callable[[Harness], None], ex: Execution, *, max_steps: int,
               checkers: Sequence[Callable[[], Observer]] | None,
               command: Callable[[int, Schedule], str]) -> Diagnosed:
    schedule = ex.schedule()
    full = diagnose(program, ex, max_steps=max_steps, checkers=checkers)
    finding = finalize(full, schedule, command(ex.index, schedule))
    digest = events_digest(decode_all(full.events)) if full.record else ""
    return Diagnosed(finding, digest)


def run_block(program: Callable[[Harness], None], strategy: Strategy,
              start: int, stop: int, *, command: Callable[[int, Schedule], str],
              seen: set[str], max_steps: int = DEFAULT_MAX_STEPS,
              checkers: Sequence[Callable[[], Observer]] | None = None,
              keep_going: bool = False, samples: bool = False,
              deadline: float | None = None,
              goes_on: Callable[[Violation], bool] | None = None,
              halt: Callable[[], bool] | None = None,
              coverage: bool = False,
              corpus: Sequence[CorpusEntry] = ()) -> BlockResult:
    """Run executions @start .. @stop - 1 of @program; see the module docstring.

    @command gives the replay command of an execution (index, schedule);
    @seen is updated with the signatures diagnosed here; a violation
    @goes_on accepts (a catalogued kernel bug, for campaigns) is counted but
    does not end the block.  @halt is asked between executions (after the
    first): True ends the block there (a campaign's first Ctrl-C).  A
    Ctrl-C that abandons an execution
    (:class:`~rcu_harness.errors.ExecutionAbandoned`) leaves with the
    executions finished before it as its ``partial`` result.  With
    @coverage every execution's reads-from pairs are collected (they do not
    change what it does).  A guided strategy (``rff``) always measures it,
    starts from @corpus (the corpus of the epochs before @start's) and is fed
    the corpus at each later epoch (:class:`~rcu_harness.runner.feedback.Feedback`:
    a block that crosses an epoch must start at 0).
    """
    feedback = None
    if isinstance(strategy, Guided):
        feedback = Feedback(strategy, start, corpus)
        coverage = True
    measured = checkers
    if coverage:
        measured = (*(default_checkers() if checkers is None else checkers),
                    ReadsFromCoverage)
    pairs: dict[str, tuple[int, int]] = {}
    results: list[ExecutionResult] = []
    found: list[Diagnosed] = []
    exhausted = timed_out = False
    last: Execution | None = None
    with young_threshold():  # see rcu_harness.runner.collector
        try:
            for i in range(start, stop):
                if deadline is not None and time.monotonic() >= deadline:
                    timed_out = True
                    break
                if results and halt is not None and halt():
                    break
                if feedback is not None:
                    feedback.before(i)
                if not strategy.new_execution(i):
                    exhausted = True
                    break
                began = time.perf_counter_ns()
                ex = run_execution(program, strategy, i, max_steps=max_steps,
                                   checkers=measured, record=0)
                wall = time.perf_counter_ns() - began
                if coverage:
                    texts = pair_texts(ex)
                    _count_pairs(pairs, texts, i)
                    if feedback is not None:
                        feedback.after(i, texts, ex)
                v = ex.violation
                sig = None if v is None else signature(str(v.kind), v.key)
                if sig is not None and sig not in seen:
                    found.append(_diagnosed(program, ex, max_steps=max_steps,
                                            checkers=checkers, command=command))
                    seen.add(sig)
                results.append(ExecutionResult(i, strategy.execution_seed, ex.step,
                                               wall, sig, dict(ex.counters),
                                               sample_lists(ex) if samples else {}))
                last = ex
                if v is not None and not keep_going and not (
                        goes_on is not None and goes_on(v)):
                    break
        except ExecutionAbandoned as exc:
            exc.partial = BlockResult(tuple(results), tuple(found), False, False,
                                      last.schedule() if last is not None else None,
                                      pairs, _made(feedback))
            raise
    return BlockResult(tuple(results), tuple(found), exhausted, timed_out,
                       last.schedule() if last is not None else None, pairs,
                       _made(feedback))


def _made(feedback: Feedback | None) -> tuple[CorpusEntry, ...]:
    return () if feedback is None else tuple(feedback.made)


def _count_pairs(pairs: dict[str, tuple[int, int]], seen: set[str],
                 index: int) -> None:
    """Add execution @index's reads-from pairs @seen to @pairs."""
    for text in seen:
        got = pairs.get(text)
        pairs[text] = (index, 1) if got is None else (got[0], got[1] + 1)
