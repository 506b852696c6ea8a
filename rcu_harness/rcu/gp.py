"""The grace-period kthread ``rcu_gp``: thread 0 of every execution.

Loop: idle (state ``IDLE``, which is not a deadlock) until callbacks or
``synchronize_rcu()`` waiters are pending; then, each step a scheduling
point the strategy may delay:

1. start a grace period: ``gp_seq += 1``, take the pending callbacks and
   waiters, snapshot every thread inside a read-side section;
2. block until each snapshotted thread has left that section;
3. end the grace period: wake the ``synchronize_rcu()`` waiters;
4. invoke the callbacks, one step each, in the order they were queued.

Each step's check-then-act runs under ``ex.atomic`` (see
:mod:`rcu_harness.rcu.state`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.thread import ThreadState
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

_GP_START = EventKind.GP_START.value
_GP_END = EventKind.GP_END.value
_CB = EventKind.RCU_CALLBACK.value


def rcu_gp_kthread(ex: Execution) -> None:
    """Body of the rcu_gp thread: run grace periods while there is work."""
    rcu = ex.rcu
    while True:
        with ex.atomic:
            if not rcu.has_work():
                ex.block("rcu work (idle)", ThreadState.IDLE)
                continue
        rcu_gp_one(ex)


def pre_existing_readers(ex: Execution) -> dict[int, int]:
    """The threads inside a read-side section now: the grace period waits
    for each to leave the section it is in (tid -> section number)."""
    return {t.tid: t.rcu_section for t in ex.threads if t.rcu_nesting}


def rcu_gp_one(ex: Execution) -> None:
    """One grace period, from start to its last callback."""
    rcu = ex.rcu
    ex.point()
    with ex.atomic:
        rcu.gp_seq += 1
        gp = rcu.gp_seq
        start = ex.step
        batch, rcu.pending = rcu.pending, []
        waiters, rcu.sync_waiters = rcu.sync_waiters, []
        rcu.waiting = pre_existing_readers(ex)
        rcu.in_gp = True
        if ex.memory_model is not None:
            ex.memory_model.gp_start()
        ex.emit(_GP_START, gp, "readers", len(rcu.waiting))
        ex.count("rcu_grace_periods")
        while rcu.waiting:
            ex.block(f"grace period {gp} (readers "
                     + ", ".join(ex.threads[tid].label for tid in rcu.waiting)
                     + ")")
    ex.point()
    with ex.atomic:
        rcu.completed = gp
        rcu.in_gp = False
        ex.emit(_GP_END, gp)
        ex.metrics.sample("rcu.gp_steps", ex.step - start)
        for t in waiters:
            ex.wake(t)
    for cb in batch:
        ex.point()
        if ex.memory_model is not None:  # after the grace period: all is seen
            ex.memory_model.propagate(ex.cur)
        with ex.atomic:
            ex.emit(_CB, getattr(cb.obj, "addr", 0),
                    getattr(cb.func, "__name__", "callback"), cb.seq)
            rcu.invoke(cb, gp)
