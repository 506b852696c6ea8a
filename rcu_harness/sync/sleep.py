"""schedule() and might_sleep(): the may-sleep points.

``might_sleep()`` is where a GFP_KERNEL allocation, a mutex or a
rw-semaphore may block; ``schedule()`` actually yields the CPU;
``spin_until()`` is the loop ``while (!cond) schedule();`` of a thread that
waits for a condition nobody wakes it for.  Both are
scheduling points, and both are violations inside an RCU read-side section
(``sleep-in-rcu``) or while a spinlock is held (``sleep-in-atomic``), as
``CONFIG_DEBUG_ATOMIC_SLEEP`` would report.  Not modelled: preempt_count
from other sources (irq, softirq, preempt_disable()).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.current import SLOT, current
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

_SCHEDULE = EventKind.SCHEDULE.value


def check_may_sleep(ex: Execution, what: str) -> None:
    """Fail if the current thread may not sleep here."""
    t = ex.cur
    if t.rcu_nesting or (t.locks_held and
                         any(getattr(lk, "spins", False) for lk in t.locks_held)):
        if not ex.in_threads:
            return
        ex.fail(sleep_in_atomic(ex, t, what))


def sleep_in_atomic(ex: Execution, t: SimThread, what: str) -> Violation:
    """A may-sleep operation inside an RCU section or under a spinlock."""
    chain = capture(2)
    spin = [lock.name for lock in t.locks_held if getattr(lock, "spins", False)]
    in_rcu = t.rcu_nesting > 0
    kind = FindingKind.RCU_SLEEP if in_rcu else FindingKind.ATOMIC_SLEEP
    body = "\n".join([
        f"BUG: sleeping function called from invalid context at {chain.top()}",
        f"{what}: in_atomic(): {int(bool(spin))}, pid: {t.tid}, name: {t.name},"
        f" step: {ex.step}",
        f"RCU nest depth: {t.rcu_nesting}, expected: 0",
        f"spinlocks held: {', '.join(spin) or 'none'}",
        "Call trace:",
        *chain.lines(),
    ])
    where = "an RCU read-side critical section" if in_rcu else \
        "a spinlock (" + ", ".join(spin) + ")"
    return Violation(kind, f"{what} inside {where} in {chain.top()}", body,
                     key=(what, chain.top()), thread=t.label, step=ex.step)


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


def spin_until(ready: Callable[[], bool]) -> None:
    """``while (!ready()) schedule();``: wait, yielding, until @ready().

    @ready is read unobserved (``quiet``: no scheduling point, no memory
    check), so it must be a plain predicate on the program's own state (a
    flag another thread sets), not a model access whose race matters.
    While the thread waits here, the execution may make its loop's yield
    points without switching to it (``Execution._spun``): the same steps
    and decisions, recorded the same, without two greenlet switches per
    turn (``dup_mmap`` under ``mix``: 1.107x fewer instructions,
    docs/performance.md, *Twelfth round*).
    """
    ex = SLOT.ex or current()
    t = ex.cur
    while not ex.read_quietly(ready):
        t.spin = ready
        try:
            schedule()
        finally:
            t.spin = None
