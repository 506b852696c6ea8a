"""The ``dfs`` strategy: exhaustive depth-first search, preemption-bounded.

Every execution replays a prefix of decisions and then takes the first
option at each new decision point; :meth:`DfsStrategy.new_execution`
backtracks to the deepest point with an untried option.  Options at a point
are the current thread first (no preemption), then the other runnable
threads ascending; at a yield (``schedule()``) only the other threads are
options and switching is free, so a spin-wait cannot spin forever on one
path.  Switching away from a thread that could have continued is a
*preemption*; a path may contain at most ``preemption_bound`` of them
(Musuvathi and Qadeer, PLDI 2007: most bugs need very few).  When the
current thread blocked or finished, any choice is free.

Under a weak memory model a load that may read one of several stores is a
point too (:meth:`DfsStrategy.next_read`): its options are the stores,
newest first, and choosing one is never a preemption, so the search
enumerates every store each load may read (the litmus tests of
:mod:`rcu_harness.memory.wmm` rely on it).

When every option of every point is tried, ``new_execution`` returns False
and ``exhausted`` is True.  The search state after an execution is exactly
that execution's path, so :meth:`DfsStrategy.follow` can rebuild it from
the execution's decisions alone: a campaign resumed or handed to another
process retraces the last finished execution once and goes on from there.
The search needs the program to be deterministic: the same prefix must
lead to the same runnable sets, else
:class:`~rcu_harness.sched.errors.NondeterminismError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.sched.errors import NondeterminismError
from rcu_harness.sched.schedule import RANDOM, read_index
from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(slots=True)
class _Point:
    runnable: tuple[int, ...]
    current: int | None
    options: tuple[int, ...]
    chosen: int
    """Index into options of the option taken on the current path."""
    preemptions: int
    """Preemptions on the path before this point."""

    def preempts(self) -> int:
        """Preemptions on the path up to and including this point's choice."""
        pick = self.options[self.chosen]
        return self.preemptions + (self.current is not None and pick != self.current)


class DfsStrategy:
    """Preemption-bounded exhaustive search."""

    name = "dfs"

    def __init__(self, seed: int = 0, *, preemption_bound: int = 2) -> None:
        self.seed = seed
        self.preemption_bound = preemption_bound
        self.execution_seed = derive(seed, 0)
        self.exhausted = False
        self._stack: list[_Point] = []
        self._pos = 0
        self._started = False
        self._data = DataSource(self.execution_seed)
        # Invariant: thread choices the next execution must retrace (set by
        # follow(), cleared by the new_execution() after it).
        self._forced: tuple[int, ...] | None = None

    def follow(self, steps: Sequence[int]) -> None:
        """Make the next execution retrace @steps, a finished execution's
        decisions (random draws, -1, are skipped); the one after continues
        the search from that path, as if this strategy had run it."""
        self._forced = tuple(s for s in steps if s != RANDOM)
        self._stack = []
        self._started = False
        self.exhausted = False

    def new_execution(self, index: int) -> bool:
        """Backtrack to the next unexplored path; False when none is left."""
        self._pos = 0
        self._data = DataSource(self.execution_seed)
        if not self._started:
            self._started = True
            return True
        self._forced = None
        while self._stack:
            top = self._stack[-1]
            if top.chosen + 1 < len(top.options):
                top.chosen += 1
                return True
            self._stack.pop()
        self.exhausted = True
        return False

    def _options(self, runnable: Sequence[int], current: int | None,
                 preemptions: int, yielding: bool) -> tuple[int, ...]:
        if current is None or current not in runnable:
            return tuple(runnable)
        if yielding:
            return tuple(t for t in runnable if t != current)
        if preemptions >= self.preemption_bound:
            return (current,)
        return (current, *(t for t in runnable if t != current))

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """Follow the prefix, then the first option of each new point."""
        pos = self._pos
        self._pos = pos + 1
        cur = current if current in runnable and not yielding else None
        if pos < len(self._stack):
            p = self._stack[pos]
            if p.runnable != tuple(runnable) or p.current != cur:
                raise NondeterminismError(
                    f"dfs: at decision {pos} the program offered runnable "
                    f"{list(runnable)} (current {cur}), but earlier "
                    f"{list(p.runnable)} (current {p.current}): the program "
                    "is not deterministic for a fixed schedule")
            return p.options[p.chosen]
        before = self._stack[-1].preempts() if self._stack else 0
        options = self._options(runnable, current if current in runnable
                                else None, before, yielding)
        chosen = self._retrace(pos, options) if self._forced is not None else 0
        self._stack.append(_Point(tuple(runnable), cur, options, chosen, before))
        return options[chosen]

    def next_read(self, options: int, thread: int) -> int:
        """Follow the prefix, then the newest store at each new read point."""
        pos = self._pos
        self._pos = pos + 1
        if pos < len(self._stack):
            p = self._stack[pos]
            if p.runnable or len(p.options) != options:
                raise NondeterminismError(
                    f"dfs: at decision {pos} a load of thread {thread} may read "
                    f"{options} stores, but earlier the program offered "
                    f"{list(p.runnable) or f'{len(p.options)} stores'}: the "
                    "program is not deterministic for a fixed schedule")
            return p.options[p.chosen]
        before = self._stack[-1].preempts() if self._stack else 0
        choices = tuple(range(options))
        chosen = 0
        if self._forced is not None:
            forced = self._forced
            k = read_index(forced[pos]) if pos < len(forced) else -1
            if not 0 <= k < options:
                raise NondeterminismError(
                    f"dfs: retracing a finished execution, decision {pos} was "
                    f"not a read of one of {options} stores")
            chosen = k
        self._stack.append(_Point((), None, choices, chosen, before))
        return chosen

    def _retrace(self, pos: int, options: tuple[int, ...]) -> int:
        """The option index of forced decision @pos."""
        forced = self._forced or ()
        if pos >= len(forced) or forced[pos] not in options:
            wanted = forced[pos] if pos < len(forced) else "nothing (ended)"
            raise NondeterminismError(
                f"dfs: retracing a finished execution, decision {pos} took "
                f"{wanted} but the search offers {list(options)}")
        return options.index(forced[pos])

    def next_u64(self) -> int:
        """Random values are not branched on: one fixed data source."""
        return self._data.next_u64()
