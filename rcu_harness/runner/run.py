"""One execution of a program, with the default world wired in.

The engine (:class:`~rcu_harness.runtime.execution.Execution`) knows its
collaborators only through what it is given; this is where they are
chosen: the default checkers (or the caller's), the RCU model
(:class:`~rcu_harness.rcu.state.RcuState`) and the simulated heap
(:class:`~rcu_harness.memory.heap.Heap`), and the program's handle
(:class:`~rcu_harness.runner.harness.Harness`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.observer import Hooks
from rcu_harness.memory.heap import Heap
from rcu_harness.rcu.state import RcuState
from rcu_harness.runner.harness import Harness
from rcu_harness.runtime.execution import Execution

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.checks.observer import Observer
    from rcu_harness.sched.protocol import Strategy

DEFAULT_MAX_STEPS = 200_000
"""The step bound of an execution unless the caller gives one."""


def hooks_for(checkers: Sequence[Callable[[], Observer]] | None) -> Hooks:
    """Fresh checkers for one execution (@checkers, or the defaults)."""
    factories = default_checkers() if checkers is None else checkers
    return Hooks([make() for make in factories])


def run_execution(program: Callable[[Harness], None], strategy: Strategy,
                  index: int, *, max_steps: int = DEFAULT_MAX_STEPS,
                  checkers: Sequence[Callable[[], Observer]] | None = None,
                  record: int = 2) -> Execution:
    """Run execution @index of @program (strategy already prepared).

    @record: 0 records no events (fastest), 1 events, 2 events with the
    model function of each access.
    """
    ex = Execution(index, strategy, max_steps=max_steps, hooks=hooks_for(checkers),
                   rcu=RcuState, heap=Heap, record=record)
    ex.run(program, Harness(ex))
    return ex
