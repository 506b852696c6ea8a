"""The RCU API as plain functions that reach the current execution.

``rcu_read_lock()``, ``rcu_read_unlock()``, ``call_rcu()``,
``synchronize_rcu()`` and ``rcu_barrier()``; each is a scheduling point.
Outside the simulated threads (setup and teardown, where no reader can
exist) ``synchronize_rcu()`` and ``rcu_barrier()`` simply run every queued
callback.  The end of each outermost read-side section while the threads
run is sampled: the grace periods that ended during it (rcutorture's Reader
Batch) and the oldest retired object it read (Reader Pipe); see
:mod:`rcu_harness.runtime.metrics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.rcu.checks import bad_unlock
from rcu_harness.runtime.current import SLOT, current
from rcu_harness.runtime.thread import Phase
from rcu_harness.sync.sleep import check_may_sleep
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution

_RUN = Phase.RUN
_LOCK = EventKind.RCU_LOCK.value
_UNLOCK = EventKind.RCU_UNLOCK.value
_CALL = EventKind.CALL_RCU.value
_SYNC = EventKind.SYNC_RCU.value


def rcu_read_lock_ex(ex: Execution) -> None:
    """rcu_read_lock() in @ex."""
    ex.point()
    t = ex.cur
    t.rcu_nesting += 1
    if t.rcu_nesting == 1:
        t.rcu_begin = ex.rcu.completed
        if ex.memory_model is not None:
            ex.memory_model.rcu_read_lock()
    if ex.record:
        ex.emit(_LOCK, 0, None, t.rcu_nesting)


def rcu_read_unlock_ex(ex: Execution) -> None:
    """rcu_read_unlock() in @ex."""
    ex.point()
    t = ex.cur
    if not t.rcu_nesting:
        ex.fail(bad_unlock(ex, t))
        return
    t.rcu_nesting -= 1
    if ex.record:
        ex.emit(_UNLOCK, 0, None, t.rcu_nesting)
    if not t.rcu_nesting:
        if ex.memory_model is not None:
            ex.memory_model.rcu_read_unlock()
        t.rcu_section += 1
        if ex.phase is _RUN and not ex.quiet:  # ex.in_threads
            ex.metrics.section_end(t, ex.rcu.completed)
        t.rcu_age = 0
        ex.rcu.reader_left(t)


def call_rcu_ex(ex: Execution, obj: Any, func: Callable[[Any], object]) -> None:
    """call_rcu(&obj->rcu, func) in @ex."""
    ex.point()
    ex.heap.on_call_rcu(obj)
    if ex.memory_model is not None and ex.in_threads:
        ex.memory_model.rcu_call(False)
    cb = ex.rcu.enqueue(obj, func)
    ex.emit(_CALL, getattr(obj, "addr", 0), getattr(func, "__name__", "?"),
            cb.seq)


def synchronize_rcu_ex(ex: Execution) -> None:
    """synchronize_rcu() in @ex: block for a full grace period."""
    if not ex.in_threads:
        ex.rcu.drain()
        return
    check_may_sleep(ex, "synchronize_rcu()")
    ex.point()
    if ex.memory_model is not None:
        ex.memory_model.rcu_call(True)
    ex.emit(_SYNC, 0, "synchronize_rcu", ex.rcu.gp_seq)
    ex.rcu.sync_waiters.append(ex.cur)
    ex.rcu.kick()
    ex.block("synchronize_rcu")


def rcu_barrier_ex(ex: Execution) -> None:
    """rcu_barrier() in @ex: wait until every callback queued so far ran."""
    if not ex.in_threads:
        ex.rcu.drain()
        return
    check_may_sleep(ex, "rcu_barrier()")
    ex.point()
    if ex.memory_model is not None:
        ex.memory_model.rcu_call(True)
    rcu = ex.rcu
    ex.emit(_SYNC, 0, "rcu_barrier", rcu.queued)
    if rcu.invoked >= rcu.queued:
        return
    rcu.barrier_waiters.append((rcu.queued, ex.cur))
    rcu.kick()
    ex.block("rcu_barrier")


def rcu_read_lock() -> None:
    """rcu_read_lock(): enter a read-side critical section."""
    rcu_read_lock_ex(SLOT.ex or current())


def rcu_read_unlock() -> None:
    """rcu_read_unlock(): leave a read-side critical section."""
    rcu_read_unlock_ex(SLOT.ex or current())


def call_rcu(obj: Any, func: Callable[[Any], object]) -> None:
    """call_rcu(): run ``func(obj)`` after a grace period."""
    call_rcu_ex(current(), obj, func)


def synchronize_rcu() -> None:
    """synchronize_rcu(): wait for a full grace period."""
    synchronize_rcu_ex(current())


def rcu_barrier() -> None:
    """rcu_barrier(): wait until all callbacks queued so far have run."""
    rcu_barrier_ex(current())


def rcu_read_lock_held() -> bool:
    """rcu_read_lock_held(): is the current thread in a read-side section?"""
    return current().cur.rcu_nesting > 0
