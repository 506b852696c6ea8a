"""Shrinking a failing schedule to the fewest preemptions.

A recorded schedule says which thread ran at every decision; most of those
choices are noise (a random walk switches at three points in four) and a
bug usually needs one to three well-placed preemptions (Musuvathi and
Qadeer, PLDI 2007).  Shrinking looks for a schedule that fails *the same
way* (same finding signature) with as few preemptions as it can.

Representation (after Thrille, Jalbert and Sen, FSE 2010).  A schedule is
a list of *segments* ``(thread, n)``: the thread chosen at the next ``n``
decisions.  :class:`SegmentStrategy` replays a segment list: it picks the
segment's thread while it is runnable; when it is not (blocked), it does
what the *default policy* does (keep the current thread if it can go on,
else the next runnable thread after the last one chosen) without using up
the segment; after the last segment it follows the default policy.  The
actual decisions of the run are the new schedule, which replays strictly.

Moves, each kept only if the run still fails with the target signature
and has no more preemptions than the best so far:

1. *delay a thread*: all of one thread's segments merged and moved to the
   end (a thread that plays no part runs after the failure);
2. *remove a preemption*: a preempted thread's segment merged with its
   next one, so the segments between run after it (tried from the last
   preemption to the first, in passes until none is accepted).

3. *read the newest store*: under a weak memory model, a load that read an
   older store than the newest its view allowed reads the newest instead
   (tried from the last stale read to the first), so that the result keeps
   only the stale reads the failure needs.

A segment list keeps each thread's read choices in that thread's order
(the ``i``-th read choice of thread ``t`` stays the ``i``-th), clamped to
the stores the load may read when timing changed.

Dropping a single decision would shift every thread's timing at once;
moving whole segments keeps what each thread does between switches.  The
search is deterministic (fixed order; no randomness, no time) and bounded
by ``max_runs`` executions.  Within the budget the result is a fixed point
of both moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.errors import HarnessError
from rcu_harness.runtime.finding import signature
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.sched.schedule import Decision, preemptions
from rcu_harness.sched.seeds import DataSource

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.sched.protocol import Strategy
    from rcu_harness.sched.schedule import Schedule

Segment = tuple[int, int]
"""(thread, number of decisions it is chosen at)."""
Reads = dict[int, tuple[int, ...]]
"""Per thread, its read choices in order (0: the newest store)."""


def default_choice(runnable: Sequence[int], current: int | None, yielding: bool,
                   last: int) -> int:
    """No preemption; else the next runnable thread after @last (round robin)."""
    if current is not None and current in runnable and not yielding:
        return current
    pool = [t for t in runnable if not (yielding and t == current)] or list(runnable)
    after = [t for t in pool if t > last]
    return after[0] if after else pool[0]



class SegmentStrategy:
    """Replays a segment list, filling gaps with the default policy; logs
    every thread choice."""

    name = "shrink"

    def __init__(self, seed: int, segments: Sequence[Segment],
                 reads: Reads | None = None, values: Sequence[int] = ()) -> None:
        self.execution_seed = seed
        self.decisions: list[Decision] = []
        self.reads: dict[int, list[int]] = {}
        """Per thread, the read choices made, in order."""
        self._reads = dict(reads or {})
        self._data = DataSource(seed)
        self._values = tuple(values)
        """The schedule's chosen values (empty: regenerated from the seed)."""
        self._drawn = 0
        self.next_value: Callable[[int, int], int] | None = (
            self._recorded_value if values else None)
        """With chosen values, they are the execution's draws again, in
        order, and recorded in its schedule
        (:class:`~rcu_harness.sched.protocol.ChoosesData`)."""
        self._segments = tuple(segments)
        self._left: list[int] = []
        self._pos = 0
        self._last = -1

    def new_execution(self, index: int) -> bool:
        """Start the segment list over."""
        self.decisions, self.reads, self._pos, self._last = [], {}, 0, -1
        self._left = [n for _, n in self._segments]
        self._data = DataSource(self.execution_seed)
        self._drawn = 0
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The segment's thread if runnable (and not yielding), else the
        default choice."""
        left, pos = self._left, self._pos
        while pos < len(left) and left[pos] == 0:
            pos += 1
        self._pos = pos
        mine = self._segments[pos][0] if pos < len(left) else -1
        if mine in runnable and not (yielding and mine == current):
            choice = mine
            left[pos] -= 1
        else:
            choice = default_choice(runnable, current, yielding, self._last)
        self._last = choice
        self.decisions.append(Decision(current, yielding, tuple(runnable), choice))
        return choice

    def next_u64(self) -> int:
        """A value from the schedule seed's data source."""
        return self._data.next_u64()

    def _recorded_value(self, n: int, thread: int) -> int:
        """The schedule's next chosen value (within @n), past them the data
        source's."""
        k = self._drawn
        self._drawn = k + 1
        if k < len(self._values):
            return self._values[k] % n
        return self._data.next_u64() % n

    def next_read(self, options: int, thread: int) -> int:
        """The thread's next recorded read choice (clamped to @options), or
        the newest store past its recorded ones."""
        mine = self._reads.get(thread, ())
        done = self.reads.setdefault(thread, [])
        k = min(mine[len(done)], options - 1) if len(done) < len(mine) else 0
        done.append(k)
        return k

    def read_map(self) -> Reads:
        """The read choices made, per thread."""
        return {t: tuple(ks) for t, ks in sorted(self.reads.items())}


def segments(decisions: Sequence[Decision]) -> list[Segment]:
    """The choices of @decisions as (thread, run length) segments."""
    out: list[list[int]] = []
    for d in decisions:
        if out and out[-1][0] == d.choice:
            out[-1][1] += 1
        else:
            out.append([d.choice, 1])
    return [(t, n) for t, n in out]


def delay_thread(segs: Sequence[Segment], tid: int) -> list[Segment]:
    """@segs with every segment of @tid merged and moved to the end."""
    mine = sum(n for t, n in segs if t == tid)
    return [s for s in segs if s[0] != tid] + [(tid, mine)]


def merge_next(segs: Sequence[Segment], i: int) -> list[Segment] | None:
    """@segs with segment @i merged with its thread's next one (None if none)."""
    tid = segs[i][0]
    j = next((k for k in range(i + 1, len(segs)) if segs[k][0] == tid), None)
    if j is None:
        return None
    return [*segs[:i], (tid, segs[i][1] + segs[j][1]), *segs[i + 1:j], *segs[j + 1:]]


@dataclass(frozen=True, slots=True)
class ShrinkResult:
    """The smallest failing schedule found, and what it took."""

    schedule: Schedule
    signature: str
    preemptions_before: int
    preemptions_after: int
    decisions_before: int
    decisions_after: int
    runs: int
    """Executions the search ran (the original replay included)."""
    budget_spent: bool
    """The search stopped at ``max_runs`` (it may not be at a fixed point)."""
    stale_before: int = 0
    """Loads that read an older store than the newest allowed (weak memory)."""
    stale_after: int = 0


@dataclass(frozen=True, slots=True)
class _Best:
    decisions: tuple[Decision, ...]
    schedule: Schedule
    reads: Reads

    @property
    def preemptions(self) -> int:
        return preemptions(self.decisions)

    @property
    def stale(self) -> int:
        return sum(1 for ks in self.reads.values() for k in ks if k)

    def no_worse(self, best: _Best) -> bool:
        return self.preemptions <= best.preemptions and self.stale <= best.stale


class _Search:
    """The moves, applied greedily within a run budget."""

    def __init__(self, run: Callable[[Strategy], Execution], seed: int,
                 target: str, max_runs: int, values: Sequence[int] = ()) -> None:
        self.run, self.seed, self.target = run, seed, target
        self.values = tuple(values)
        """The failing schedule's chosen values (empty: from the seed)."""
        self.max_runs, self.runs = max_runs, 0

    @property
    def spent(self) -> bool:
        return self.runs >= self.max_runs

    def attempt(self, segs: Sequence[Segment], best: _Best,
                reads: Reads | None = None) -> _Best | None:
        """The run of @segs (and @reads, else @best's) if it fails the same
        way with no more preemptions and no more stale reads."""
        self.runs += 1
        strategy = SegmentStrategy(self.seed, segs,
                                   best.reads if reads is None else reads,
                                   self.values)
        strategy.new_execution(0)
        try:
            ex = self.run(strategy)
        except HarnessError:
            return None
        v = ex.violation
        if v is None or signature(str(v.kind), v.key) != self.target:
            return None
        out = _Best(tuple(strategy.decisions), ex.schedule(), strategy.read_map())
        return out if out.no_worse(best) else None

    def freshen_reads(self, best: _Best) -> _Best:
        """Each stale read, from the last, made to read the newest store."""
        stale = [(t, i) for t, ks in best.reads.items() for i, k in enumerate(ks)
                 if k]
        for t, i in reversed(stale):
            if self.spent:
                break
            ks = best.reads.get(t, ())
            if i >= len(ks) or not ks[i]:
                continue
            reads = {**best.reads, t: (*ks[:i], 0, *ks[i + 1:])}
            found = self.attempt(segments(best.decisions), best, reads)
            best = found or best
        return best

    def delay_threads(self, best: _Best) -> _Best:
        for tid in sorted({d.choice for d in best.decisions}):
            if self.spent:
                break
            found = self.attempt(delay_thread(segments(best.decisions), tid), best)
            best = found or best
        return best

    def remove_preemptions(self, best: _Best) -> _Best:
        changed = True
        while changed and not self.spent:
            changed = False
            i = len(segments(best.decisions)) - 2
            while i >= 0 and not self.spent:
                segs = segments(best.decisions)
                i = min(i, len(segs) - 2)
                cand = merge_next(segs, i) if i >= 0 else None
                found = self.attempt(cand, best) if cand is not None else None
                if found is not None:
                    best, changed = found, True
                i -= 1
        return best


def shrink(run: Callable[[Strategy], Execution], schedule: Schedule, *,
           max_runs: int = 1000) -> ShrinkResult:
    """Shrink failing @schedule to the fewest preemptions with the same finding.

    @run runs one execution of the program under the given strategy (the
    caller binds program, step bound and mutant patches).  Raises
    ValueError if @schedule does not fail, ReplayDivergence if it does not
    replay.
    """
    script = ReplayStrategy(schedule, log=True)
    script.new_execution(0)
    ex = run(script)
    v = ex.violation
    if v is None:
        raise ValueError("the schedule does not fail: nothing to shrink")
    search = _Search(run, schedule.seed, signature(str(v.kind), v.key),
                     max(max_runs, 1), schedule.values)
    search.runs = 1
    original = _Best(tuple(script.decisions), ex.schedule(), script.read_map())
    best = search.remove_preemptions(search.delay_threads(original))
    best = search.freshen_reads(best)
    return ShrinkResult(
        schedule=best.schedule, signature=search.target,
        preemptions_before=original.preemptions,
        preemptions_after=best.preemptions,
        decisions_before=len(original.decisions),
        decisions_after=len(best.decisions),
        runs=search.runs, budget_spent=search.spent,
        stale_before=original.stale, stale_after=best.stale)
