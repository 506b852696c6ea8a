"""The ``pos`` strategy: Partial Order Sampling.

Yuan, Yang and Gu, *Partial Order Aware Concurrency Sampling*, CAV 2018.
Every pending event (the next access of each runnable thread) carries a
random priority; the runnable thread whose event has the highest priority
runs.  After an event runs, the thread that ran draws a new priority for
its next event, and so does every runnable thread whose pending event
*conflicts* with the one that ran (same node, word and index; at least one
of the two a store).  Other threads keep theirs.  Unlike a random walk, a
thread whose event was preempted keeps its chance against the same rivals,
and unlike PCT the priorities of racing events are redrawn exactly where
the order between them matters, which samples the partial orders of
conflicting accesses far more evenly (the paper: 2.6x fewer runs than PCT
on SCTBench).

The events are the scheduling points; a point's event is the thread's
pending access (:class:`~rcu_harness.memory.access.Access`, read through
:class:`~rcu_harness.sched.protocol.Watching`), or ``None`` for a point that
is not a memory access (an RCU primitive, a yield), which conflicts
with nothing.  SimStruct fields (a VMA's, an mm's) and lock words have
pending accesses (an :class:`~rcu_harness.runtime.pending.Access`) like
maple node words; a program whose threads touch no shared word is
scheduled as "redraw the thread that ran", still a valid sampler.

A yielding (spinning) thread gives way: the highest-priority *other*
runnable thread runs.  Under a weak memory model a load that may read one
of several stores reads one uniformly (:meth:`PosStrategy.next_read`).
Execution ``i`` draws from ``derive(seed, i)`` alone.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


_NO_PRIORITY = -math.inf


def conflicts(a: Any, b: Any) -> bool:
    """Two pending accesses race: same word of the same object, one a store."""
    return bool(a.addr == b.addr and a.index == b.index and a.word == b.word
                and (a.store or b.store))


def highest_priority(prio: dict[int, float], runnable: Sequence[int],
                     current: int | None, yielding: bool,
                     draw: Callable[[], float]) -> int:
    """The runnable thread of highest priority in @prio (a thread without one
    draws it now), skipping a yielding @current; -1 if none is left."""
    best, top = -1, -math.inf
    for tid in runnable:
        if yielding and tid == current:
            continue
        p = prio.get(tid)
        if p is None:
            p = prio[tid] = draw()
        if p > top:
            best, top = tid, p
    return best


class PosStrategy:
    """POS over the pending accesses of the runnable threads."""

    name = "pos"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._threads: Sequence[Any] = ()
        # Invariant: the priority of the pending event of each thread that
        # has one; a thread without an entry draws one when next runnable.
        self._prio: dict[int, float] = {}
        self._last: int | None = None
        """The thread chosen at the previous decision (its event ran since)."""
        self._last_access: Any = None
        """That thread's pending access when it was chosen."""
        self.new_execution(0)

    def new_execution(self, index: int) -> bool:
        """Seed execution @index from (seed, index); no priorities yet."""
        self.execution_seed = derive(self.seed, index)
        self._random = random.Random(self.execution_seed).random
        self._data = DataSource(self.execution_seed)
        self._prio = {}
        self._last = None
        self._last_access = None
        self._threads = ()
        return True

    def watch(self, threads: Sequence[Any]) -> bool:
        """Keep the execution's threads: their pending accesses are read."""
        self._threads = threads
        return True

    def _pending(self, tid: int) -> Any:
        threads = self._threads
        return threads[tid].pending if tid < len(threads) else None

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The runnable thread whose pending event has the highest priority.

        Hot path: :meth:`_pending`, :func:`conflicts` and
        :func:`highest_priority` inline (the same tests, in the same order,
        and the same draws).
        """
        prio = self._prio
        last = self._last
        threads = self._threads
        if last is not None:
            prio.pop(last, None)
            done = self._last_access
            if done is not None and prio:
                addr, word, index, store = (done.addr, done.word, done.index,
                                            done.store)
                known = len(threads)
                for tid in runnable:
                    if tid in prio and tid < known:
                        p = threads[tid].pending
                        if p is not None and p.addr == addr and \
                                p.index == index and p.word == word and \
                                (p.store or store):
                            del prio[tid]
        best, top = -1, _NO_PRIORITY
        draw = self._random
        for tid in runnable:
            if yielding and tid == current:
                continue
            p = prio.get(tid)
            if p is None:
                p = prio[tid] = draw()
            if p > top:
                best, top = tid, p
        if yielding and current is not None:
            prio.pop(current, None)  # a spinner's next attempt is a new event
        self._last = best
        self._last_access = threads[best].pending if best < len(threads) else None
        return best

    def next_u64(self) -> int:
        """A value from the execution's data source."""
        return self._data.next_u64()

    def next_read(self, options: int, thread: int) -> int:
        """Any of the stores the load may read, uniformly, from the
        execution's generator.  POS orders events; a store chosen for a load
        is not an event of a runnable thread, and a priority drawn for each
        store, the highest read, is this same uniform choice."""
        return int(self._random() * options)
