"""A wrapper that counts decisions, preemptions and random draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcu_harness.sched.protocol import Strategy


@dataclass(frozen=True, slots=True)
class StrategyMetrics:
    """Counts over every execution so far."""

    executions: int
    decisions: int
    preemptions: int
    """Decisions that switched away from a still-runnable current thread."""
    random_draws: int
    max_decisions: int
    """The most decisions any one execution needed."""


class MetricsStrategy:
    """Delegates to @inner and counts what it decides."""

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner
        self._executions = self._decisions = self._preemptions = 0
        self._draws = self._max = self._this = 0

    @property
    def execution_seed(self) -> int:
        """The inner strategy's execution seed."""
        return self.inner.execution_seed

    def new_execution(self, index: int) -> bool:
        """Count the execution and delegate."""
        self._max = max(self._max, self._this)
        self._this = 0
        ok = self.inner.new_execution(index)
        self._executions += ok
        return ok

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """Delegate and count."""
        tid = self.inner.next_thread(runnable, current, yielding)
        self._decisions += 1
        self._this += 1
        if current is not None and tid != current and not yielding:
            self._preemptions += 1
        return tid

    def next_u64(self) -> int:
        """Delegate and count."""
        self._draws += 1
        return self.inner.next_u64()

    def metrics(self) -> StrategyMetrics:
        """The counts so far."""
        return StrategyMetrics(self._executions, self._decisions,
                               self._preemptions, self._draws,
                               max(self._max, self._this))
