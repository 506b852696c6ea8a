"""A wrapper that records the decisions of an inner strategy as a Schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.sched.schedule import RANDOM, Schedule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.sched.protocol import Strategy


class RecordingStrategy:
    """Delegates to @inner and keeps every decision of the current execution."""

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner
        self.steps: list[int] = []
        self._inner_next = inner.next_thread

    @property
    def execution_seed(self) -> int:
        """The inner strategy's execution seed."""
        return self.inner.execution_seed

    @property
    def name(self) -> str:
        """The inner strategy's name."""
        return str(getattr(self.inner, "name", type(self.inner).__name__))

    def new_execution(self, index: int) -> bool:
        """Start a fresh recording."""
        self.steps = []
        return self.inner.new_execution(index)

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """Record and return the inner choice."""
        tid = self._inner_next(runnable, current, yielding)
        self.steps.append(tid)
        return tid

    def next_u64(self) -> int:
        """Record a random draw."""
        self.steps.append(RANDOM)
        return self.inner.next_u64()

    def schedule(self) -> Schedule:
        """The schedule of the current execution so far."""
        return Schedule(self.inner.execution_seed, tuple(self.steps))
