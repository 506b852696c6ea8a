"""The strategy seam: three methods, and nothing about program state.

A strategy (shuttle's ``Scheduler``) is asked only at scheduling points
where more than one thread is runnable.  It sees the ascending list of
runnable thread ids, the current thread's id (``None`` when the current
thread just blocked, finished or reaches its first decision) and whether it
yields, never program state.  Random values the program draws come
through :meth:`Strategy.next_u64`, from a generator seeded with
``execution_seed``, so a :class:`~rcu_harness.sched.schedule.Schedule`
``(execution_seed, decisions)`` replays them too.  The execution records
its own decisions (``Execution.decisions``); no wrapper is needed for that.

Optional capabilities, declared here and nowhere else tested by name:

* :class:`Sequential`: each execution continues from the previous one's
  path (``dfs``).  Such a strategy can run out (``exhausted``) and can be
  put back on a finished execution's path (``follow``), which is how a
  campaign resumes it or hands it to another process.  Its executions run
  in order, in one process.
* *calibrated* (:attr:`StrategyKind.calibrated` in the registry): the
  strategy takes ``steps``, the number of decisions a typical execution
  makes (PCT's ``k``), measured once before a run from the base seed alone
  (:func:`rcu_harness.runner.block.calibrate`) so that execution ``i``
  depends on nothing but the seed and ``i``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

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


@runtime_checkable
class Sequential(Strategy, Protocol):
    """A strategy whose executions depend on the previous ones (``dfs``)."""

    exhausted: bool
    """Every execution it could run has run (set by :meth:`new_execution`
    returning False, or after the last block of a campaign)."""

    def follow(self, steps: Sequence[int]) -> None:
        """Make the next execution retrace @steps, a finished execution's
        decisions; the one after continues from that path, as if this
        strategy had run it."""
        ...
