"""schedule() and might_sleep(): the may-sleep points.

``might_sleep()`` is where a GFP_KERNEL allocation, a mutex or a
rw-semaphore may block; ``schedule()`` actually yields the CPU.  Both are
scheduling points, and both are violations inside an RCU read-side section
(``sleep-in-rcu``) or while a spinlock is held (``sleep-in-atomic``), as
``CONFIG_DEBUG_ATOMIC_SLEEP`` would report.  Not modelled: preempt_count
from other sources (irq, softirq, preempt_disable()).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.current import SLOT, current
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

_SCHEDULE = EventKind.SCHEDULE.value


def check_may_sleep(ex: Execution, what: str) -> None:
    """Fail if the current thread may not sleep here."""
    t = ex.cur
    if t.rcu_nesting or (t.locks_held and
                         any(getattr(lk, "spins", False) for lk in t.locks_held)):
        if not ex.in_threads:
            return
        from rcu_harness.rcu.checks import sleep_in_atomic

        ex.fail(sleep_in_atomic(ex, t, what))


def might_sleep() -> None:
    """might_sleep(): a point where the caller may block."""
    ex = SLOT.ex or current()
    t = ex.cur
    if t.rcu_nesting or t.locks_held:
        check_may_sleep(ex, "might_sleep()")
    ex.point()
    if ex.record:
        ex.emit(_SCHEDULE, 0, "might_sleep")


def schedule() -> None:
    """schedule(): give the CPU away (a scheduling point that may sleep)."""
    ex = SLOT.ex or current()
    t = ex.cur
    if t.rcu_nesting or t.locks_held:
        check_may_sleep(ex, "schedule()")
    ex.yield_point()
    if ex.record:
        ex.emit(_SCHEDULE, 0, "schedule")
