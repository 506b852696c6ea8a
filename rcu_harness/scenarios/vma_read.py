"""The read side of per-VMA locks: the page fault's VMA lookup and the
/proc/PID/maps walk, exactly as the kernel does them.

* ``design=modern`` (Linux 6.12, include/linux/mm.h, mm/memory.c):
  ``vma_start_read()`` fails if ``vm_lock_seq`` equals the mm's
  ``mm_lock_seq``, takes ``vm_lock`` with ``down_read_trylock()``, and
  re-checks the sequence; ``vma_end_read()`` is ``up_read()`` inside
  rcu_read_lock().  ``lock_vma_under_rcu()`` walks under RCU, read-locks,
  retries when the VMA was ``detached`` meanwhile (``VMA_LOCK_MISS``; the
  retry walks ``mas.index`` again, the start of the range the first walk
  found, as 6.12 does), re-checks the address, and otherwise aborts
  (``VMA_LOCK_ABORT``).
* ``design=vma_refcnt`` (Linux 6.17, mm/mmap_lock.c; the vm_refcnt lock of
  6.15 with the fix 9bbffee67ffd that moved the ``vm_mm`` check into
  ``vma_start_read()``): ``vma_start_read(mm, vma)`` checks the sequence,
  takes a reference with ``__refcount_inc_not_zero_limited_acquire()``
  (failing on a detached VMA, 0: ``-EAGAIN``, or one a writer excludes
  readers from), then re-checks that the VMA -- possibly reused from the
  typesafe cache -- still belongs to @mm (else drops the reference) and the
  sequence; on failure it has dropped the RCU lock.  ``lock_vma_under_rcu()``
  retries from the fault address (``mas_set()``) on ``-EAGAIN`` and checks
  the bounds after rcu_read_unlock(), holding the reference.
  ``lock_next_vma()`` is the /proc/PID/maps iterator (6.17): it locks each
  VMA in turn, verifying with ``mmap_lock_speculate_try_begin()`` /
  ``_retry()`` that no VMA appeared in front of it, and falls back to the
  mmap_lock.
* Both: ``lock_mm_and_find_vma()`` (mm/memory.c), the fall-back under the
  mmap_lock, which takes it for write to expand a stack below the address
  and downgrades.

Each successful ``vma_start_read()`` tells the VMA's checker state who holds
it (for which mm and address); benign counters count the kernel's vmstat
events ``vma_lock_abort`` / ``vma_lock_miss`` (and the fault handler
``vma_lock_success`` / ``vma_lock_retry``).

Not modelled: ``vm_lock_seq`` overflow, ``mmap_read_lock_killable()``
failing, the uffd callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple import ULONG_MAX, MaState, mas_find, mas_set, mas_walk, mt_find
from rcu_harness.kernel import (
    rcu_read_lock,
    rcu_read_unlock,
    smp_rmb,
    up_read,
)
from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.simstruct import acquire_next, field_rmw
from rcu_harness.runtime.current import current
from rcu_harness.scenarios.design import Design
from rcu_harness.scenarios.layouts import VM_GROWSDOWN
from rcu_harness.scenarios.vma import (
    VMA_REF_LIMIT,
    LockedVma,
    Vma,
    mmap_read_lock,
    mmap_read_trylock,
    mmap_read_unlock,
    mmap_write_downgrade,
    mmap_write_lock,
    mmap_write_unlock,
    vma_lock,
    vma_refcount_put,
)
from rcu_harness.sync.rwsem import down_read_trylock

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.mm import Mm

EAGAIN = "EAGAIN"
"""vma_start_read()'s ERR_PTR(-EAGAIN): the VMA was detached under us."""


class ReadBugs:
    """Which re-checks a read-side mutant drops (all kept: the kernel)."""

    __slots__ = ("acquire", "detached", "mm", "seq")

    def __init__(self, *, seq: bool = True, detached: bool = True,
                 mm: bool = True, acquire: bool = True) -> None:
        self.seq = seq
        """vma_start_read()'s re-check of vm_lock_seq after taking the lock."""
        self.detached = detached
        """lock_vma_under_rcu()'s ``vma->detached`` check (6.12)."""
        self.mm = mm
        """vma_start_read()'s ``vma->vm_mm != mm`` check (6.17)."""
        self.acquire = acquire
        """The acquire of vma_start_read()'s reference (6.17:
        __refcount_inc_not_zero_limited_acquire(); without it a relaxed
        refcount_inc_not_zero(), a barrier mutant only lkmm can find)."""


KERNEL = ReadBugs()


def vma_start_read(mm: Mm, vma: LockedVma, address: int,
                   bugs: ReadBugs = KERNEL) -> LockedVma | str | None:
    """vma_start_read() of @mm's design: the VMA read-locked, None, or
    EAGAIN (6.17 only; it has then left the RCU section, as the kernel's
    does on every failure).  @address is for the checker's record."""
    if mm.design is Design.VMA_REFCNT:
        out = _start_read_refcnt(mm, vma, bugs)
    else:
        out = vma if _start_read_rwsem(vma, bugs) else None
    if isinstance(out, LockedVma):
        lock = vma_lock(out)
        if lock is not None:
            lock.read_locked(current(), mm, address)
    return out


def _start_read_rwsem(vma: LockedVma, bugs: ReadBugs) -> bool:
    """include/linux/mm.h:vma_start_read() of 6.12."""
    vm_mm = vma.vm_mm
    if vma.vm_lock_seq == vm_mm.mm_lock_seq.sequence:
        return False
    if not down_read_trylock(vma.vm_lock):
        return False
    if bugs.seq:
        lock_seq = vma.vm_lock_seq
        acquire_next(vma)  # raw_read_seqcount(): smp_load_acquire()
        if lock_seq == vm_mm.mm_lock_seq.sequence:
            up_read(vma.vm_lock)
            return False
    return True


def _start_read_refcnt(mm: Mm, vma: LockedVma,
                       bugs: ReadBugs) -> LockedVma | str | None:
    """mm/mmap_lock.c:vma_start_read() of 6.17 (RCU held on entry, dropped
    on failure)."""
    if vma.vm_lock_seq == mm.mm_lock_seq.sequence:
        rcu_read_unlock()
        return None
    if bugs.acquire:
        order, name = RmwOrder.ACQUIRE, "__refcount_inc_not_zero_limited_acquire"
    else:
        order, name = RmwOrder.RELAXED, "refcount_inc_not_zero"
    old = field_rmw(vma, "vm_refcnt",
                    lambda c: c + 1 if c and c < VMA_REF_LIMIT else c,
                    order, conditional=True, primitive=name)
    if not old or old >= VMA_REF_LIMIT:
        rcu_read_unlock()
        return None if old else EAGAIN
    if vma.vm_mm is not mm:
        current().count("vma_reused_other_mm")  # a VMA the walk found, reused
    if bugs.mm and vma.vm_mm is not mm:
        # err_unstable: mmgrab(other_mm) around the put (mm_count is not
        # modelled: no mm_struct is ever freed), then err's rcu_read_unlock()
        vma_refcount_put(vma)
        rcu_read_unlock()
        return None
    if bugs.seq:
        lock_seq = vma.vm_lock_seq
        acquire_next(vma)  # raw_read_seqcount(): smp_load_acquire()
        if lock_seq == mm.mm_lock_seq.sequence:
            vma_refcount_put(vma)
            rcu_read_unlock()
            return None
    return vma


def vma_end_read(vma: Vma) -> None:
    """vma_end_read(): 6.12 up_read() inside rcu_read_lock() (keeping the
    VMA alive until up_read() is done); 6.15+ vma_refcount_put()."""
    assert isinstance(vma, LockedVma)
    lock = vma_lock(vma)
    if lock is not None:
        lock.read_unlocked(current())
    if vma.vm_mm.design is Design.VMA_REFCNT:
        vma_refcount_put(vma)
        return
    rcu_read_lock()
    up_read(vma.vm_lock)
    rcu_read_unlock()


def lock_vma_under_rcu(h: Harness, mm: Mm, address: int,
                       bugs: ReadBugs = KERNEL) -> LockedVma | None:
    """lock_vma_under_rcu() of @mm's design (see the module docstring); the
    span ``fault.lock`` counts its MISS retries."""
    with h.span("fault.lock") as sp:
        before = h.counter("vma_lock_miss")
        if mm.design is Design.VMA_REFCNT:
            vma = _lock_vma_refcnt(h, mm, address, bugs)
        else:
            vma = _lock_vma_rwsem(h, mm, address, bugs)
        sp.add("misses", h.counter("vma_lock_miss") - before)
    if vma is None:
        h.count("vma_lock_abort")
    return vma


def _lock_vma_rwsem(h: Harness, mm: Mm, address: int,
                    bugs: ReadBugs) -> LockedVma | None:
    """mm/memory.c:lock_vma_under_rcu() of 6.12."""
    mas = MaState(mm.mm_mt, address, address)
    rcu_read_lock()
    while True:  # retry:
        vma = mas_walk(mas)
        if not isinstance(vma, LockedVma) or \
                vma_start_read(mm, vma, address, bugs) is None:
            rcu_read_unlock()
            return None
        if bugs.detached and vma.detached:
            vma_end_read(vma)
            h.count("vma_lock_miss")
            continue
        if address < vma.vm_start or address >= vma.vm_end:
            vma_end_read(vma)
            rcu_read_unlock()
            return None
        rcu_read_unlock()
        return vma


def _lock_vma_refcnt(h: Harness, mm: Mm, address: int,
                     bugs: ReadBugs) -> LockedVma | None:
    """mm/mmap_lock.c:lock_vma_under_rcu() of 6.17."""
    mas = MaState(mm.mm_mt, address, address)
    while True:  # retry:
        rcu_read_lock()
        vma = mas_walk(mas)
        if not isinstance(vma, LockedVma):
            rcu_read_unlock()
            return None
        got = vma_start_read(mm, vma, address, bugs)
        if got is EAGAIN:
            h.count("vma_lock_miss")
            mas_set(mas, address)
            continue
        if not isinstance(got, LockedVma):
            return None
        rcu_read_unlock()
        if address < got.vm_start or address >= got.vm_end:
            vma_end_read(got)
            return None
        return got


def find_vma(mm: Mm, addr: int) -> Vma | None:
    """find_vma(): the first VMA ending above @addr (mt_find(), which takes
    RCU for its walk; the caller holds the mmap_lock)."""
    vma, _index = mt_find(mm.mm_mt, addr, ULONG_MAX)
    return vma if isinstance(vma, Vma) else None


def lock_mm_and_find_vma(h: Harness, mm: Mm, addr: int,
                         expand: Callable[[Mm, Vma, int], bool]) -> Vma | None:
    """mm/memory.c:lock_mm_and_find_vma(): the VMA at @addr with the mmap_lock
    held for read, expanding a VM_GROWSDOWN VMA above @addr with
    ``expand_stack_locked()`` (@expand, True on failure) under the write
    lock, then downgrading.  None (no lock held) when there is no VMA."""
    if not mmap_read_trylock(mm):  # get_mmap_lock_carefully()
        mmap_read_lock(mm)
    vma = find_vma(mm, addr)
    if vma is not None and vma.vm_start <= addr:
        return vma
    if vma is None or not vma.vm_flags & VM_GROWSDOWN:
        mmap_read_unlock(mm)
        return None
    mmap_read_unlock(mm)  # upgrade_mmap_lock_carefully()
    mmap_write_lock(mm)
    vma = find_vma(mm, addr)
    if vma is None:
        mmap_write_unlock(mm)
        return None
    if vma.vm_start > addr:
        if not vma.vm_flags & VM_GROWSDOWN or expand(mm, vma, addr):
            mmap_write_unlock(mm)
            return None
        h.count("stack_expanded")
    mmap_write_downgrade(mm)
    return vma


def mmap_lock_speculate_try_begin(mm: Mm) -> tuple[bool, int]:
    """mmap_lock_speculate_try_begin(): (no writer now, the sequence),
    read by raw_read_seqcount() (an acquire)."""
    acquire_next(mm.mm_lock_seq)
    seq = mm.mm_lock_seq.sequence
    return seq % 2 == 0, seq


def mmap_lock_speculate_retry(mm: Mm, seq: int) -> bool:
    """mmap_lock_speculate_retry(): did a writer run since @seq?
    (read_seqcount_retry(): smp_rmb(), then the sequence)"""
    smp_rmb()
    return bool(mm.mm_lock_seq.sequence != seq)


def lock_next_vma(mm: Mm, mas: MaState, from_addr: int, *,
                  gap_check: bool = True, fixed: bool = False) -> LockedVma | None:
    """mm/mmap_lock.c:lock_next_vma() (6.17): the next VMA after @from_addr,
    read-locked; the caller holds rcu_read_lock() and still does.
    ``gap_check=False`` is the mutant without the speculation check that no
    VMA was installed in front of the one found.

    ``fixed`` is the candidate fix ``maps-restart-at-last-addr`` (the known
    finding ``proc-maps-stale-iterator``): the iterator restarts at
    @from_addr inside the speculation window, and a NULL from vma_next() is
    verified like a VMA ahead of @from_addr.  The kernel continues from the
    iterator the previous call left, which a writer may have changed after
    the previous VMA's vma_end_read() and before this call's
    mmap_lock_speculate_try_begin(): mas_find() then resumes after the
    previous VMA's old end (its rewalk target) and skips what grew over it,
    and the speculation, begun after the change, sees nothing."""
    while True:  # retry:
        unlocked, wr_seq = mmap_lock_speculate_try_begin(mm)
        if fixed:
            mas_set(mas, from_addr)
        vma = mas_find(mas, ULONG_MAX)  # vma_next()
        if vma is None:
            if fixed and (not unlocked or mmap_lock_speculate_retry(mm, wr_seq)):
                rcu_read_unlock()
                return _next_under_mmap_lock(mm, mas, from_addr)
            return None
        got = vma_start_read(mm, vma, max(from_addr, 0))
        if got is EAGAIN:
            rcu_read_lock()
            mas_set(mas, from_addr)
            continue
        if not isinstance(got, LockedVma):
            return _next_under_mmap_lock(mm, mas, from_addr)
        if from_addr >= got.vm_end:
            return _fallback_unlock(mm, mas, from_addr, got)
        if gap_check and from_addr < got.vm_start and (
                not unlocked or mmap_lock_speculate_retry(mm, wr_seq)):
            mas_set(mas, from_addr)
            if mas_find(mas, ULONG_MAX) is not got:
                return _fallback_unlock(mm, mas, from_addr, got)
        return got


def _fallback_unlock(mm: Mm, mas: MaState, from_addr: int,
                     vma: LockedVma) -> LockedVma | None:
    """lock_next_vma()'s fallback_unlock: drop RCU and the VMA, then lock
    under the mmap_lock."""
    rcu_read_unlock()
    vma_end_read(vma)
    return _next_under_mmap_lock(mm, mas, from_addr)


def _next_under_mmap_lock(mm: Mm, mas: MaState, from_addr: int) -> LockedVma | None:
    """lock_next_vma()'s fallback: lock_next_vma_under_mmap_lock(), then
    rcu_read_lock() and the iterator reset past the VMA."""
    mmap_read_lock(mm)
    mas_set(mas, from_addr)
    vma = mas_find(mas, ULONG_MAX)
    if isinstance(vma, LockedVma):
        field_rmw(vma, "vm_refcnt", lambda c: c + 1,  # vma_start_read_locked()
                  RmwOrder.ACQUIRE,
                  primitive="__refcount_inc_not_zero_limited_acquire")
        lock = vma_lock(vma)
        if lock is not None:
            lock.read_locked(current(), mm, from_addr)
    mmap_read_unlock(mm)
    rcu_read_lock()
    mas_set(mas, vma.vm_end if isinstance(vma, LockedVma) else from_addr)
    return vma if isinstance(vma, LockedVma) else None
