"""The page fault and /proc/PID/maps with per-VMA locks.

* :func:`do_user_addr_fault` -- arch/x86/mm/fault.c:do_user_addr_fault()
  of a user fault: ``lock_vma_under_rcu()``; on success the access check
  (``access_error()``: a write needs VM_WRITE, any access one of
  VM_READ/VM_WRITE/VM_EXEC; a bad access is handled and released,
  ``bad_area_access_error()``), then ``handle_mm_fault()`` with
  ``FAULT_FLAG_VMA_LOCK``; ``vma_end_read()`` unless the fault returned
  ``VM_FAULT_RETRY`` (it released the lock itself); ``VMA_LOCK_SUCCESS``
  or ``VMA_LOCK_RETRY``.  Then, when the VMA lock did not do it, the
  mmap_lock path: ``lock_mm_and_find_vma()`` (which expands a stack below
  the address under the write lock), the access check,
  ``handle_mm_fault()``, ``mmap_read_unlock()``; no VMA is ``SIGSEGV``.
* :func:`handle_mm_fault` -- the "fault work" of mm/memory.c for an
  anonymous page: the VMA is *used* (its bounds, flags and mm read, the
  checker's use rule: held, attached, of this mm, covering the address);
  a write fault on a VMA without an anon_vma runs ``vmf_anon_prepare()``,
  which under the VMA lock must get the mmap_lock with
  ``mmap_read_trylock()`` or return ``VM_FAULT_RETRY`` after
  ``vma_end_read()`` (``__anon_vma_prepare()`` sets ``vma->anon_vma``
  under ``mm->page_table_lock``); then the PTE is installed under the page
  table lock (``vm_pte`` counts the pages; a read of ``vm_cow`` stands for
  do_wp_page()'s look at the write-protected PTE), and the VMA is used
  again (the fault relied on it throughout).
* :func:`show_maps` -- one ``cat /proc/PID/maps``: read() calls of
  ``chunk`` VMAs each (a seq_file page), ``m_start()`` / ``m_next()`` /
  ``m_stop()`` of fs/proc/task_mmu.c.  ``vma_refcnt`` (6.17):
  ``lock_vma_range()`` takes rcu_read_lock(), ``get_next_vma()``
  drops the previous VMA's lock and ``lock_next_vma()`` locks the next;
  ``modern`` (6.12): each read() under ``mmap_read_lock()``.  Either way
  the reader resumes each read() at the end of the last VMA shown, with the
  address space changed meanwhile, so the whole read is checked as
  ``iterate-locked``: no holes, each VMA ending past the previous one, a
  VMA that grew back over what was shown may show again (the kernel
  selftest's rule: duplicates allowed, holes never).

Spans: ``fault`` per fault (steps; ``misses`` -- VMA_LOCK_MISS retries,
``fallback`` -- took the mmap_lock path, ``vm_retry`` -- VM_FAULT_RETRY,
``sigsegv``) and ``fault.lock`` per lock_vma_under_rcu(); counters
``vma_lock_success``, ``vma_lock_abort``, ``vma_lock_miss``,
``vma_lock_retry`` (the kernel's VMA_LOCK_* vmstat events),
``fault_sigsegv``, ``stack_expanded``.

Not modelled: file-backed faults, swap, THP, userfaultfd, page cache,
signals (``fault_signal_pending()``), the fault-around of ``map_pages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple import ULONG_MAX, MaState, mas_find
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock, spin_lock, spin_unlock
from rcu_harness.runtime.current import current
from rcu_harness.runtime.records import ReadKind
from rcu_harness.scenarios.design import Design
from rcu_harness.scenarios.layouts import VM_EXEC, VM_READ, VM_WRITE
from rcu_harness.scenarios.vma import (
    LockedVma,
    mmap_read_lock,
    mmap_read_trylock,
    mmap_read_unlock,
    vma_lock,
)
from rcu_harness.scenarios.vma_read import (
    KERNEL,
    ReadBugs,
    lock_mm_and_find_vma,
    lock_next_vma,
    lock_vma_under_rcu,
    vma_end_read,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.mm import Mm
    from rcu_harness.scenarios.vma import Vma

VM_FAULT_RETRY = 0x400
VM_FAULT_SIGSEGV = 0x40
ANON_VMA = "anon_vma"
"""What ``vma->anon_vma`` points to once prepared (one anon_vma per VMA)."""


def access_error(write: bool, vma: Vma) -> bool:
    """arch/x86/mm/fault.c:access_error() for a user read or write."""
    flags = vma.vm_flags
    if write:
        return not flags & VM_WRITE
    return not flags & (VM_READ | VM_WRITE | VM_EXEC)


def _use(mm: Mm, vma: Vma, address: int | None) -> None:
    """The checker's use rule for @vma (per-VMA lock designs)."""
    lock = vma_lock(vma)
    if lock is not None:
        lock.use(current(), mm, address)


def handle_mm_fault(h: Harness, mm: Mm, vma: LockedVma, address: int, write: bool,
                    vma_locked: bool) -> int:
    """mm/memory.c:handle_mm_fault() of an anonymous page (see the module
    docstring); 0 or VM_FAULT_RETRY (the VMA lock then released)."""
    _use(mm, vma, address)
    if write and vma.anon_vma is None:  # vmf_anon_prepare()
        if vma_locked and not mmap_read_trylock(mm):
            vma_end_read(vma)
            return VM_FAULT_RETRY
        spin_lock(mm.page_table_lock)  # __anon_vma_prepare()
        if vma.anon_vma is None:
            vma.anon_vma = ANON_VMA
        spin_unlock(mm.page_table_lock)
        if vma_locked:
            mmap_read_unlock(mm)
    spin_lock(mm.page_table_lock)  # pte_offset_map_lock()
    if write and vma.vm_cow:  # do_wp_page() of a COW-shared page
        h.count("fault_cow")
    vma.vm_pte = vma.vm_pte + 1  # set_pte_at()
    spin_unlock(mm.page_table_lock)
    _use(mm, vma, address)
    return 0


def do_user_addr_fault(h: Harness, mm: Mm, address: int, write: bool,
                       expand: Callable[[Mm, Vma, int], bool],
                       bugs: ReadBugs = KERNEL) -> None:
    """arch/x86/mm/fault.c:do_user_addr_fault() of a user fault at @address."""
    with h.span("fault") as sp:
        if _fault_vma_locked(h, mm, address, write, bugs, sp.add):
            return
        sp.add("fallback")
        vma = lock_mm_and_find_vma(h, mm, address, expand)
        if vma is None:  # bad_area_nosemaphore()
            h.count("fault_sigsegv")
            sp.add("sigsegv")
            return
        if access_error(write, vma):  # bad_area_access_error()
            mmap_read_unlock(mm)
            h.count("fault_sigsegv")
            sp.add("sigsegv")
            return
        assert isinstance(vma, LockedVma)
        handle_mm_fault(h, mm, vma, address, write, vma_locked=False)
        mmap_read_unlock(mm)


def _fault_vma_locked(h: Harness, mm: Mm, address: int, write: bool,
                      bugs: ReadBugs, add: Callable[..., None]) -> bool:
    """The per-VMA lock part of do_user_addr_fault(); True when done."""
    before = h.counter("vma_lock_miss")
    vma = lock_vma_under_rcu(h, mm, address, bugs)
    add("misses", h.counter("vma_lock_miss") - before)
    if vma is None:
        return False
    if access_error(write, vma):  # bad_area_access_error(..., NULL, vma)
        vma_end_read(vma)
        h.count("vma_lock_success")
        h.count("fault_sigsegv")
        add("sigsegv")
        return True
    fault = handle_mm_fault(h, mm, vma, address, write, vma_locked=True)
    if not fault & VM_FAULT_RETRY:
        vma_end_read(vma)
        h.count("vma_lock_success")
        return True
    h.count("vma_lock_retry")
    add("vm_retry")
    return False


def show_maps(h: Harness, mm: Mm, chunk: int, *, gap_check: bool = True,
              fixed: bool = False) -> int:
    """One read of /proc/PID/maps to the end; returns the VMAs shown.
    @fixed: lock_next_vma() with the candidate fix maps-restart-at-last-addr."""
    mt = mm.mm_mt
    ex = current()
    with h.span("reader.maps"), h.reading(mt, ReadKind.ITERATE_LOCKED) as rd:

        def saw(index: int, last: int, entry: object) -> None:
            rd.saw_at(index, last, entry, ex.step, h.horizon())

        last = 0
        while True:  # one read() of the seq_file
            if mm.design is Design.VMA_REFCNT:
                last, done = _maps_chunk_locked(mm, chunk, last, saw, gap_check,
                                                fixed)
            else:
                last, done = _maps_chunk_mmap_lock(mm, chunk, last, saw)
            if done:
                break
    return len(rd.results)


def _show(mm: Mm, vma: Vma, saw: Callable[[int, int, object], None]) -> int:
    """show_map_vma(): print the VMA; returns its end."""
    _use(mm, vma, None)
    start, end = vma.vm_start, vma.vm_end
    _flags = vma.vm_flags
    saw(start, end - 1, vma)
    return int(end)


def _maps_chunk_locked(mm: Mm, chunk: int, last: int,
                       saw: Callable[[int, int, object], None],
                       gap_check: bool, fixed: bool) -> tuple[int, bool]:
    """m_start() .. m_stop() of 6.17 under per-VMA locks."""
    rcu_read_lock()  # lock_vma_range()
    mas = MaState(mm.mm_mt, last, last)  # vma_iter_init(&priv->iter, mm, last_addr)
    locked: LockedVma | None = None
    done = False
    for _ in range(chunk):
        if locked is not None:  # get_next_vma(): unlock_ctx_vma()
            vma_end_read(locked)
            locked = None
        vma = lock_next_vma(mm, mas, last, gap_check=gap_check, fixed=fixed)
        if vma is None:
            done = True
            break
        locked = vma
        last = _show(mm, vma, saw)
    if locked is not None:  # m_stop() -> unlock_vma_range()
        vma_end_read(locked)
    rcu_read_unlock()
    return last, done


def _maps_chunk_mmap_lock(mm: Mm, chunk: int, last: int,
                          saw: Callable[[int, int, object], None]) -> tuple[int, bool]:
    """m_start() .. m_stop() of 6.12: mmap_read_lock(), vma_next()."""
    mmap_read_lock(mm)
    mas = MaState(mm.mm_mt, last, last)
    done = False
    for _ in range(chunk):
        vma = mas_find(mas, ULONG_MAX)
        if vma is None:
            done = True
            break
        last = _show(mm, vma, saw)
    mmap_read_unlock(mm)
    return last, done
