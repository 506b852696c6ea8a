"""The ``surw`` strategy: Selectively Uniform Random Walk.

Zhao, Wolff, Mathur and Roychoudhury, *Selectively Uniform Concurrency
Testing*, ASPLOS 2025.  A uniform random walk over threads (``random``)
makes interleavings very unequally likely: a short thread is almost always
done early, so orders where it runs last are rare.  SURW instead runs
thread ``t`` with probability proportional to the number of *interesting*
events it has left, ``remaining(t) = profile(t) - done(t)``: if the
profile is exact, every interleaving of the interesting events is equally
likely (the walk draws a uniformly random shuffle of the multiset of
events).  An independent evaluation on 2,664 real tests measured a mean of
82 runs to failure, against 190 for POS.

Which events are *interesting* is the ``interesting`` parameter:

* ``points`` (the default): every scheduling point a thread passes, memory
  access or not.  In this harness the grace-period thread (``rcu_gp``) makes
  no memory access at all, and the VMA and mm fields are SimStruct words
  without a pending access: counting only node-word accesses gives those
  threads weight 1 against hundreds, which starves grace periods
  (``gp-ignores-readers`` went unfound in 60 s on seed 0 that way, against
  1 to 17 executions counting points).
* ``accesses``: only maple node and tree word accesses (a thread's pending
  access is not ``None``; read through
  :class:`~rcu_harness.sched.protocol.Watching`), the paper's selective
  form; other points are scheduled with the same weights but do not count.

The profile (``profile``, ``"tid:count,..."``) is each thread's number of
interesting events in one execution of this strategy without a profile,
measured from the base seed alone before a run
(:func:`rcu_harness.runner.block.calibrate`), so execution ``i`` depends on
nothing but the seed and ``i``.  A thread the profile does not name, or one
past its profiled count, keeps weight 1, so every runnable thread can
always run.  A yielding thread gives way (its weight is not considered).
Under a weak memory model a load that may read one of several stores reads
one uniformly (:meth:`SurwStrategy.next_read`).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rcu_harness.sched.errors import check_choice
from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Sequence


INTERESTING = ("points", "accesses")
"""What ``interesting`` may be (see the module docstring)."""


def parse_profile(text: str) -> dict[int, int]:
    """``"1:40,2:12"`` -> {1: 40, 2: 12}; a ValueError says what is wrong."""
    out: dict[int, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        tid, sep, count = item.partition(":")
        if not sep or not tid.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(f"surw profile item {item!r} is not TID:COUNT")
        out[int(tid)] = int(count)
    return out


def format_profile(counts: dict[int, int]) -> str:
    """The ``profile`` text of @counts (ascending thread ids)."""
    return ",".join(f"{tid}:{n}" for tid, n in sorted(counts.items()) if n)


class SurwStrategy:
    """Threads weighted by their remaining interesting events."""

    name = "surw"

    def __init__(self, seed: int = 0, *, profile: str = "",
                 interesting: str = "points") -> None:
        check_choice("surw", "interesting", interesting, INTERESTING)
        self.seed = seed
        self.interesting = interesting
        self._all = interesting == "points"
        self.profile = parse_profile(str(profile))
        self._threads: Sequence[Any] = ()
        # Invariant: _weight[t] = max(1, profile(t) - interesting events t ran
        # this execution), for every t < len(_weight) (1 past the profile).
        self._weight: list[int] = []
        # Invariant: done[t] = interesting events thread t ran this execution;
        # kept only without a profile (the calibration probe's measurement).
        self.done: dict[int, int] = {}
        self._counting = not self.profile
        self._last: int | None = None
        self._last_access: Any = None
        # Invariant: _total = the sum of _weight[t] over _runnable, the
        # runnable threads of the last decision (None: recompute).
        self._runnable: list[int] | None = None
        self._total = 0
        self.new_execution(0)

    def new_execution(self, index: int) -> bool:
        """Seed execution @index from (seed, index); nothing done yet."""
        self.execution_seed = derive(self.seed, index)
        self._random = random.Random(self.execution_seed).random
        self._data = DataSource(self.execution_seed)
        profile = self.profile
        self._weight = [max(1, profile.get(t, 1))
                        for t in range(max(profile, default=-1) + 1)]
        self.done = {}
        self._last = None
        self._last_access = None
        self._threads = ()
        self._runnable = None
        return True

    def watch(self, threads: Sequence[Any]) -> bool:
        """Keep the execution's threads; their pending accesses are read
        only when the interesting events are accesses."""
        self._threads = threads
        return not self._all

    def profile_probe(self) -> SurwStrategy:
        """A strategy like this one without a profile, to measure it."""
        return SurwStrategy(self.seed, interesting=self.interesting)

    def measured_profile(self) -> str:
        """The profile of the execution that just ran (for calibration)."""
        self._account()
        return format_profile(self.done)

    def _account(self) -> None:
        """The event of the thread chosen last has run: count it."""
        last = self._last
        if last is not None and (self._all or self._last_access is not None):
            weight = self._weight
            if last < len(weight) and weight[last] > 1:
                weight[last] -= 1
            if self._counting:
                self.done[last] = self.done.get(last, 0) + 1
        self._last = None
        self._runnable = None

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """A runnable thread, with probability proportional to its
        remaining interesting events (at least 1).

        Hot path: the total weight of the runnable threads is kept from
        one decision to the next while they stay the same (the chosen
        thread's weight went down by one or not at all), and summed again
        only when they change; the draw subtracts the weights in thread
        order from ``random() * total`` as before, so the choices are the
        same float operations on the same values.
        """
        weight = self._weight
        last = self._last
        if last is not None and (self._all or self._last_access is not None):
            if weight[last] > 1:  # _account() inline; last < len(weight)
                weight[last] -= 1
                self._total -= 1
            if self._counting:
                self.done[last] = self.done.get(last, 0) + 1
        if yielding:
            runnable = [t for t in runnable if t != current]
        if runnable != self._runnable:
            top = runnable[-1]
            if top >= len(weight):
                weight.extend([1] * (top + 1 - len(weight)))
            total = 0
            for tid in runnable:
                total += weight[tid]
            self._total = total
            self._runnable = list(runnable)
        x = self._random() * self._total
        for choice in runnable:
            x -= weight[choice]
            if x < 0:
                break
        else:
            choice = runnable[-1]
        self._last = choice
        if not self._all:
            threads = self._threads
            self._last_access = (threads[choice].pending if choice < len(threads)
                                 else None)
        return choice

    def next_u64(self) -> int:
        """A value from the execution's data source."""
        return self._data.next_u64()

    def next_read(self, options: int, thread: int) -> int:
        """Any of the stores the load may read, uniformly, from the
        execution's generator (the weights order threads, not stores; a
        read choice is not an interesting event and moves no weight)."""
        return int(self._random() * options)
