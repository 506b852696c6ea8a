"""The ``mix`` strategy: a portfolio of ``pct`` and ``random`` executions.

PCT (a few priority change points) is strong on bugs that need one thread
stalled across another's whole operation; the uniform random walk is strong
on bugs that need many fine-grained switches inside one operation.  Neither
dominates: on the seeded mutants each misses a bug the other finds within
a few dozen executions (reports/BENCHMARKS.md, *Mutant scoreboard*).  ``mix``
runs even executions as ``pct`` and odd ones as ``random``, so it finds
each such bug within about twice the executions of the better of the two.

Execution ``i`` is execution ``i`` of the chosen inner strategy (same base
seed, same index, so the same execution seed), and depends on nothing
else: a campaign split across processes explores the same executions.  The
inner strategy's bound methods are installed on this object at
:meth:`new_execution`, so a decision costs what it costs in that strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.random_walk import RandomStrategy

if TYPE_CHECKING:
    from collections.abc import Callable


class MixStrategy:
    """Even executions ``pct`` (depth ``depth``, ``steps``), odd ``random``."""

    name = "mix"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0) -> None:
        self.seed = seed
        self.pct = PctStrategy(seed, depth=depth, steps=steps)
        self.random = RandomStrategy(seed)
        self.execution_seed = self.pct.execution_seed
        self.next_thread: Callable[..., int] = self.pct.next_thread
        self.next_u64: Callable[[], int] = self.pct.next_u64
        self.next_read: Callable[[int, int], int] = self.pct.next_read
        self.keeper: Any = getattr(self.pct, "keeper", None)
        """The member's :class:`~rcu_harness.sched.protocol.Keeping` (or None)."""
        self.uniform: Callable[[], float] | None = getattr(self.pct, "uniform", None)
        """The member's :class:`~rcu_harness.sched.protocol.Uniform` draw (or None)."""

    def new_execution(self, index: int) -> bool:
        """Prepare execution @index with pct (even) or random (odd)."""
        inner: PctStrategy | RandomStrategy = self.random if index % 2 else self.pct
        inner.new_execution(index)
        self.execution_seed = inner.execution_seed
        self.next_thread = inner.next_thread
        self.next_u64 = inner.next_u64
        self.next_read = inner.next_read
        self.keeper = getattr(inner, "keeper", None)
        self.uniform = getattr(inner, "uniform", None)
        return True
