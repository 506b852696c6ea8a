"""struct rw_semaphore: the mmap lock (``down_read`` ... ``up_write``).

A sleeping lock: taking it is a may-sleep point (a violation inside an RCU
read-side section or under a spinlock).  Readers share it; a writer holds
it alone.  A reader also waits while a writer is queued, as the kernel's
rwsem does to avoid writer starvation, so a recursive ``down_read`` can
deadlock against a queued writer exactly as in the kernel.  Each test of
the holders with its take (or block), and each release with its wake-ups,
runs under ``ex.atomic`` (a no-op under greenlets; a lock under OS threads).

``down_read_trylock()`` fails while a writer holds the semaphore or any
task waits for it (the kernel's ``RWSEM_READ_FAILED_MASK``: writer, waiters,
handoff); ``downgrade_write()`` turns the write hold into a read hold and
wakes the waiters (readers get in; writers keep waiting).

Not modelled: optimistic spinning, handoff, killable variants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.current import current
from rcu_harness.sync.flow import sync_flow, sync_point
from rcu_harness.sync.sleep import check_may_sleep
from rcu_harness.sync.spinlock import lock_misuse, object_addr
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

_LOCK = EventKind.LOCK.value
_UNLOCK = EventKind.UNLOCK.value


class RwSemaphore:
    """struct rw_semaphore."""

    __slots__ = ("addr", "name", "queued_writers", "readers", "waiters",
                 "writer")
    spins = False

    def __init__(self, name: str = "rwsem") -> None:
        self.name = name
        self.writer: SimThread | None = None
        self.readers: list[SimThread] = []
        self.queued_writers = 0
        self.waiters: list[SimThread] = []
        self.addr = object_addr()

    def __repr__(self) -> str:
        return f"<rw_semaphore {self.name}>"

    @property
    def owner(self) -> SimThread | None:
        """The thread holding the semaphore for write (as a lock's owner).

        Lets a tree use an rwsem as its external lock: lockdep-style checks
        that ask "does this thread hold the tree's lock" mean "for write".
        """
        return self.writer


def _wake_all(ex: Execution, sem: RwSemaphore) -> None:
    waiters, sem.waiters = sem.waiters, []
    for w in waiters:
        ex.wake(w)


def down_read_ex(ex: Execution, sem: RwSemaphore) -> None:
    """down_read() in @ex."""
    check_may_sleep(ex, "down_read()")
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    with ex.atomic:
        while sem.writer is not None or sem.queued_writers:
            holder = sem.writer.label if sem.writer else "a queued writer"
            sem.waiters.append(t)
            ex.block(f"down_read({sem.name}) held for write by {holder}")
        sem.readers.append(t)
        t.locks_held.append(sem)
        if ex.memory_model is not None:
            ex.memory_model.lock_acquire(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=True)
        if ex.record:
            ex.emit(_LOCK, sem.addr, sem.name, 0)


def up_read_ex(ex: Execution, sem: RwSemaphore) -> None:
    """up_read() in @ex."""
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    with ex.atomic:
        if t not in sem.readers:
            ex.fail(lock_misuse(ex, sem, "up_read without down_read",
                                "WARNING: bad unlock balance detected!"))
            return
        if ex.memory_model is not None:
            ex.memory_model.lock_release(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=False)
        sem.readers.remove(t)
        t.locks_held.remove(sem)
        if ex.record:
            ex.emit(_UNLOCK, sem.addr, sem.name, 0)
        _wake_all(ex, sem)


def down_write_ex(ex: Execution, sem: RwSemaphore) -> None:
    """down_write() in @ex."""
    check_may_sleep(ex, "down_write()")
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    with ex.atomic:
        sem.queued_writers += 1
        while sem.writer is not None or sem.readers:
            sem.waiters.append(t)
            holder = sem.writer.label if sem.writer else ", ".join(
                r.label for r in sem.readers)
            ex.block(f"down_write({sem.name}) held by {holder}")
        sem.queued_writers -= 1
        sem.writer = t
        t.locks_held.append(sem)
        if ex.memory_model is not None:
            ex.memory_model.lock_acquire(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=True)
        if ex.record:
            ex.emit(_LOCK, sem.addr, sem.name, 1)


def up_write_ex(ex: Execution, sem: RwSemaphore) -> None:
    """up_write() in @ex."""
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    if sem.writer is not t:
        ex.fail(lock_misuse(ex, sem, "up_write without down_write",
                            "WARNING: bad unlock balance detected!"))
        return
    with ex.atomic:
        if ex.memory_model is not None:
            ex.memory_model.lock_release(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=False)
        sem.writer = None
        t.locks_held.remove(sem)
        if ex.record:
            ex.emit(_UNLOCK, sem.addr, sem.name, 1)
        _wake_all(ex, sem)


def down_read_trylock_ex(ex: Execution, sem: RwSemaphore) -> bool:
    """down_read_trylock() in @ex: take @sem shared if nobody holds it for
    write or waits for it; never sleeps."""
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    with ex.atomic:
        if sem.writer is not None or sem.queued_writers or sem.waiters:
            return False
        sem.readers.append(t)
        t.locks_held.append(sem)
        if ex.memory_model is not None:
            ex.memory_model.lock_acquire(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=True)
        ex.emit(_LOCK, sem.addr, sem.name, 0)
        return True


def downgrade_write_ex(ex: Execution, sem: RwSemaphore) -> None:
    """downgrade_write() in @ex: the write hold becomes a read hold."""
    if ex.access_hook is not None:
        sync_point(ex, sem)
    else:
        ex.point()
    t = ex.cur
    if sem.writer is not t:
        ex.fail(lock_misuse(ex, sem, "downgrade_write without down_write",
                            "WARNING: bad unlock balance detected!"))
        return
    with ex.atomic:
        if ex.memory_model is not None:  # the write side's release
            ex.memory_model.lock_release(sem.addr, sem.name)
        elif ex.access_hook is not None:
            sync_flow(ex, sem, acquire=False)
        sem.writer = None
        sem.readers.append(t)
        ex.emit(_UNLOCK, sem.addr, sem.name, 1)
        ex.emit(_LOCK, sem.addr, sem.name, 0)
        _wake_all(ex, sem)


def rwsem_is_locked(sem: RwSemaphore) -> bool:
    """rwsem_is_locked() (not a scheduling point)."""
    return sem.writer is not None or bool(sem.readers)


def down_read_trylock(sem: RwSemaphore) -> bool:
    """down_read_trylock(): take @sem shared if that needs no waiting."""
    return down_read_trylock_ex(current(), sem)


def downgrade_write(sem: RwSemaphore) -> None:
    """downgrade_write(): turn the write hold of @sem into a read hold."""
    downgrade_write_ex(current(), sem)


def down_read(sem: RwSemaphore) -> None:
    """down_read(): take @sem shared (may sleep)."""
    down_read_ex(current(), sem)


def up_read(sem: RwSemaphore) -> None:
    """up_read(): release a shared hold of @sem."""
    up_read_ex(current(), sem)


def down_write(sem: RwSemaphore) -> None:
    """down_write(): take @sem exclusively (may sleep)."""
    down_write_ex(current(), sem)


def up_write(sem: RwSemaphore) -> None:
    """up_write(): release the exclusive hold of @sem."""
    up_write_ex(current(), sem)
