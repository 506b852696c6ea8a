"""The ``random-sync`` strategy: a random walk that switches only at sync points.

The uniform random walk (:mod:`rcu_harness.sched.random_walk`) may switch
at every scheduling point, and most of a page_fault execution's points are
maple node words (a walk loads a pivot and a slot per level): a pattern of
several hand-overs at a few VMA fields and locks, such as
``vma-start-read-skips-seq-recheck``'s (the fault stopped between its
``vm_lock_seq`` and ``sequence`` loads while the writer write-locks the
VMA, then the writer stopped while the fault takes the lock, then the
writer's store while the fault holds it), is drowned in switches inside
tree walks.  ``random-sync`` keeps the current thread running while its
next point is not of the kind ``points`` names, and draws uniformly among
the runnable threads (as the random walk does) at the others, as CHESS
preempts only at synchronisation operations:

* ``sync``: a point that is not a maple word
  (:func:`~rcu_harness.runtime.pending.is_sync`);
* ``access`` (the default): a non-maple memory access (a VMA or mm field,
  a field's read-modify-write, a lock operation), not an RCU primitive, a
  yield, an ``Atomic`` counter or a free;
* ``field``: those without the lock operations.

(the kinds of :mod:`rcu_harness.sched.pct_sync`).  A thread that yields,
blocks or finishes gives way as in the random walk.  Preemptions inside a
maple operation are never made, so a bug that needs one (a reader between
two node words of a writer's store) is left to the members beside it in a
portfolio.  It watches pending accesses
(:class:`~rcu_harness.sched.protocol.Watching`); execution ``i`` draws
from ``derive(seed, i)`` alone, as the random walk's.  Under a weak memory
model ``reads=oldest`` makes every load with a choice read the oldest store
the model allows instead of a uniform one (:mod:`rcu_harness.sched.reads`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.pct_sync import point_kinds
from rcu_harness.sched.random_walk import RandomStrategy
from rcu_harness.sched.reads import check_reads, oldest_reads

if TYPE_CHECKING:
    from collections.abc import Sequence


class RandomSyncStrategy(RandomStrategy):
    """The random walk that switches only at points of one kind."""

    name = "random-sync"

    def __init__(self, seed: int = 0, *, points: str = "access",
                 reads: str = "uniform") -> None:
        super().__init__(seed)
        self._at_none, self._at_locks = point_kinds(points, self.name)
        self.keeps_none = not self._at_none
        """Is a point without an access never of the kind either?"""
        check_reads(reads, self.name)
        self.points = points
        self.reads = reads
        if reads == "oldest":
            self.next_read = oldest_reads(self.next_read)  # type: ignore[method-assign,assignment]
        self._threads: Sequence[Any] = ()

    def new_execution(self, index: int) -> bool:
        """Seed execution @index from (seed, index)."""
        self._threads = ()
        return super().new_execution(index)

    def watch(self, threads: Sequence[Any]) -> bool:
        """Keep the execution's threads: their pending accesses say where
        a switch may happen."""
        self._threads = threads
        return True

    keep = 0
    """No decision is kept whatever the current thread (see
    :class:`~rcu_harness.sched.protocol.Keeping`)."""
    keeps_maple = True
    """A maple word is never of a kind that switches: the answer there is
    the current thread, without a draw."""

    @property
    def keeper(self) -> RandomSyncStrategy | None:
        """This strategy, for its ``keeps_maple`` (not a subclass that
        decides otherwise)."""
        own = type(self).next_thread is RandomSyncStrategy.next_thread
        return self if own else None

    def skip(self, n: int) -> None:
        """Never called: ``keep`` is 0, so no decision is ``kept``."""

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The current thread if its next point is not of the kind, else
        the random walk's choice."""
        if not yielding and current is not None and current < len(self._threads):
            pending = self._threads[current].pending
            if not (self._at_none if pending is None else not pending.maple and (
                    self._at_locks or pending.word != "lock")) and current in runnable:
                return current
        return super().next_thread(runnable, current, yielding)
