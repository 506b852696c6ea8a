"""The ``random`` strategy: a uniform choice among runnable threads.

Execution ``i`` uses a generator seeded with ``derive(seed, i)`` alone, so a
campaign split across processes explores the same executions.  Python's
``random.Random`` (Mersenne Twister) is used as an *instance*, never the
module-level generator; its ``random()`` output for an integer seed is
stable across platforms and Python versions.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from rcu_harness.sched.seeds import DataSource, derive

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class RandomStrategy:
    """Uniform random walk over the runnable threads."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.execution_seed = derive(seed, 0)
        self._random = random.Random(self.execution_seed).random
        self._data = DataSource(self.execution_seed)

    def new_execution(self, index: int) -> bool:
        """Seed execution @index from (seed, index)."""
        self.execution_seed = derive(self.seed, index)
        self._random = random.Random(self.execution_seed).random
        self._data = DataSource(self.execution_seed)
        return True

    @property
    def uniform(self) -> Callable[[], float] | None:
        """The generator whose draw ``u`` makes the choice
        ``runnable[int(u * len(runnable))]`` of a decision that does not
        yield, for an execution to make without a call (see
        :class:`~rcu_harness.sched.protocol.Uniform`); None for a subclass
        that decides otherwise (``random-sync``)."""
        if type(self).next_thread is RandomStrategy.next_thread:
            return self._random
        return None

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """Any runnable thread, uniformly; a yielding (spinning) thread
        gives way: another runnable thread, uniformly."""
        if yielding:
            others = [t for t in runnable if t != current]
            return others[int(self._random() * len(others))]
        return runnable[int(self._random() * len(runnable))]

    def next_u64(self) -> int:
        """A value from the execution's data source."""
        return self._data.next_u64()

    def next_read(self, options: int, thread: int) -> int:
        """Any of the stores the load may read, uniformly."""
        return int(self._random() * options)
