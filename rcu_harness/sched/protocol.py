"""The strategy seam: three methods, and nothing about program state.

A strategy (shuttle's ``Scheduler``) is asked only at scheduling points
where more than one thread is runnable.  It sees the ascending list of
runnable thread ids, the current thread's id (``None`` when the current
thread just blocked, finished or reaches its first decision) and whether it
yields, never program state.  Random values the program draws come
through :meth:`Strategy.next_u64`, from a generator seeded with
``execution_seed``, so a :class:`~rcu_harness.sched.schedule.Schedule`
``(execution_seed, decisions)`` replays them too.

Wrappers add behaviour by composition (recording, metrics); no runtime flag
exists for any one strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence


class Strategy(Protocol):
    """Decides which thread runs at each scheduling point."""

    execution_seed: int
    """The seed of the execution prepared by the last :meth:`new_execution`."""

    def new_execution(self, index: int) -> bool:
        """Prepare execution number @index; False when nothing is left."""
        ...

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """A member of @runnable (at least two ids).

        @yielding is True when the current thread yields: it spins in a
        retry loop (a reader restarting on a dead node, ``schedule()`` in a
        wait) and cannot progress until another thread does.  Switching away
        is then not a preemption, and every strategy MUST return another
        runnable thread (it is in @runnable with at least one other), so a
        spinner never starves the thread it waits for.
        """
        ...

    def next_u64(self) -> int:
        """A random 64-bit value for the program."""
        ...
