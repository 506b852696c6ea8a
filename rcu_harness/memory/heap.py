"""The simulated heap: allocation records, poisoning, double free, leaks.

Every object handed out by the instrumented port (maple nodes) or by
``kmalloc()`` (:mod:`rcu_harness.memory.simstruct`) gets an
:class:`AllocRecord`: where, when and by whom it was allocated, marked dead,
queued with ``call_rcu()`` and freed, with the grace-period numbers.

The hot path never looks at the record: instrumented objects carry a small
int ``_w`` of *watch bits* (:data:`PUBLISHED`, :data:`FREED`).  An access to
an object whose bits are zero (a private, live object) is a plain access;
otherwise the slow path runs, which is where a freed object is caught and
reported in KASAN's layout (:mod:`rcu_harness.memory.kasan`), and where a
reader's load of a :data:`RETIRED` object is sampled (its pipeline age,
:meth:`Heap.retired_read`).  ``call_rcu()`` and the free that follows feed
the memory-held-by-RCU samples (:mod:`rcu_harness.runtime.metrics`).

Addresses are fake, 256-byte aligned in the direct map, handed out in
allocation order and *never reused*: KASAN's quarantine made infinite, so
every use after free is caught, and addresses are identical in every run.

The one exception is a ``SLAB_TYPESAFE_BY_RCU`` cache
(:mod:`rcu_harness.memory.slab`): an object freed into it gets the watch bit
:data:`SLAB_FREE` instead of :data:`FREED` (reads stay legal, as the memory
stays an object of that type; writes are use after free) and may be handed
out again at once, at the same address (:meth:`Heap.reuse`), so a stale
pointer aliases the newer object, exactly as in the kernel.

Not modelled: slab reuse of freed memory of other caches (a freed object
stays freed; a stale pointer never aliases a newer object), allocation
failure (``gfp`` is ignored), and memory contents after free (accesses are
caught instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.memory import kasan
from rcu_harness.memory.records import AllocRecord, AllocState, RawSite, Site
from rcu_harness.runtime.callchain import capture, capture_top
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution

PUBLISHED = 1
"""Watch bit: reachable by other threads; accesses are scheduling points."""
FREED = 2
"""Watch bit: freed; every access is a use after free."""
RETIRED = 4
"""Watch bit: marked dead or queued with call_rcu(), not necessarily freed;
a reader's load is sampled (its pipeline age), never a failure by itself."""

SLAB_FREE = 8
"""Watch bit: free in a SLAB_TYPESAFE_BY_RCU cache; reads are legal (the
memory is still an object of its type), writes are use after free."""

ON_WATCH: dict[type, Callable[[Any], None]] = {}
"""Classes whose objects change class when they are freed or retired: an
object of a class in here whose watch bits leave zero gets the function's
treatment (a maple node in its private view becomes observed,
:mod:`rcu_harness.memory.maple_node`)."""

HEAP_BASE = 0xFFFF_8880_0000_0000
STATIC_BASE = 0xFFFF_FFFF_8300_0000
_ALLOC = EventKind.ALLOC.value
_FREE = EventKind.FREE.value
# The states once: a look-up through the Enum class is slow (EnumType's
# attribute hook), and every allocation, free and death made one or two.
_LIVE = AllocState.LIVE
_DEAD = AllocState.DEAD
_FREED_STATE = AllocState.FREED


class Heap:
    """The simulated heap of one execution."""

    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.records: dict[int, AllocRecord] = {}
        self.objects: dict[int, Any] = {}
        """addr -> object, for ports whose model resolves addresses."""
        self._next = HEAP_BASE
        self._next_static = STATIC_BASE
        self.total_allocated = 0
        self.total_freed = 0

    # -- addresses -------------------------------------------------------
    def new_addr(self, size: int) -> int:
        """The next fresh heap address for an object of @size bytes."""
        addr = self._next
        self._next += max(256, (size + 255) & ~255)
        return addr

    def static_addr(self) -> int:
        """A fresh address outside the heap (locks, atomics, globals)."""
        addr = self._next_static
        self._next_static += 64
        return addr

    def site(self, skip: int = 2) -> Site:
        """The current thread, step and call chain (only up to the innermost
        model frame when the execution records no events: see
        :func:`~rcu_harness.runtime.callchain.capture_top`)."""
        return Site(*self._site(skip + 1))

    def _site(self, skip: int) -> RawSite:
        """:meth:`site` as the records keep it (a tuple, made a
        :class:`Site` when read)."""
        ex = self.ex
        return (ex.cur.label, ex.step,
                capture(skip) if ex.record else capture_top(skip))

    # -- life cycle --------------------------------------------------------
    def register(self, obj: Any, addr: int, size: int, type_name: str, *,
                 leak_checked: bool = True) -> AllocRecord:
        """Record the allocation of @obj at @addr."""
        rec = AllocRecord(obj, addr, size, type_name, self._site(3), leak_checked)
        self.records[addr] = rec
        self.objects[addr] = obj
        self.total_allocated += 1
        if self.ex.record:
            self.ex.emit(_ALLOC, addr, type_name)
        return rec

    def record_of(self, obj: Any) -> AllocRecord | None:
        """The allocation record of @obj, if the heap handed it out."""
        rec = self.records.get(getattr(obj, "addr", -1))
        return rec if rec is not None and rec.obj is obj else None

    def free(self, obj: Any, *, typesafe: bool = False) -> None:
        """kfree(): free @obj; a double or invalid free is a finding.
        @typesafe: into a SLAB_TYPESAFE_BY_RCU cache (bit SLAB_FREE)."""
        rec = self.record_of(obj)
        if rec is None:
            self.ex.fail(kasan.invalid_free(self.ex, obj))
            return
        if rec.state is _FREED_STATE:
            self.ex.fail(kasan.double_free(self.ex, rec))
            return
        rec.state = _FREED_STATE
        rec._free = self._site(3)
        rcu = self.ex.rcu
        rec.free_gp = rcu.running_gp if rcu.running is not None else 0
        if rec.rcu_pending:
            self._rcu_release(rec)
        rec.rcu_pending = False
        obj._w |= SLAB_FREE if typesafe else FREED
        watch = ON_WATCH.get(type(obj))
        if watch is not None:
            watch(obj)
        self.total_freed += 1
        if self.ex.record:
            self.ex.emit(_FREE, rec.addr, rec.type_name)

    def reuse(self, rec: AllocRecord) -> None:
        """Hand @rec's object out again (a SLAB_TYPESAFE_BY_RCU cache): live,
        allocated here and now, its old death, call_rcu and free forgotten
        (the cache keeps its past lives, :mod:`rcu_harness.memory.slab`)."""
        rec.state = _LIVE
        rec._alloc = self._site(3)
        rec._death = rec._call_rcu = rec._free = None
        rec.free_gp = rec.call_rcu_gp = rec.retire_gp = 0
        rec.obj._w &= ~(SLAB_FREE | RETIRED)
        self.total_allocated += 1
        if self.ex.record:
            self.ex.emit(_ALLOC, rec.addr, rec.type_name)

    def on_call_rcu(self, obj: Any) -> None:
        """call_rcu() was called on @obj: record it; catch misuse."""
        rec = self.record_of(obj)
        if rec is None:
            return
        if rec.state is _FREED_STATE:
            self.ex.fail(kasan.use_after_free(self.ex, rec, "Write", "rcu_head", -1,
                                              8))
            return
        if rec.rcu_pending:
            self.ex.fail(kasan.double_free(self.ex, rec, via="call_rcu"))
            return
        rec.rcu_pending = True
        rec._call_rcu = self._site(4)
        rec.call_rcu_gp = self.ex.rcu.gp_seq
        self._retire(rec)
        self.ex.metrics.rcu_queued(self.ex.step)

    def mark_dead(self, rec: AllocRecord) -> None:
        """The object was marked dead (mte_set_node_dead())."""
        rec.state = _DEAD
        rec._death = self._site(4)
        self._retire(rec)

    def revive(self, rec: AllocRecord) -> None:
        """A dead object was reinitialised for reuse."""
        rec.state = _LIVE
        rec.obj._w &= ~RETIRED

    def _rcu_release(self, rec: AllocRecord) -> None:
        """@rec, queued with call_rcu(), is being freed: sample it."""
        ex = self.ex
        delay = None
        site = rec._call_rcu
        if ex.rcu.running is not None and ex.in_threads and site is not None:
            delay = ex.step - (site.step if isinstance(site, Site) else site[1])
        ex.metrics.rcu_freed(ex.step, delay)

    def _retire(self, rec: AllocRecord) -> None:
        """Mark @rec retired now, unless it already is (first retirement wins)."""
        obj = rec.obj
        if not obj._w & RETIRED:
            obj._w |= RETIRED
            rec.retire_gp = self.ex.rcu.gp_seq
            watch = ON_WATCH.get(type(obj))
            if watch is not None:
                watch(obj)

    def retired_read(self, rec: AllocRecord, lock: Any) -> None:
        """The current thread loaded a word of retired, unfreed @rec.

        Sampled when the thread is a reader: not rcu_gp (its callbacks walk
        dead nodes), not setup or teardown, and not holding @lock (the
        writer that retired it).  The age is 1 plus the grace periods that
        started after the retirement and have ended since.
        """
        ex = self.ex
        t = ex.cur
        if t.tid <= 0 or (lock is not None and lock.owner is t):
            return
        ended = ex.rcu.completed - rec.retire_gp
        ex.metrics.retired_read(t, 1 + ended if ended > 0 else 1)

    def check_leaks(self) -> None:
        """Every leak-checked object must have been freed by now."""
        leaked = [r for r in self.records.values()
                  if r.leak_checked and r.state is not _FREED_STATE]
        if leaked:
            self.ex.fail(kasan.leak(self.ex, leaked))
