"""spinlock_t: the maple tree lock (``mt->ma_lock``) and scenario locks.

Acquire and release are scheduling points.  A thread that finds the lock
held blocks (it is not runnable, so it costs no steps) until the holder
releases it; then every waiter becomes runnable and the strategy decides who
gets the lock, as the cache line race would.  Taking a lock the thread
already holds is an immediate AA deadlock; releasing a lock the thread does
not hold is a ``lock-misuse`` finding.  Sleeping while holding a spinlock is
reported by :mod:`rcu_harness.sync.sleep`.  The owner test and the take (or
the block), and the release with its wake-ups, run under ``ex.atomic`` (a
no-op under greenlets; a lock under OS threads).

Under a weak memory model (:mod:`rcu_harness.memory.wmm`) ``spin_unlock()``
is a release and ``spin_lock()`` an acquire.

Not modelled: queued-spinlock fairness, irq/bh variants (they behave as
plain spinlocks), and lockdep's lock-order graph (an ABBA inversion is found
only when an interleaving actually deadlocks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.current import SLOT, current
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.sync.flow import sync_flow, sync_point
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

_LOCK = EventKind.LOCK.value
_UNLOCK = EventKind.UNLOCK.value


def object_addr() -> int:
    """A fake address for a synchronisation object of the current execution."""
    ex = SLOT.ex
    return ex.heap.static_addr() if ex is not None else 0


class SpinLock:
    """spinlock_t."""

    __slots__ = ("addr", "name", "owner", "waiters")
    spins = True
    """Holding it makes the holder atomic (may not sleep)."""

    def __init__(self, name: str = "spinlock") -> None:
        self.name = name
        self.owner: SimThread | None = None
        self.waiters: list[SimThread] = []
        self.addr = object_addr()

    def held_by_current(self) -> bool:
        """lockdep_is_held(): does the current thread hold this lock?"""
        return self.owner is current().cur

    def __repr__(self) -> str:
        return f"<spinlock {self.name}>"


def lock_misuse(ex: Execution, lock: object, what: str, headline: str,
                kind: FindingKind = FindingKind.LOCK_MISUSE) -> Violation:
    """A lockdep-style report of a locking error on @lock."""
    t = ex.cur
    chain = capture(2)
    name = getattr(lock, "name", "?")
    body = "\n".join([headline,
                      f"task {t.label} at step {ex.step}: {what} ({name})",
                      *chain.lines()])
    return Violation(kind, f"{what} ({name}) in {chain.top()}", body,
                     key=(what, name, chain.top()), thread=t.label, step=ex.step)


def spin_lock_ex(ex: Execution, lock: SpinLock) -> None:
    """spin_lock() in @ex."""
    if ex.access_hook is not None:
        sync_point(ex, lock)
    else:
        ex.point()
    t = ex.cur
    if lock.owner is t:
        ex.fail(lock_misuse(ex, lock, "spin_lock of a lock already held",
                            "WARNING: possible recursive locking detected",
                            FindingKind.DEADLOCK))
        return
    with ex.atomic:
        while lock.owner is not None:
            lock.waiters.append(t)
            ex.block(f"spin_lock({lock.name}) held by {lock.owner.label}")
        lock.owner = t
        t.locks_held.append(lock)
        if ex.memory_model is not None:
            ex.memory_model.lock_acquire(lock.addr, lock.name)
        elif ex.access_hook is not None:
            sync_flow(ex, lock, acquire=True)
        if ex.record:
            ex.emit(_LOCK, lock.addr, lock.name)


def spin_unlock_ex(ex: Execution, lock: SpinLock) -> None:
    """spin_unlock() in @ex."""
    if ex.access_hook is not None:
        sync_point(ex, lock)
    else:
        ex.point()
    t = ex.cur
    if lock.owner is not t:
        ex.fail(lock_misuse(ex, lock, "spin_unlock of a lock not held",
                            "WARNING: bad unlock balance detected!"))
        return
    with ex.atomic:
        if ex.memory_model is not None:
            ex.memory_model.lock_release(lock.addr, lock.name)
        elif ex.access_hook is not None:
            sync_flow(ex, lock, acquire=False)
        lock.owner = None
        t.locks_held.remove(lock)
        if ex.record:
            ex.emit(_UNLOCK, lock.addr, lock.name)
        waiters, lock.waiters = lock.waiters, []
        for w in waiters:
            ex.wake(w)


def spin_lock(lock: SpinLock) -> None:
    """spin_lock(): take @lock, waiting while another thread holds it."""
    spin_lock_ex(current(), lock)


def spin_unlock(lock: SpinLock) -> None:
    """spin_unlock(): release @lock."""
    spin_unlock_ex(current(), lock)


def spin_is_locked(lock: SpinLock) -> bool:
    """spin_is_locked() (not a scheduling point)."""
    return lock.owner is not None
