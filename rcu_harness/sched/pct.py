"""The ``pct`` strategy: Probabilistic Concurrency Testing (priority change points).

Burckhardt, Kothari, Musuvathi and Nagarakatte, ASPLOS 2010: give every
thread a random distinct priority, always run the highest-priority runnable
thread, and at ``depth - 1`` random change points lower the running thread's
priority below every initial one.  A bug of depth ``d`` in a program with
``n`` threads and ``k`` steps is found with probability at least
``1 / (n * k**(d-1))`` per execution.

``k`` is estimated from the longest previous execution (the strategy counts
the decisions it makes), or given as ``steps``.  A thread that yields (it
spins in a retry loop) drops to the lowest priority of all, so strict
priorities never let a spinner starve the thread it waits for.  New threads
take a random position among the initial priorities when they first become
runnable.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Sequence


MAX_DEPTH = 1000
"""The largest ``depth`` accepted: a bug of depth ``d`` is found with
probability ``1 / (n * k**(d-1))``, so depths beyond a handful find nothing
more, and each execution draws ``depth - 1`` change points."""


KEEP_ALL = 1 << 62
"""``keep`` when no change point is left: every later decision."""


class PctStrategy:
    """PCT with depth ``depth``."""

    name = "pct"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0) -> None:
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"{self.name} depth must be between 1 and "
                             f"{MAX_DEPTH} (got {depth})")
        if steps < 0:
            raise ValueError(f"{self.name} steps must be >= 0 (got {steps})")
        self.seed = seed
        self.depth = depth
        self.execution_seed = derive(seed, 0)
        self._steps_param = steps
        self._max_seen = 0
        # Invariant: every thread id seen this execution is in exactly one
        # of _order (initial priorities, highest first) or _lowered (lowered
        # at a change point; later entries have higher priority).
        self._order: list[int] = []
        self._lowered: list[int] = []
        self._known: set[int] = set()
        """The thread ids in _order or _lowered (membership only)."""
        # Invariant: ascending; at most depth - 1 decision indices (1-based).
        self._change_points: list[int] = []
        # Invariant: number of decisions made in the current execution.
        self._step = 0
        self._rng = random.Random(self.execution_seed)
        self._data = DataSource(self.execution_seed)
        self.keep = 0
        """How many of the decisions after the last one surely choose the
        same thread, while the runnable set stays the same and no thread
        yields: the decisions before the next change point (see
        :class:`~rcu_harness.sched.protocol.Keeping`)."""

    keeps_maple = keeps_none = False
    """PCT's change points fall on any decision (see
    :class:`~rcu_harness.sched.protocol.Keeping`)."""

    @property
    def keeper(self) -> PctStrategy | None:
        """This strategy, whose answer holds between change points (not a
        subclass that decides otherwise, such as ``pct-sync``)."""
        return self if type(self).next_thread is PctStrategy.next_thread else None

    def skip(self, n: int) -> None:
        """@n decisions were made without a call, each the kept thread."""
        self._step += n

    @property
    def estimated_steps(self) -> int:
        """The ``k`` change points are drawn from."""
        return self._steps_param or max(self._max_seen, 1)

    def new_execution(self, index: int) -> bool:
        """Draw change points for execution @index."""
        self._max_seen = max(self._max_seen, self._step)
        self.execution_seed = derive(self.seed, index)
        self._rng = random.Random(self.execution_seed)
        self._data = DataSource(self.execution_seed)
        self._order, self._lowered, self._step = [], [], 0
        self._known = set()
        k = self.estimated_steps
        points = {self._rng.randint(1, k) for _ in range(self.depth - 1)}
        self._change_points = sorted(points)
        return True

    def _see(self, runnable: Sequence[int]) -> None:
        known = self._known
        for tid in runnable:
            if tid not in known:
                pos = self._rng.randint(0, len(self._order))
                self._order.insert(pos, tid)
                known.add(tid)

    def _highest(self, runnable: Sequence[int]) -> int:
        for tid in self._order:
            if tid in runnable:
                return tid
        for tid in reversed(self._lowered):
            if tid in runnable:
                return tid
        raise AssertionError("runnable thread without a priority")

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The highest-priority runnable thread, after any change point.

        A yielding thread spins: it drops below every other thread (the
        lowest priority of all), so the threads it waits for run until they
        block, finish or yield in turn, and a spinner can never starve them
        (CHESS's fair scheduling applied to PCT's priorities).
        """
        self._step += 1
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        for choice in self._order:  # _highest(), its usual first loop inline
            if choice in runnable:
                break
        else:
            choice = self._highest(runnable)
        points = self._change_points
        if points and points[0] == self._step:
            points.pop(0)
            self._lower(choice, lowest=False)
            choice = self._highest(runnable)
        # Priorities change only at change points, yields and new threads:
        # until the next change point the highest runnable stays the choice.
        self.keep = points[0] - self._step - 1 if points else KEEP_ALL
        return choice

    def _lower(self, tid: int, *, lowest: bool) -> None:
        """Move @tid below every initial priority: above the threads lowered
        before (a change point) or below everything (a yield)."""
        if tid in self._order:
            self._order.remove(tid)
        else:
            self._lowered.remove(tid)
        if lowest:
            self._lowered.insert(0, tid)
        else:
            self._lowered.append(tid)

    def next_u64(self) -> int:
        """A value from the execution's data source."""
        return self._data.next_u64()

    def next_read(self, options: int, thread: int) -> int:
        """Any of the stores the load may read, uniformly (PCT's priorities
        order threads, not stores)."""
        return int(self._rng.random() * options)
