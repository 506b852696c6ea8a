"""``lkmm``: an operational approximation of the Linux kernel memory model.

The Linux kernel memory model (tools/memory-model; Alglave, Maranget,
McKenney, Parri and Stern, ASPLOS 2018) is axiomatic: herd7 enumerates the
candidate executions of a small litmus test and keeps the consistent ones.
An interleaving explorer needs an *operational* model instead, one that
decides each load's value when the load runs.  This one follows the
view-based designs of the promising semantics and C11Tester:

* every tracked word (maple node words, ``ma_root``, ``ma_flags``, the
  fields of the scenarios' shared structs) keeps its stores in coherence
  order (:class:`~.views.Loc`);
* every thread keeps a view (:class:`~.views.Acc`) of the stores it must at
  least see; a load may read the newest store its view includes or any
  newer one, and *which* is a strategy decision
  (:meth:`Execution.read_choice`), recorded in the schedule;
* barriers and synchronisation move views:

  - a load makes its word's store part of the view (coherence) and keeps
    the store's own view pending (``acq``);
  - ``smp_rmb()`` makes the pending views part of the view (reads after
    the barrier see what the stores read before it were ordered after);
  - ``smp_wmb()`` makes the thread's own stores so far part of the view its
    later stores carry (``wmb``); a plain store carries that view;
  - a release store (``smp_store_release()``, ``rcu_assign_pointer()``)
    carries the thread's whole view, pending views included (LKMM's
    release is A-cumulative);
  - an acquire load (``smp_load_acquire()``) makes the store's view part of
    the thread's view at once;
  - an address dependency: a load that reads a pointer (an encoded node,
    a parent word, a struct) keeps the store's view as the *dependency view*
    of the object pointed to; a later load of that object's words sees at
    least it (``rcu_dereference()``, and ``READ_ONCE()`` since v4.15);
  - ``smp_mb()`` joins the view with a global fence view and publishes the
    result there (two full barriers are ordered, as in store buffering);
    later stores carry the whole view;
  - RCU: ``call_rcu()`` and ``synchronize_rcu()`` record the caller's view;
    a grace period that starts takes those views, and a read-side section
    that begins after the start sees them (the grace-period guarantee:
    a reader that is not waited for sees everything before the update's
    call); the callbacks, and ``synchronize_rcu()`` once it returns, see
    everything (:meth:`LkmmModel.propagate`);
  - locks, rw-semaphores: release on unlock, acquire on lock; a thread that
    slept (blocked, woken) or spun (a yield point) sees everything:
    stores propagate in finite time, and a spinner must see the store it
    waits for; fully ordered atomics are ``smp_mb()``;
  - an atomic read-modify-write of a struct field (:meth:`LkmmModel.rmw`,
    ``field_rmw()``: refcount_t, cmpxchg) reads the newest store and is
    the next one (atomicity), its store carrying the view of the store it
    read (``rmw-sequence``), relaxed, acquire, release or fully ordered.

Stronger than LKMM, on purpose (each removes behaviours, never adds one,
so a finding under this model is an execution LKMM allows): a store always
becomes the newest in coherence order when it runs, and loads run in
program order, so load buffering (LB), 2+2W and S are never produced; a
lock handed over to a sleeper and a spinner's wake-up see everything;
the harness's ``atomic_t`` words are sequentially consistent.  Not modelled:
plain (unmarked) C accesses and their data races (every access is a marked
one), control dependencies (never needed: loads never read the future),
``smp_mb__after_spinlock()`` and friends, SRCU.

Modules: :mod:`.api` (the interface a memory model implements, the log's
records), :mod:`.views` (views and word histories), :mod:`.threads` (a
thread's views, word identity), :mod:`.ordering` (the model's state,
barriers, release/acquire, locks, RCU) and this one (loads, stores and
read-modify-writes: the access hook).

The litmus tests in ``tests/memory/test_lkmm_litmus.py`` pin each rule by
enumerating every execution with ``dfs`` and comparing with herd7's
verdicts on the same tests (``stress/litmus/``, the kernel's own
``tools/memory-model/litmus-tests``).
"""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.wmm.api import Op
from rcu_harness.memory.wmm.ordering import Ordering
from rcu_harness.memory.wmm.threads import TState, pointer_target, raw_value, word_codes
from rcu_harness.memory.wmm.views import EMPTY, Acc, Loc, Msg, joined
from rcu_harness.runtime.thread import Phase
from rcu_harness.trace.events import ReadsFrom

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

_RUN = Phase.RUN


class LkmmModel(Ordering):
    """The ``lkmm`` memory model of one execution (an access hook)."""

    name = "lkmm"
    wants_pending = False
    """It chooses what loads read; pending accesses are a strategy's affair."""
    passive = False

    # -- threads ------------------------------------------------------------
    def spawned(self, child: SimThread) -> None:
        """A thread created while the threads run sees everything before."""
        self.threads[child.tid] = TState(child.tid, self.seq)

    def propagate(self, t: SimThread) -> None:
        """@t sees every store made so far."""
        st = self.state(t.tid)
        if st.cur.floor < self.seq:
            st.cur.raise_floor(self.seq)
            st.clear_acq()
            st.deps.clear()
            st.dep_made.clear()
            st.dep_src.clear()
            self._record(Op("propagate", t.tid, self.ex.step))

    def horizon(self, t: SimThread) -> int:
        """The step of the first store @t's view may not include (every
        store made before it is visible to @t); the current step if none."""
        floor = self.state(t.tid).cur.floor
        return self.steps[floor] if floor < len(self.steps) else self.ex.step

    # -- the access hook --------------------------------------------------------
    def load(self, ex: Execution, obj: Any, word: str, index: int,
             value: Any) -> Any:
        """The value the current thread's load of @obj's @word[@index] reads
        (@value is the newest store's)."""
        codes = self._codes.get(type(obj))
        if codes is None:
            codes = self._codes[type(obj)] = word_codes(type(obj))
        key = (obj.addr << 8) | (codes[word] + (index if index > 0 else 0))
        loc = self.locs.get(key)
        if loc is None:  # never stored while the threads ran
            st = self.state(ex.cur_tid)
            acquire = st.acquire_next
            st.acquire_next = False
            if ex.record:
                self.last_read = ReadsFrom(value, 0, -1, 0, -1)
            if self.log is not None:
                loc = Loc(key, obj, word, index, value)
                self._log_load(st, loc, obj, loc.msgs[0],
                               pointer_target(value, word), acquire=acquire)
            return value
        msgs = loc.msgs
        if msgs[-1].value is not value:  # changed where the model did not see
            self._resync(loc, value)
        st = self.threads.get(ex.cur_tid) or self.state(ex.cur_tid)
        cur = st.cur
        dep = st.deps.get(obj.addr) if st.deps else None
        i = len(msgs) - 1
        base = loc.base
        while i > base:
            m = msgs[i]
            if cur.includes(m) or (dep is not None and dep.includes(m)):
                break
            i -= 1
        options = len(msgs) - i
        k = ex.read_choice(options) if options > 1 else 0
        m = msgs[-1 - k]
        if not cur.includes(m):
            cur.see(loc.key, m.seq)
        view = m.view
        if view is not EMPTY and view is not st.acq_last:
            st.acq_last = view
            st.acq.join(view)
        acquire = st.acquire_next
        if acquire:
            st.acquire_next = False
            cur.join(view)
        target = pointer_target(m.value, word)
        if target and (dep is not None or view is not EMPTY):
            # The load through the pointer sees what this load saw (dep) and
            # what the store read was ordered after (view); the store itself
            # is already in cur, which only grows.
            made = st.dep_made.get(target)
            if made is None or made[0] is not dep or made[1] is not view:
                st.deps[target] = joined(st.deps.get(target), dep, view)
                st.dep_made[target] = (dep, view)
        if ex.record:
            newest = msgs[-1]
            self.last_read = ReadsFrom(m.value, m.step, m.tid,
                                       newest.step if k else 0,
                                       newest.tid if k else -1)
        if self.log is not None:
            self._log_load(st, loc, obj, m, target, acquire=acquire)
        return m.value

    def store(self, ex: Execution, obj: Any, word: str, index: int,
              value: Any) -> None:
        """The current thread stores @value into @obj's @word[@index]
        (before the word is written; private and unobserved stores too)."""
        if ex.phase is not _RUN:
            return
        codes = self._codes.get(type(obj))
        if codes is None:
            codes = self._codes[type(obj)] = word_codes(type(obj))
        key = (obj.addr << 8) | (codes[word] + (index if index > 0 else 0))
        loc = self.locs.get(key)
        if loc is None:
            loc = self.locs[key] = Loc(key, obj, word, index,
                                       raw_value(obj, word, index))
        st = self.threads.get(ex.cur_tid) or self.state(ex.cur_tid)
        self.seq = seq = self.seq + 1
        self.steps.append(ex.step)
        release = st.release_next
        if release:
            st.release_next = False
            acc = Acc()
            acc.join(st.cur)
            acc.join(st.acq)
            view = acc.snapshot()
        else:
            view = st.wmb
        loc.msgs.append(Msg(seq, st.tid, ex.step, value, view, release, key))
        st.cur.vc[st.tid] = seq  # its own stores so far
        if self.log is not None:
            self.log.append(Op("st", st.tid, ex.step, key, value, seq,
                               ordered=release))

    def rmw(self, ex: Execution, obj: Any, word: str,
            fn: Callable[[Any], Any], order: RmwOrder,
            value: Any, primitive: str = "") -> tuple[Any, Any]:
        """An atomic read-modify-write of @obj's @word by the current thread
        (@value: what the word holds; @primitive: the kernel primitive it
        models, logged with its load and store for the litmus exporter).  It
        reads the newest store in coherence order (atomicity: no store comes
        between its read and its write) and, unless ``fn(old)`` equals the old
        value (a failed cmpxchg, which writes nothing and orders nothing),
        stores ``fn(old)`` as the new newest store.  Its read is a load
        (coherence, the store's view pending; acquire: joined at once), its
        store a store (release: carrying the whole view) that also carries the
        view of the store it read (LKMM's rmw-sequence: a release followed by
        RMWs of the word still orders for whoever reads the last one); a fully
        ordered RMW is a full barrier on both sides.  Returns (the old value, the
        new one: the old one if nothing was written)."""
        key, loc = self._loc(obj, word, -1)
        msgs = loc.msgs
        if msgs[-1].value is not value:
            self._resync(loc, value)
        st = self.threads.get(ex.cur_tid) or self.state(ex.cur_tid)
        m = msgs[-1]
        old = m.value
        new = fn(old)
        wrote = new != old
        if wrote and order is RmwOrder.FULL:
            self.full_barrier(st.tid)
        st.cur.see(key, m.seq)
        read_view = m.view
        if read_view is not EMPTY:
            st.acq.join(read_view)
            if wrote and order is not RmwOrder.RELAXED \
                    and order is not RmwOrder.RELEASE:
                st.cur.join(read_view)
        if self.log is not None:
            self._log_load(st, loc, obj, m, 0, primitive, order if wrote else None)
        if ex.record:
            self.last_read = ReadsFrom(old, m.step, m.tid, 0, -1)
        if not wrote:
            return old, old
        self.seq = seq = self.seq + 1
        self.steps.append(ex.step)
        release = order is RmwOrder.RELEASE or order is RmwOrder.FULL
        view = (joined(st.cur, st.acq) if release else st.wmb)
        if read_view is not EMPTY:
            view = joined(view, read_view)
        msgs.append(Msg(seq, st.tid, ex.step, new, view, release, key))
        st.cur.vc[st.tid] = seq
        if self.log is not None:
            self.log.append(Op("st", st.tid, ex.step, key, new, seq,
                               ordered=release, name=primitive, rmw=order))
        if order is RmwOrder.FULL:
            self.full_barrier(st.tid)
        return old, new

    def _loc(self, obj: Any, word: str, index: int) -> tuple[int, Loc]:
        """The key and the history of @obj's @word[@index] (made from the
        word's current value on first use)."""
        codes = self._codes.get(type(obj))
        if codes is None:
            codes = self._codes[type(obj)] = word_codes(type(obj))
        key = (obj.addr << 8) | (codes[word] + (index if index > 0 else 0))
        loc = self.locs.get(key)
        if loc is None:
            loc = self.locs[key] = Loc(key, obj, word, index,
                                       raw_value(obj, word, index))
        return key, loc

    def _resync(self, loc: Loc, value: Any) -> None:
        """The word holds a value no tracked store wrote (a store the model
        did not see): make it the one every thread reads from now on."""
        self.seq += 1
        self.steps.append(self.ex.step)
        loc.msgs.append(Msg(self.seq, -1, self.ex.step, value, EMPTY, False,
                            loc.key))
        loc.base = len(loc.msgs) - 1

    # -- the log ----------------------------------------------------------------------
    def _log_load(self, st: TState, loc: Loc, obj: Any, m: Msg, target: int,
                  name: str = "", rmw: RmwOrder | None = None, *,
                  acquire: bool = False) -> None:
        """Log a load (@rmw: the order of the read-modify-write it is the
        read of; @acquire: an acquire load)."""
        assert self.log is not None
        ex = self.ex
        src = st.dep_src.get(obj.addr, -1)
        acquire = acquire or rmw is RmwOrder.ACQUIRE or rmw is RmwOrder.FULL
        self.log.append(Op("ld", st.tid, ex.step, loc.key, m.value, m.seq,
                           loc.msgs[-1].seq, ordered=acquire, dep=src, name=name,
                           rmw=rmw))
        if target:
            st.dep_src[target] = len(self.log) - 1
