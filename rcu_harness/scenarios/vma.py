"""VMAs and the write side of per-VMA locks, as two kernels have them.

``struct vm_area_struct`` is :class:`Vma` (the fields the 2021 and 2023
designs use) or, in a design with per-VMA locks, :class:`LockedVma`.  The
functions here model, by kernel name:

* the mmap_lock and its sequence count (include/linux/mmap_lock.h, 6.12):
  ``mmap_write_lock()`` (``mm_lock_seqcount_begin()``),
  ``mmap_write_unlock()`` and ``mmap_write_downgrade()``, both through
  ``vma_end_write_all()`` (``mm_lock_seqcount_end()``: one increment
  releases every VMA write lock of the cycle), ``mmap_read_lock()``,
  ``mmap_read_trylock()``, ``mmap_read_unlock()``;
* ``design=modern`` -- Linux 6.12 (include/linux/mm.h, kernel/fork.c): a
  VMA has a ``vm_lock`` rw_semaphore (a separate ``struct vma_lock`` in
  6.12), ``vm_lock_seq`` and ``detached``.  ``vma_start_write()`` returns if
  ``vm_lock_seq`` is already the mm's sequence, else takes ``vm_lock`` for
  write (waiting for the readers inside), records the sequence and drops
  it; ``vma_mark_detached()`` asserts the write lock; ``vm_area_free()``
  frees through ``call_rcu()``;
* ``design=vma_refcnt`` -- Linux 6.15+ as of 6.17 (include/linux/mm.h,
  include/linux/mmap_lock.h, mm/mmap_lock.c): ``vm_refcnt`` replaces lock
  and flag: 0 detached, 1 attached, +1 per reader, +``VMA_LOCK_OFFSET``
  while a writer excludes readers.  ``__vma_start_write()`` adds the offset
  (``__vma_enter_locked()``) and waits on the mm's ``vma_writer_wait``
  until the readers drained, records the sequence, and subtracts it again
  (``__vma_exit_locked()``); ``vma_mark_attached()`` sets 1,
  ``vma_mark_detached()`` drops it and waits for stray readers;
  ``vma_refcount_put()`` wakes the writer when its reader was the last one.
  VMAs come from ``vm_area_cachep``, ``SLAB_TYPESAFE_BY_RCU``
  (:mod:`rcu_harness.memory.slab`): ``vm_area_free()`` frees at once and the
  next ``vm_area_alloc()``, of any mm, may get the same VMA back.

The read side (``vma_start_read()``, ``lock_vma_under_rcu()``...) is in
:mod:`.vma_read`.  Each VMA's :class:`VmaLock` tells the checker
(:mod:`rcu_harness.checks.vma_lock`) who holds what.

Not modelled: lockdep maps (the checker asserts instead), ``vm_refcnt``
overflow (``VMA_REF_LIMIT`` is never reached), ``mm_lock_seq`` overflow,
killable variants (never killed), the vma_lock slab of 6.12 (``vm_lock`` is
a plain attribute set at allocation), and ``mmgrab()``/``mmdrop()`` (the
mm_struct is never freed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rcu_harness.checks.vma_lock import VmaLockState
from rcu_harness.kernel import (
    RwSemaphore,
    SimStruct,
    call_rcu,
    down_read,
    down_write,
    kfree,
    kmalloc,
    smp_mb,
    smp_rmb,
    smp_wmb,
    up_read,
    up_write,
)
from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.heap import PUBLISHED
from rcu_harness.memory.simstruct import field_rmw, field_set_release, publish, static
from rcu_harness.memory.slab import kmem_cache_alloc, kmem_cache_create, kmem_cache_free
from rcu_harness.runtime.current import current
from rcu_harness.scenarios.design import Design
from rcu_harness.sync.rwsem import down_read_trylock, downgrade_write

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.scenarios.mm import Mm

UINT_MAX = 0xFFFF_FFFF
VMA_LOCK_OFFSET = 0x4000_0000
VMA_REF_LIMIT = VMA_LOCK_OFFSET - 1


class Vma(SimStruct):
    """struct vm_area_struct: [vm_start, vm_end), flags and the owning mm."""

    fields: ClassVar[tuple[str, ...]] = ("vm_start", "vm_end", "vm_flags", "vm_mm")
    vm_start: int
    vm_end: int
    vm_flags: int
    vm_mm: object


class LockedVma(Vma):
    """struct vm_area_struct with CONFIG_PER_VMA_LOCK.

    ``vm_lock_seq``, ``detached`` (6.12) or ``vm_refcnt`` (6.15+) are the
    lock; ``vm_pte`` stands for the VMA's page tables (pages a fault
    installed), ``vm_cow`` for their write-protection by fork's
    ``copy_page_range()`` (passes so far), ``anon_vma`` for the anon_vma a
    first write fault prepares.  ``vm_lock`` (6.12) is the VMA's
    rw_semaphore.
    """

    fields = (*Vma.fields, "vm_lock_seq", "detached", "vm_refcnt", "vm_pte",
              "vm_cow", "anon_vma")
    vm_mm: Mm
    vm_lock_seq: int
    detached: bool
    vm_refcnt: int
    vm_pte: int
    vm_cow: int
    anon_vma: object
    vm_lock: RwSemaphore


class SeqCount(SimStruct):
    """seqcount_t (``mm->mm_lock_seq``): odd while the mmap_lock is held
    for write."""

    fields = ("sequence",)
    sequence: int


class Rcuwait(SimStruct):
    """struct rcuwait (``mm->vma_writer_wait``): the one task waiting."""

    fields = ("task",)
    task: object


_SEQ = LockedVma.fields.index("vm_lock_seq")
_MM = LockedVma.fields.index("vm_mm")
_START = LockedVma.fields.index("vm_start")
_END = LockedVma.fields.index("vm_end")
_REFCNT = LockedVma.fields.index("vm_refcnt")


class VmaLock(VmaLockState):
    """The lock state of one LockedVma, answering from the mm model."""

    __slots__ = ("asserts",)

    def __init__(self, vma: LockedVma, asserts: bool) -> None:
        super().__init__(vma)
        self.asserts = asserts
        """Check vma_assert_write_locked() on every store (else only the
        reader-side rules)."""

    def _mm(self) -> Mm:
        mm: Mm = self.vma._v[_MM]
        return mm

    def write_locked_by(self, t: SimThread) -> bool:
        """__is_vma_write_locked() for @t (``asserts=False``: always)."""
        if not self.asserts:
            return True
        mm = self._mm()
        return bool(mm.mmap_lock.writer is t
                    and self.vma._v[_SEQ] == mm.mm_lock_seq._v[0])

    def mmap_locked_by(self, t: SimThread) -> bool:
        """Does @t hold the VMA's mm's mmap_lock (either mode)?"""
        sem = self._mm().mmap_lock
        return sem.writer is t or t in sem.readers

    def mmap_read_locked_by(self, t: SimThread) -> bool:
        """Does @t hold the VMA's mm's mmap_lock for read?"""
        return t in self._mm().mmap_lock.readers

    def identity(self) -> tuple[object, int, int]:
        """(vm_mm, vm_start, vm_end), read without observing."""
        v = self.vma._v
        return v[_MM], v[_START], v[_END]


def vma_lock(vma: Vma) -> VmaLock | None:
    """The per-VMA lock state of @vma (None without per-VMA locks)."""
    lock = vma._lock
    return lock if isinstance(lock, VmaLock) else None


# -- the mmap_lock (include/linux/mmap_lock.h) ---------------------------------


def mm_lock_init(mm: Mm) -> None:
    """mmap_init_lock(): the sequence count and writer wait of an mm with
    per-VMA locks (``mm_lock_seqcount_init()``, ``rcuwait_init()``)."""
    mm.mm_lock_seq = static(SeqCount, sequence=0)
    mm.vma_writer_wait = static(Rcuwait, task=None)


def mmap_write_lock(mm: Mm) -> None:
    """mmap_write_lock(): down_write(), then mm_lock_seqcount_begin()
    (do_raw_write_seqcount_begin(): the increment, then smp_wmb())."""
    down_write(mm.mmap_lock)
    seq = mm.mm_lock_seq
    if seq is not None:
        seq.sequence = seq.sequence + 1
        smp_wmb()


def vma_end_write_all(mm: Mm) -> None:
    """vma_end_write_all(): mm_lock_seqcount_end(), which unlocks every VMA
    write-locked in this cycle at once (do_raw_write_seqcount_end():
    smp_wmb(), then the increment)."""
    seq = mm.mm_lock_seq
    if seq is not None:
        smp_wmb()
        seq.sequence = seq.sequence + 1


def mmap_write_unlock(mm: Mm) -> None:
    """mmap_write_unlock(): vma_end_write_all(), then up_write()."""
    vma_end_write_all(mm)
    up_write(mm.mmap_lock)


def mmap_write_downgrade(mm: Mm) -> None:
    """mmap_write_downgrade(): vma_end_write_all(), then downgrade_write()."""
    vma_end_write_all(mm)
    downgrade_write(mm.mmap_lock)


def mmap_read_lock(mm: Mm) -> None:
    """mmap_read_lock()."""
    down_read(mm.mmap_lock)


def mmap_read_trylock(mm: Mm) -> bool:
    """mmap_read_trylock()."""
    return down_read_trylock(mm.mmap_lock)


def mmap_read_unlock(mm: Mm) -> None:
    """mmap_read_unlock()."""
    up_read(mm.mmap_lock)


# -- write-locking a VMA -------------------------------------------------------


def __is_vma_write_locked(vma: LockedVma) -> tuple[bool, int]:
    """__is_vma_write_locked(): (locked, the mm's sequence); the caller
    holds the mmap_lock for write, so neither can change meanwhile."""
    seq = vma.vm_mm.mm_lock_seq.sequence
    return vma.vm_lock_seq == seq, seq


def vma_start_write(vma: Vma) -> None:
    """vma_start_write(): exclude readers of @vma until the mmap_lock cycle
    ends (no-op without per-VMA locks)."""
    if not isinstance(vma, LockedVma):
        return
    locked, seq = __is_vma_write_locked(vma)
    if locked:
        return
    if vma.vm_mm.design is Design.VMA_REFCNT:
        __vma_start_write(vma, seq)
        return
    down_write(vma.vm_lock)  # 6.12: wait for the readers inside
    vma.vm_lock_seq = seq
    up_write(vma.vm_lock)


def vma_assert_write_locked(vma: Vma, what: str) -> None:
    """vma_assert_write_locked() at kernel assertion site @what."""
    lock = vma_lock(vma)
    if lock is not None:
        lock.assert_write_locked(current(), what)


def __vma_enter_locked(vma: LockedVma, detaching: bool) -> bool:
    """__vma_enter_locked(): add VMA_LOCK_OFFSET unless detached, then wait
    until only the writer (and the tree, unless @detaching) hold it.
    refcount_add_not_zero() is relaxed (a try_cmpxchg loop); the wait's
    condition, read after set_current_state()'s full barrier, reads the
    newest count (as a spin would)."""
    tgt = VMA_LOCK_OFFSET + (0 if detaching else 1)
    old = field_rmw(vma, "vm_refcnt", lambda c: c + VMA_LOCK_OFFSET if c else c,
                    RmwOrder.RELAXED, conditional=True,
                    primitive="refcount_add_not_zero")
    if not old:
        return False
    rcuwait_wait_event(vma.vm_mm.vma_writer_wait,
                       lambda: vma._v[_REFCNT] == tgt, "vma_writer_wait")
    return True


def __vma_exit_locked(vma: LockedVma) -> bool:
    """__vma_exit_locked(): subtract VMA_LOCK_OFFSET; True if now detached
    (refcount_sub_and_test(): release, acquire when it reaches zero)."""
    old = field_rmw(vma, "vm_refcnt", lambda c: c - VMA_LOCK_OFFSET,
                    RmwOrder.RELEASE, primitive="refcount_sub_and_test")
    if old == VMA_LOCK_OFFSET:
        smp_rmb()  # smp_acquire__after_ctrl_dep()
        return True
    return False


def __vma_start_write(vma: LockedVma, seq: int) -> None:
    """mm/mmap_lock.c:__vma_start_write()."""
    locked = __vma_enter_locked(vma, False)
    vma.vm_lock_seq = seq
    if locked:
        __vma_exit_locked(vma)  # WARN_ON_ONCE(detached): it stays attached


def rcuwait_wait_event(w: Rcuwait, cond: Callable[[], bool], what: str) -> None:
    """rcuwait_wait_event(w, cond, TASK_UNINTERRUPTIBLE): publish the task,
    then test @cond and sleep until a wake-up finds it true.  Each test
    follows set_current_state()'s full barrier, the (A) that pairs with
    rcuwait_wake_up()'s (B): a waker that missed the task made its
    condition true before the test."""
    ex = current()
    w.task = ex.cur
    while True:
        ex.point()
        smp_mb()  # set_current_state(): smp_store_mb(), barrier (A)
        with ex.atomic:
            if cond():
                break
            ex.block(what)
    w.task = None


def rcuwait_wake_up(w: Rcuwait) -> None:
    """rcuwait_wake_up(): wake the task waiting on @w, if any, read after
    its smp_mb() (B), which pairs with rcuwait_wait_event()'s (A)."""
    smp_mb()  # (B)
    task = w.task
    if task is not None:
        current().wake(task)  # type: ignore[arg-type]


def vma_refcount_put(vma: LockedVma) -> None:
    """vma_refcount_put(): drop a reader's reference; wake the writer if it
    waits for just this reader (a copy of vm_mm, as the VMA may be freed
    once the count is dropped).  __refcount_dec_and_test(): release,
    acquire when it reaches zero."""
    mm = vma.vm_mm
    old = field_rmw(vma, "vm_refcnt", lambda c: c - 1, RmwOrder.RELEASE,
                    primitive="__refcount_dec_and_test")
    if old == 1:
        smp_rmb()  # smp_acquire__after_ctrl_dep()
    newcnt = old - 1
    if newcnt and newcnt & VMA_LOCK_OFFSET and newcnt <= VMA_LOCK_OFFSET + 1:
        rcuwait_wake_up(mm.vma_writer_wait)


def vma_mark_attached(vma: Vma) -> None:
    """vma_mark_attached() (6.15+: vm_refcnt 0 -> 1, release); in 6.12 a VMA
    is attached from vma_init() on.  The checker learns it either way, and
    the VMA is published here (its loads and stores become scheduling
    points and reach the checkers), as it is about to be stored into the
    tree: the maple port publishes an entry stored into a published node,
    not the entries of a new node it publishes."""
    lock = vma_lock(vma)
    if lock is None:
        return
    assert isinstance(vma, LockedVma)
    vma_assert_write_locked(vma, "vma_mark_attached()")
    if vma.vm_mm.design is Design.VMA_REFCNT:
        field_set_release(vma, "vm_refcnt", 1)  # refcount_set_release()
    lock.attached = True
    publish(vma, guard=lock)  # about to be stored into the tree


def vma_mark_detached(vma: Vma) -> None:
    """vma_mark_detached(): 6.12 sets ``detached``; 6.15+ drops the tree's
    reference and waits for stray readers."""
    lock = vma_lock(vma)
    if lock is None:
        return
    assert isinstance(vma, LockedVma)
    vma_assert_write_locked(vma, "vma_mark_detached()")
    lock.attached = False
    if vma.vm_mm.design is not Design.VMA_REFCNT:
        vma.detached = True
        return
    old = field_rmw(vma, "vm_refcnt", lambda c: c - 1, RmwOrder.RELEASE,
                    primitive="refcount_dec_and_test")
    if old == 1:
        smp_rmb()  # its acquire on success: smp_acquire__after_ctrl_dep()
    if old != 1 and __vma_enter_locked(vma, True):
        __vma_exit_locked(vma)


# -- allocation (kernel/fork.c) ----------------------------------------------------


def vm_area_alloc(mm: Mm, start: int, end: int, flags: int = 0) -> Vma:
    """vm_area_alloc() + vma_set_range(): a VMA of @mm for [start, end).

    Without per-VMA locks a plain kmalloc()'ed :class:`Vma`.  6.12: a
    LockedVma with its vm_lock, attached (``detached`` false) as
    vma_init() leaves it.  6.15+: from the SLAB_TYPESAFE_BY_RCU cache,
    detached (``vm_refcnt`` 0) until vma_mark_attached(); a reused VMA is
    re-initialised field by field (stale readers may be looking).
    """
    design = mm.design
    if not design.per_vma_locks:
        return kmalloc(Vma, vm_start=start, vm_end=end, vm_flags=flags, vm_mm=mm)
    init: dict[str, Any] = {"vm_mm": mm, "vm_start": start, "vm_end": end,
                            "vm_flags": flags, "vm_lock_seq": UINT_MAX,
                            "vm_pte": 0, "vm_cow": 0, "anon_vma": None}
    if design is Design.VMA_REFCNT:
        cache = kmem_cache_create("vm_area_struct", LockedVma, typesafe_by_rcu=True)
        if cache.free and cache.free[-1]._v[_MM] is not mm:
            current().count("vma_reuse_across_mm")
        vma = kmem_cache_alloc(cache, **init)
        if not vma._w & PUBLISHED:
            vma.vm_refcnt = 0
    else:
        vma = kmalloc(LockedVma, detached=False, **init)
        vma.vm_lock = RwSemaphore(f"vma@{vma.addr:x}.vm_lock")
    lock = vma_lock(vma)
    if lock is None:
        vma._lock = VmaLock(vma, mm.vma_asserts)
    else:
        lock.asserts = mm.vma_asserts
    return vma


def vm_area_free(vma: Vma) -> None:
    """vm_area_free() of a VMA with per-VMA locks: through call_rcu() (6.12),
    at once into the typesafe cache (6.15+)."""
    lock = vma_lock(vma)
    if lock is None:
        kfree(vma)
        return
    mm = vma._v[_MM]
    if mm.design is Design.VMA_REFCNT:
        lock.freed(current())  # vma_assert_detached(): no reader can hold it
        cache = kmem_cache_create("vm_area_struct", LockedVma, typesafe_by_rcu=True)
        assert isinstance(vma, LockedVma)
        kmem_cache_free(cache, vma)
    else:  # a stale reader may still lock it briefly; the callback checks
        call_rcu(vma, vm_area_free_rcu_cb)


def vm_area_free_rcu_cb(vma: Vma) -> None:
    """vm_area_free_rcu_cb(): the grace period is over; the VMA must not be
    locked (``VM_BUG_ON_VMA(rwsem_is_locked(...))``), then __vm_area_free()."""
    lock = vma_lock(vma)
    if lock is not None:
        lock.freed(current())
    current().heap.free(vma)


def __vm_area_free(vma: Vma) -> None:
    """__vm_area_free(): free now (exit_mmap()'s unreachable VMAs)."""
    lock = vma_lock(vma)
    if lock is not None and vma._v[_MM].design is Design.VMA_REFCNT:
        vm_area_free(vma)
        return
    if lock is not None:
        lock.freed(current())
    kfree(vma)
