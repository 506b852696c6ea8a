"""The RCU model: read-side nesting, grace periods, callbacks.

Per thread, ``rcu_nesting`` counts ``rcu_read_lock()`` depth and
``rcu_section`` counts outermost sections left.  A grace period, run by the
``rcu_gp`` kthread (:mod:`rcu_harness.rcu.gp`), snapshots the threads inside
a section when it starts and waits until each has left *that* section (its
``rcu_section`` moved on); callbacks queued before the start run after the
end, one scheduling step each.  ``gp_seq`` numbers the grace periods started,
``completed`` the last one that ended; reports print both.

Because ``rcu_gp`` is a thread the strategy schedules like any other, a
grace period can start right after a ``call_rcu()`` and end the moment the
last pre-existing reader leaves: the earliest legal moment, where bugs hide.

Every check-then-act on this state (a reader leaving, a callback queued,
rcu_gp going idle or starting a grace period) runs under ``ex.atomic``: a
no-op under greenlets, the execution's lock under OS threads, where it
keeps wake-ups from being lost.

Not modelled: expedited grace periods, SRCU, tasks-RCU, per-CPU callback
lists and their batching (one global FIFO here), ``kfree_rcu`` batching,
quiescent states other than leaving a read-side section (a thread outside a
section is always quiescent), and grace periods that take longer than
needed (the strategy may simply not schedule ``rcu_gp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.rcu.checks import exit_in_section
from rcu_harness.rcu.gp import rcu_gp_kthread
from rcu_harness.runtime.thread import Phase, ThreadState

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

# Members once: a look-up through the Enum class is slow (EnumType's
# attribute hook), and every call_rcu() kicks rcu_gp.
_RUN = Phase.RUN
_IDLE = ThreadState.IDLE
_BLOCKED = ThreadState.BLOCKED


@dataclass(slots=True)
class PendingCallback:
    """One call_rcu() waiting for its grace period."""

    obj: Any
    func: Callable[[Any], object]
    gp_seq: int
    """gp_seq when call_rcu() was called."""
    seq: int
    """Position in the global callback FIFO (1-based)."""


class RcuState:
    """Grace-period bookkeeping of one execution."""

    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.gp_seq = 0
        """Number of grace periods started."""
        self.completed = 0
        """Number of the last grace period that ended."""
        self.pending: list[PendingCallback] = []
        """Callbacks queued and not yet taken by a grace period."""
        self.queued = 0
        self.invoked = 0
        self.sync_waiters: list[SimThread] = []
        self.barrier_waiters: list[tuple[int, SimThread]] = []
        self.waiting: dict[int, int] = {}
        """tid -> rcu_section that the current grace period waits out."""
        self.in_gp = False
        self.running: PendingCallback | None = None
        """The callback being invoked (its end-of-GP number is reported)."""
        self.running_gp = 0
        self._gp_thread: SimThread | None = None

    @property
    def gp_thread(self) -> SimThread:
        """The rcu_gp kthread, thread 0, created idle on first use."""
        t = self._gp_thread
        if t is None:
            if self.ex.threads:
                raise RuntimeError("rcu_gp must be thread 0")
            t = self.ex.spawn("rcu_gp", rcu_gp_kthread, (self.ex,),
                              state=ThreadState.IDLE)
            self._gp_thread = t
        return t

    def has_work(self) -> bool:
        """Does a grace period need to start?"""
        return bool(self.pending or self.sync_waiters)

    def kick(self) -> None:
        """Wake rcu_gp if it idles and there is work.

        Also wakes an ``rcu_barrier()`` waiter whose callbacks all ran
        before it queued itself: impossible under greenlets (the check and
        the queueing are atomic), a lost wake-up under OS threads.
        """
        with self.ex.atomic:
            t = self.gp_thread
            if t.state is _IDLE and self.ex.phase is _RUN \
                    and self.has_work():
                self.ex.wake(t)
            if self.barrier_waiters:
                self._wake_barrier_waiters()

    def enqueue(self, obj: Any, func: Callable[[Any], object]) -> PendingCallback:
        """Queue @func(@obj) for after the next grace period to start."""
        with self.ex.atomic:
            self.queued += 1
            cb = PendingCallback(obj, func, self.gp_seq, self.queued)
            self.pending.append(cb)
            self.kick()
        return cb

    def reader_left(self, t: SimThread) -> None:
        """@t left its outermost read-side section."""
        with self.ex.atomic:
            waiting = self.waiting
            if t.tid in waiting:
                del waiting[t.tid]
                if not waiting:
                    gp = self.gp_thread
                    if gp.state is _BLOCKED:
                        self.ex.wake(gp)

    def invoke(self, cb: PendingCallback, gp: int) -> None:
        """Run one callback whose grace period @gp has ended."""
        self.running, self.running_gp = cb, gp
        try:
            cb.func(cb.obj)
        finally:
            self.running = None
        with self.ex.atomic:
            self.invoked += 1
            if self.barrier_waiters:
                self._wake_barrier_waiters()

    def _wake_barrier_waiters(self) -> None:
        """Wake the rcu_barrier() callers whose callbacks have all run."""
        still = []
        for target, t in self.barrier_waiters:
            if target <= self.invoked:
                self.ex.wake(t)
            else:
                still.append((target, t))
        self.barrier_waiters = still

    def drain(self) -> None:
        """Run every queued callback now (no readers exist: teardown, setup)."""
        ex = self.ex
        saved = ex.cur, ex.cur_tid
        gp_thread = self.gp_thread
        ex.cur, ex.cur_tid = gp_thread, gp_thread.tid
        try:
            while self.pending and ex.violation is None:
                batch, self.pending = self.pending, []
                self.gp_seq += 1
                self.completed = self.gp_seq
                for cb in batch:
                    self.invoke(cb, self.completed)
        finally:
            ex.cur, ex.cur_tid = saved

    def thread_exit(self, t: SimThread) -> None:
        """@t finished: still being inside a read-side section is a bug."""
        if t.rcu_nesting:
            self.ex.fail(exit_in_section(self.ex, t))
