"""The lkmm model's ordering: barriers, release and acquire, locks and RCU.

:class:`Ordering` holds a model's state (the word histories, the threads'
views, the global views of full barriers and grace periods, the locks'
views, the log) and moves views for everything that orders accesses
without being one: ``smp_rmb()``, ``smp_wmb()``, ``smp_mb()``, a release
or acquire announced for the next access, lock acquire and release, RCU
read-side sections, ``call_rcu()``/``synchronize_rcu()`` and grace-period
starts.  :class:`~rcu_harness.memory.wmm.model.LkmmModel` adds the
accesses themselves.  The rules, and the litmus tests that pin each, are
in the model's docstring and docs/weak-memory.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.memory.wmm.api import Op
from rcu_harness.memory.wmm.threads import TState
from rcu_harness.memory.wmm.views import EMPTY, View, joined
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.memory.wmm.views import Loc
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.trace.events import ReadsFrom

_FENCE = EventKind.FENCE.value


class Ordering:
    """A model's state, and what orders its accesses (the base of
    :class:`~rcu_harness.memory.wmm.model.LkmmModel`)."""

    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.seq = 0
        """Stores so far (the last store's sequence number)."""
        self.locs: dict[int, Loc] = {}
        self.threads: dict[int, TState] = {}
        self.sc: View = EMPTY
        """The global view of full barriers (smp_mb())."""
        self.gp_view: View = EMPTY
        """What every grace period started so far was asked to order."""
        self.gp_pending: View = EMPTY
        """Views of call_rcu()/synchronize_rcu() callers not yet in a grace
        period."""
        self.sync: dict[int, View] = {}
        """Lock address -> the view its last releases carried."""
        self.steps: list[int] = []
        """The step of each store (steps[seq - 1])."""
        self.last_read: ReadsFrom | None = None
        """What the last load read, for its event (None: not recording)."""
        self.log: list[Op] | None = [] if ex.record else None
        self._codes: dict[type, dict[str, int]] = {}

    def state(self, tid: int) -> TState:
        """Thread @tid's views (created on first use, seeing nothing newer
        than the initial values)."""
        st = self.threads.get(tid)
        if st is None:
            st = self.threads[tid] = TState(tid, 0)
        return st

    # -- barriers -------------------------------------------------------------------
    def smp_rmb(self) -> None:
        """smp_rmb(): later loads see what earlier loads' stores carried."""
        st = self.state(self.ex.cur_tid)
        if not st.acq.empty:
            st.cur.join(st.acq)
            st.clear_acq()
        self._fence("smp_rmb")

    def smp_wmb(self) -> None:
        """smp_wmb(): later stores carry this thread's stores so far."""
        st = self.state(self.ex.cur_tid)
        own = st.cur.vc.get(st.tid, 0)
        if own:
            st.wmb = joined(st.wmb, View(0, {}, {st.tid: own}))
        self._fence("smp_wmb")

    def smp_mb(self) -> None:
        """smp_mb(): rmb and wmb, and ordered with every other full barrier."""
        self.full_barrier(self.ex.cur_tid)
        self._fence("smp_mb")

    def full_barrier(self, tid: int) -> None:
        """The view effect of smp_mb() (also of fully ordered atomics)."""
        st = self.state(tid)
        cur = st.cur
        cur.join(st.acq)
        st.clear_acq()
        cur.join(self.sc)
        self.sc = st.wmb = cur.snapshot()

    def release_next(self) -> None:
        """The current thread's next store is a release."""
        self.state(self.ex.cur_tid).release_next = True

    def acquire_next(self) -> None:
        """The current thread's next load is an acquire."""
        self.state(self.ex.cur_tid).acquire_next = True

    def plain_next(self) -> None:
        """Cancel a release or acquire whose access did not reach the model."""
        st = self.state(self.ex.cur_tid)
        st.release_next = st.acquire_next = False

    def _fence(self, name: str) -> None:
        ex = self.ex
        if ex.record and not ex.quiet:
            ex.emit(_FENCE, 0, name)
        self._record(Op("fence", ex.cur_tid, ex.step, name=name))

    # -- locks and RCU ----------------------------------------------------------------
    def lock_acquire(self, addr: int, name: str = "") -> None:
        """The current thread took the lock at @addr: it sees what the
        lock's releases carried, and its later stores carry that and its
        own stores before its last unlock (LKMM's po-unlock-lock-po)."""
        st = self.state(self.ex.cur_tid)
        view = self.sync.get(addr)
        if view is not None:
            st.cur.join(view)
        if view is not None or st.unlocked is not EMPTY:
            st.wmb = joined(st.wmb, view, st.unlocked)
        self._record(Op("lock", st.tid, self.ex.step, addr, name=name))

    def lock_release(self, addr: int, name: str = "") -> None:
        """The current thread releases the lock at @addr (a release)."""
        st = self.state(self.ex.cur_tid)
        self.sync[addr] = joined(self.sync.get(addr), st.cur, st.acq)
        own = st.cur.vc.get(st.tid, 0)
        if own:
            st.unlocked = View(0, {}, {st.tid: own})
        self._record(Op("unlock", st.tid, self.ex.step, addr, name=name))

    def rcu_read_lock(self) -> None:
        """The outermost rcu_read_lock(): the section sees what every grace
        period started so far orders before it."""
        st = self.state(self.ex.cur_tid)
        if self.gp_view is not EMPTY:
            st.cur.join(self.gp_view)
        self._record(Op("rcu_lock", st.tid, self.ex.step))

    def rcu_read_unlock(self) -> None:
        """The outermost rcu_read_unlock() (for the log)."""
        self._record(Op("rcu_unlock", self.ex.cur_tid, self.ex.step))

    def rcu_call(self, sync: bool) -> None:
        """call_rcu() (@sync False) or synchronize_rcu(): the caller's view
        is ordered before the next grace period's readers."""
        tid = self.ex.cur_tid
        if sync:
            self.full_barrier(tid)
        st = self.state(tid)
        self.gp_pending = joined(self.gp_pending, st.cur, st.acq)
        self._record(Op("sync_rcu" if sync else "call_rcu", tid, self.ex.step))

    def gp_start(self) -> None:
        """A grace period starts: it orders the pending callers' views."""
        if self.gp_pending is not EMPTY:
            self.gp_view = joined(self.gp_view, self.gp_pending)
            self.gp_pending = EMPTY
        self._record(Op("gp_start", self.ex.cur_tid, self.ex.step))

    # -- the log ----------------------------------------------------------------------
    def _record(self, op: Op) -> None:
        if self.log is not None and not self.ex.quiet:
            self.log.append(op)
