"""The ``rff`` strategy: reads-from fuzzing.

After Wolff et al., *Greybox Fuzzing for Concurrency Testing* (ASPLOS
2024): a coverage-guided fuzzer over schedules whose feedback is new
reads-from pairs (:mod:`rcu_harness.memory.reads_from`).  It keeps a
*corpus* of the schedules that first made a pair and mutates them, so that
a schedule which reached a new way for a load to see a store is explored
further, by reordering the stores and loads around it.

Determinism across processes and resumes comes from *epochs*
(:func:`epoch_bounds`): executions ``[0, 4)``, ``[4, 8)``, ``[8, 16)``
... each as long as all before it, at most ``epoch`` (default 256).
Execution ``i`` of epoch ``[s, t)`` draws from ``derive(seed, i)`` and
mutates the corpus made by executions ``0 .. s-1`` alone (:meth:`feed`),
never by other executions of its own epoch, so the executions of one epoch
may run in any order and any process.  The corpus is an ordered list of
:class:`CorpusEntry`: each execution that made at least one pair no
earlier execution made, with its schedule and how many such pairs (its
*energy*).  Who builds it: the exploration loop
(:func:`rcu_harness.runner.block.run_block`) for a block from 0, and a
campaign's coordinator, which stores it in the run store and hands out an
epoch's blocks only once every earlier epoch is absorbed
(``docs/search.md``).

Execution ``i``: while the corpus is empty, a uniform random walk.  Else
a parent drawn from the corpus in proportion to its energy and, unless the
execution is *fresh* (probability ``1 / fresh``), one mutation of its
thread choices (the target):

* *delay* (reorder a pair's store and load): a run of consecutive choices
  of one thread, at a random decision, moves later past other threads'
  choices (fewer more likely than many);
* *stall*: from a random decision on, one thread's choices all move to the
  end: it stays preempted across the others' operations (and grace
  periods);
* *flip*: only a random prefix of the parent is kept;
* *reread* (under a weak memory model, when the parent chose stores): one
  of its read choices is drawn again.

The target is followed leniently: at each decision the next target choice
that is runnable within :data:`LOOKAHEAD` choices runs (a yielding thread
gives way); if none is, the walk chooses and the target's head is
dropped.  Past the target's end (and in a fresh execution, whose target is
empty) the walk is sized by the parent, so no calibration run is needed:
half the time SURW's (a thread runs with probability proportional to its
choices in the parent that the target did not make), half the time PCT's
(random priorities, ``depth - 1`` change points among the parent's
remaining thread choices).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.sched.pos import highest_priority
from rcu_harness.sched.schedule import Schedule, is_thread, read_index
from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

FIRST_EPOCH = 4
"""The length of epoch 0 (and 1): feedback after the first few executions."""
LOOKAHEAD = 4
"""How far ahead in the target a blocked choice may be skipped."""


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    """An execution that made reads-from pairs no earlier execution made."""

    execution: int
    new: int
    """How many such pairs (its energy)."""
    schedule: str
    """Its encoded :class:`~rcu_harness.sched.schedule.Schedule`."""


def epoch_bounds(index: int, cap: int) -> tuple[int, int]:
    """The epoch ``[start, stop)`` of execution @index: ``[0, 4)``, then
    each epoch as long as all before it, at most @cap (at least 4)."""
    if index < FIRST_EPOCH:
        return 0, FIRST_EPOCH
    b = FIRST_EPOCH
    while b < cap:
        if index < 2 * b:
            return b, 2 * b
        b *= 2
    start = b + (index - b) // cap * cap
    return start, start + cap


def mutate(threads: list[int], reads: list[int], draw: Callable[[], float]
           ) -> tuple[list[int], list[int]]:
    """One mutation (see the module docstring) of a parent's thread choices
    @threads and read choices @reads."""
    n = len(threads)
    op = draw()
    if reads and op < 0.1:
        reads = list(reads)
        k = int(draw() * len(reads))
        reads[k] = int(draw() * (reads[k] + 2))
        return threads, reads
    if n == 0:
        return threads, reads
    k = int(draw() * n)
    t = threads[k]
    if op < 0.55:
        j = k
        while j < n and threads[j] == t:
            j += 1
        rest = threads[:k] + threads[j:]
        room = len(rest) - k
        if room > 0:
            at = k + 1 + int(room * draw() ** 2)
            return rest[:at] + threads[k:j] + rest[at:], reads
        return threads[:k], reads
    if op < 0.8:
        tail = threads[k:]
        return (threads[:k] + [x for x in tail if x != t]
                + [x for x in tail if x == t]), reads
    return threads[:k], reads


class RffStrategy:
    """Reads-from fuzzing: mutate the schedules that made new pairs."""

    name = "rff"

    def __init__(self, seed: int = 0, *, epoch: int = 256, fresh: int = 4,
                 depth: int = 3) -> None:
        if epoch < FIRST_EPOCH:
            raise ValueError(f"epoch must be at least {FIRST_EPOCH} (got {epoch})")
        if fresh < 1:
            raise ValueError(f"fresh must be at least 1 (got {fresh})")
        self.seed = seed
        self.epoch = epoch
        self.fresh = fresh
        self.depth = max(1, depth)
        self._corpus: tuple[CorpusEntry, ...] = ()
        self._energy: list[int] = []
        """Cumulative energies of the corpus entries."""
        self._decoded: dict[int, tuple[list[int], list[int]]] = {}
        self.parent: int | None = None
        """The corpus execution the current execution mutates (None: fresh)."""
        self.new_execution(0)

    def epoch_bounds(self, index: int) -> tuple[int, int]:
        """The epoch of execution @index (:func:`epoch_bounds`)."""
        return epoch_bounds(index, self.epoch)

    def feed(self, corpus: Sequence[CorpusEntry]) -> None:
        """The corpus of the epochs before the next executions', in order."""
        self._corpus = tuple(corpus)
        total, cumulative = 0, []
        for entry in self._corpus:
            total += max(1, entry.new)
            cumulative.append(total)
        self._energy = cumulative
        self._decoded = {}

    def _choices(self, entry: CorpusEntry) -> tuple[list[int], list[int]]:
        got = self._decoded.get(entry.execution)
        if got is None:
            steps = Schedule.decode(entry.schedule).steps
            got = ([s for s in steps if is_thread(s)],
                   [read_index(s) for s in steps if read_index(s) >= 0])
            self._decoded[entry.execution] = got
        return got

    def new_execution(self, index: int) -> bool:
        """Seed execution @index and choose its parent and mutation."""
        self.execution_seed = derive(self.seed, index)
        draw = random.Random(self.execution_seed).random
        self._random = draw
        self._data = DataSource(self.execution_seed)
        self._target: list[int] = []
        self._reads: list[int] = []
        self._pos = self._rpos = self._n = 0
        self._prio: dict[int, float] = {}
        self._changes: tuple[int, ...] = ()
        self._weight: dict[int, int] | None = None
        self.parent = None
        if not self._corpus:
            return True
        pick = int(draw() * self._energy[-1])
        entry = self._corpus[bisect.bisect_right(self._energy, pick)]
        threads, reads = self._choices(entry)
        if draw() * self.fresh >= 1:
            self.parent = entry.execution
            self._target, self._reads = mutate(threads, reads, draw)
        # the walk after the target, sized by the parent: SURW's weights (each
        # thread's choices the parent made and the target did not), or PCT's
        # priorities changed at depth - 1 of the parent's remaining choices
        if draw() < 0.5:
            weight: dict[int, int] = {}
            for t in threads:
                weight[t] = weight.get(t, 0) + 1
            for t in self._target:
                weight[t] = weight.get(t, 0) - 1
            self._weight = weight
            return True
        left = max(1, len(threads) - len(self._target))
        self._changes = tuple(sorted(int(draw() * left)
                                     for _ in range(max(1, self.depth - 1))))
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The target's next runnable choice, else the walk's."""
        target = self._target
        pos = self._pos
        if pos < len(target):
            t = target[pos]
            if t in runnable and not (yielding and t == current):
                self._pos = pos + 1
                return t
            for q in range(pos + 1, min(len(target), pos + LOOKAHEAD)):
                t = target[q]
                if t in runnable and not (yielding and t == current):
                    del target[q]
                    return t
            self._pos = pos + 1
        return self._walk(runnable, current, yielding)

    def _walk(self, runnable: Sequence[int], current: int | None,
              yielding: bool) -> int:
        """Uniform while the corpus is empty; else SURW's weighted choice
        or the runnable thread of highest priority, demoted to the lowest at
        each change point."""
        weight = self._weight
        if weight is not None:
            return self._weighted(weight, runnable, current, yielding)
        if not self._changes:
            if yielding:
                others = [t for t in runnable if t != current]
                return others[int(self._random() * len(others))]
            return runnable[int(self._random() * len(runnable))]
        n = self._n
        self._n = n + 1
        prio = self._prio
        best = highest_priority(prio, runnable, current, yielding, self._random)
        if n in self._changes:
            prio[best] = -1.0 - n
        return best

    def _weighted(self, weight: dict[int, int], runnable: Sequence[int],
                  current: int | None, yielding: bool) -> int:
        """A runnable thread with probability proportional to its remaining
        choices (at least 1), which then fall by one."""
        tids = [t for t in runnable if not (yielding and t == current)]
        ws = [max(1, weight.get(t, 1)) for t in tids]
        r = self._random() * sum(ws)
        k = 0
        while k < len(ws) - 1 and r >= ws[k]:
            r -= ws[k]
            k += 1
        t = tids[k]
        weight[t] = ws[k] - 1
        return t

    def next_u64(self) -> int:
        """A value from the execution's data source."""
        return self._data.next_u64()

    def next_read(self, options: int, thread: int) -> int:
        """The target's next read choice if it is one of the @options, else
        any of them, uniformly."""
        if self._rpos < len(self._reads):
            k = self._reads[self._rpos]
            self._rpos += 1
            if k < options:
                return k
        return int(self._random() * options)
