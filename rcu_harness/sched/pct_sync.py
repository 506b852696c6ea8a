"""The ``pct-sync`` strategy: PCT whose change points fall only at sync points.

PCT (:mod:`rcu_harness.sched.pct`) draws ``depth - 1`` change points
uniformly among the ``k`` decisions of an execution, so a bug that needs a
thread stopped inside a window one decision wide is hit with probability
about ``1/k`` per change point.  In the page_fault scenario about 60% of
the decisions are maple node words (a walk loads a pivot and a slot per
level), and the windows of the slow mutants sit at the others:
after ``rcu_read_unlock()`` and before a VMA field, between a slot load and
the VMA's ``vm_lock_seq``, before a lock or a refcount RMW (docs/search.md,
*The slow mutants*).  ``pct-sync`` counts as change point candidates only
*sync* decisions: those at which the thread PCT would run is stopped at a
point that is not a maple node or tree word
(:func:`~rcu_harness.runtime.pending.is_sync`: a lock, an RCU primitive, a
yield, a VMA or mm field, a refcount RMW, a slab free; written out here,
since a strategy imports nothing of the runtime layer above it: it reads
the ``maple`` class attribute of a pending access).  A change point
then stops that thread there, exactly as PCT's does; priorities, yields and
new threads are PCT's.  A window of one sync decision among ``s`` is hit
with probability ``1/s`` per change point instead of ``1/k``; a window
made of node words (a writer inside a tree store) has fewer candidates
and is hit less often, which is why the default portfolio keeps plain pct
beside it.

``k`` is ``sync_steps``: the sync decisions of one ``random`` execution
seeded by the base seed alone, measured before a run
(:func:`rcu_harness.runner.block.calibrate`, as PCT's ``steps``), or given.
The strategy watches pending accesses
(:class:`~rcu_harness.sched.protocol.Watching`); the decision it adds to
PCT's is one attribute load on the chosen thread's pending access.
Execution ``i`` draws from ``derive(seed, i)`` alone.

``points`` narrows the candidates further, aiming the stall at the
pending access (docs/search.md, *Aiming the stall*): ``sync`` (the
default, above), ``access`` (a non-maple memory access: a VMA or mm field
load or store, a field's read-modify-write, a lock operation; not an RCU
primitive, a yield, an ``Atomic`` counter or a free, which have no pending
access) or ``field`` (those without the lock operations).  ``sync_steps``
then counts the decisions of that kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.errors import check_choice
from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.random_walk import RandomStrategy

if TYPE_CHECKING:
    from collections.abc import Sequence


POINTS = ("sync", "access", "field")
"""The kinds of decision ``pct-sync`` draws its change points among."""


def point_kinds(points: str, strategy: str = "pct-sync") -> tuple[bool, bool]:
    """(counts a point without a pending access, counts a lock operation)."""
    check_choice(strategy, "points", points, POINTS)
    return points == "sync", points != "field"


def counted(pending: Any, at_none: bool, at_locks: bool) -> bool:
    """Is a decision whose chosen thread's pending access is @pending a
    change point candidate (see :data:`POINTS`)?"""
    if pending is None:
        return at_none
    return not pending.maple and (at_locks or pending.word != "lock")


class PctSyncStrategy(PctStrategy):
    """PCT with depth ``depth`` over the sync decisions of an execution."""

    name = "pct-sync"
    counts_sync = True
    """It takes ``sync_steps`` (calibration measures it when not given)."""

    def __init__(self, seed: int = 0, *, depth: int = 3, sync_steps: int = 0,
                 points: str = "sync") -> None:
        if sync_steps < 0:
            raise ValueError(f"pct-sync sync_steps must be >= 0 (got {sync_steps})")
        self._at_none, self._at_locks = point_kinds(points)
        self.keeps_none = not self._at_none
        """Is a point without an access never a sync decision either?"""
        self.points = points
        # PCT's step counter and estimate count sync decisions here.
        super().__init__(seed, depth=depth, steps=sync_steps)
        self._threads: Sequence[Any] = ()

    def new_execution(self, index: int) -> bool:
        """Draw change points among the sync decisions of execution @index."""
        self._threads = ()
        return super().new_execution(index)

    def watch(self, threads: Sequence[Any]) -> bool:
        """Keep the execution's threads: their pending accesses say which
        decisions are sync decisions."""
        self._threads = threads
        return True

    keeps_maple = True
    """A maple word is never a sync decision (nor a change point): the
    answer there is the highest runnable thread, the current one."""

    @property
    def keeper(self) -> PctSyncStrategy | None:
        """This strategy: ``keep`` stays 0 (a change point may fall on any
        sync decision), ``keeps_maple`` (not a subclass that decides
        otherwise)."""
        return self if type(self).next_thread is PctSyncStrategy.next_thread else None

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """PCT's choice; a sync decision may be a change point."""
        # PctStrategy.next_thread()'s choice without its change point,
        # written out: as a shared method call it cost 1.6% more
        # instructions per point on maple nodes and 3.6% on SimStruct
        # (stress/bench_sched.py --callgrind, pct-sync, 5 December 2026)
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        for choice in self._order:  # _highest(), its usual first loop inline
            if choice in runnable:
                break
        else:
            choice = self._highest(runnable)
        threads = self._threads
        pending = threads[choice].pending if choice < len(threads) else None
        if (self._at_none if pending is None else not pending.maple and (
                self._at_locks or pending.word != "lock")):  # counted()
            step = self._step = self._step + 1
            points = self._change_points
            if points and points[0] == step:
                points.pop(0)
                self._lower(choice, lowest=False)
                choice = self._highest(runnable)
        return choice


class SyncCounter(RandomStrategy):
    """The random walk, counting its sync decisions, or those of the kind
    @points names (the calibration probe of ``sync_steps``)."""

    def __init__(self, seed: int = 0, points: str = "sync") -> None:
        super().__init__(seed)
        self._at_none, self._at_locks = point_kinds(points)
        self._threads: Sequence[Any] = ()
        self.sync_decisions = 0

    def watch(self, threads: Sequence[Any]) -> bool:
        """Read pending accesses (they classify the decisions)."""
        self._threads = threads
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The random walk's choice, counted if it is a sync decision."""
        choice = super().next_thread(runnable, current, yielding)
        threads = self._threads
        pending = threads[choice].pending if choice < len(threads) else None
        if counted(pending, self._at_none, self._at_locks):
            self.sync_decisions += 1
        return choice
