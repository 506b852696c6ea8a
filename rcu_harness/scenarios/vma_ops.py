"""Address-space changes beyond map/unmap/split, as mm/vma.c makes them.

Each function is one owner operation; the caller holds mmap_lock for write
(every operation here is a write-locked one in every design).  VMAs whose
bounds change are edited *in place*, before the tree store, exactly where
the kernel does it, so a lockless reader can find a VMA in the tree whose
own bounds no longer cover the index it looked up (what
``lock_vma_under_rcu()`` re-checks):

* :func:`mprotect_split` -- ``mprotect()`` of the middle of a VMA: two
  ``__split_vma()`` calls (the original VMA shrinks in place, then the new
  part is stored), then ``vm_flags_reset()`` of the middle;
* :func:`merge` -- ``vma_merge_existing_range()``/``vma_expand()``: the first
  VMA grows over up to two adjacent ones in place, one store covers them,
  the removed VMAs are freed (``remove_vma()``);
* :func:`unmap_all` -- ``do_vmi_align_munmap()`` over everything: one NULL
  store over the whole mapped span, the tree becomes empty;
* :func:`root_entry` -- the tree reduced to one entry at index 0, which the
  maple tree keeps in ``ma_root`` itself (no node).  No real VMA is one byte
  long; this is the maple tree state a VMA tree reaches only through its
  API, kept because readers take a different path through it;
* :func:`topdown_mmap` -- ``mmap()`` placed as the top-down allocator does
  (``vm_unmapped_area()`` with ``VM_UNMAPPED_AREA_TOPDOWN``): at the top of
  the highest gap below the last VMA that fits;
* :func:`mremap_move` -- ``mremap(MREMAP_MAYMOVE)`` to a free range
  (``move_vma()``: ``copy_vma()`` links a new VMA, ``move_page_tables()``
  moves the pages, then the old range is unmapped);
* :func:`mremap_grow` -- ``mremap()`` growing a VMA in place into the gap
  after it (``vma_expand()``).

With per-VMA locks (``design=modern``, ``vma_refcnt``) every VMA changed is
write-locked first (``vma_start_write()``, as ``vma_prepare()``,
``mprotect_fixup()`` and ``move_vma()`` do), every VMA removed is marked
detached, and new VMAs are linked with ``vma_link()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.scenarios.layouts import MMAP_TOP_47, PAGE, VM_WRITE
from rcu_harness.scenarios.mm import (
    Mm,
    Vma,
    mm_store,
    vma_alloc,
    vma_free,
    vma_link,
    vma_unlink,
)
from rcu_harness.scenarios.vma import (
    LockedVma,
    vma_end_write_all,
    vma_mark_detached,
    vma_start_write,
)

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

Bounds = list[tuple[int, int, int]]


class WriterBugs:
    """Which per-VMA lock steps a writer mutant gets wrong (none: the kernel)."""

    __slots__ = ("early_seq_end", "start_write")

    def __init__(self, *, start_write: bool = True,
                 early_seq_end: bool = False) -> None:
        self.start_write = start_write
        """mprotect_fixup()'s vma_start_write() of the VMA it changes."""
        self.early_seq_end = early_seq_end
        """vma_end_write_all() (the mm_lock_seq bump) before the VMA edits and
        the tree update instead of at mmap_write_unlock()."""


KERNEL = WriterBugs()


def mprotect_split(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds, i: int,
                   bugs: WriterBugs = KERNEL) -> bool:
    """mprotect() of [start + PAGE, end - PAGE) of the first VMA at or after
    @i (wrapping) that has three pages or more: a three-way split."""
    n = len(vmas)
    big = [j for j in [*range(i, n), *range(0, i)]
           if bounds[j][1] - bounds[j][0] >= 3 * PAGE]
    if not big:
        return False
    i = big[0]
    start, end, flags = bounds[i]
    vma = vmas[i]
    a, b = start + PAGE, end - PAGE
    if bugs.start_write:
        vma_start_write(vma)  # mprotect_fixup() -> __split_vma()
    if bugs.early_seq_end:
        vma_end_write_all(mm)  # the mutant: mm_lock_seq bumped too early
    low = vma_alloc(start, a, flags, mm)  # __split_vma(vmi, vma, a, 1)
    vma.vm_start = a
    vma_link(h, mm, low, start, a, span="writer.mprotect")
    high = vma_alloc(b, end, flags, mm)  # __split_vma(vmi, vma, b, 0)
    vma.vm_end = b
    vma_link(h, mm, high, b, end, span="writer.mprotect")
    vma.vm_flags = flags ^ VM_WRITE  # vm_flags_reset()
    vmas[i:i + 1] = [low, vma, high]
    return True


def merge(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds, i: int) -> bool:
    """Merge the first run of adjacent VMAs at or after @i (up to three)."""
    n = len(vmas)
    for j in [*range(i, n - 1), *range(0, i)]:
        if bounds[j][1] != bounds[j + 1][0]:
            continue
        count = 3 if j + 2 < n and bounds[j + 1][1] == bounds[j + 2][0] else 2
        prev, gone = vmas[j], vmas[j + 1:j + count]
        start, new_end = bounds[j][0], bounds[j + count - 1][1]
        for vma in (prev, *gone):  # vma_prepare(): vma_start_write() each
            vma_start_write(vma)
        prev.vm_end = new_end  # vma_set_range(), then vma_iter_store()
        mm_store(h, mm, start, new_end - 1, prev, span="writer.merge")
        del vmas[j + 1:j + count]
        for vma in gone:  # vma_complete(): vma_mark_detached(), remove_vma()
            vma_mark_detached(vma)
            vma_free(mm, vma)
        return True
    return False


def unmap_all(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds,
              i: int = 0) -> None:
    """munmap() of everything mapped: one NULL store, then the frees."""
    if not vmas:
        return
    first, last = bounds[0][0], bounds[-1][1] - 1
    gone = list(vmas)
    vmas.clear()
    vma_unlink(h, mm, gone, first, last, span="writer.unmap_all")


def root_entry(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds,
               i: int = 0) -> None:
    """Reduce the tree to one entry at index 0 (held in ma_root)."""
    unmap_all(h, mm, vmas, bounds)
    vma = vma_alloc(0, 1, 0, mm)
    vma_link(h, mm, vma, 0, 1, span="writer.root_entry")
    vmas.append(vma)


def topdown_mmap(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds,
                 pages: int) -> None:
    """mmap() of @pages pages where the top-down allocator would put it."""
    size = pages * PAGE
    ceiling = bounds[-1][0] if bounds else MMAP_TOP_47
    place, at = len(vmas), ceiling - size
    for j in range(len(bounds) - 1, 0, -1):
        if bounds[j][0] - bounds[j - 1][1] >= size + PAGE:
            place, at = j, bounds[j][0] - size
            break
    if not bounds:
        place = 0
    elif place == len(vmas):  # no gap fits: below the lowest VMA
        place, at = 0, bounds[0][0] - size - PAGE
    if at <= 0:
        return
    vma = vma_alloc(at, at + size, 0, mm)
    vma_link(h, mm, vma, at, at + size, span="writer.mmap")
    vmas.insert(place, vma)


def mremap_move(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds, i: int) -> bool:
    """mremap(MREMAP_MAYMOVE) of VMA @i to the middle of the largest gap
    that fits it (move_vma(): vma_start_write() of the old VMA, copy_vma()
    links the new one, move_page_tables(), do_vmi_munmap() of the old)."""
    n = len(vmas)
    if n < 2:
        return False
    start, end, flags = bounds[i % n]
    size = end - start
    gaps = [(bounds[j + 1][0] - bounds[j][1], j) for j in range(n - 1)]
    room, j = max(gaps)
    if room < size + 2 * PAGE:
        return False
    old = vmas[i % n]
    vma_start_write(old)
    at = bounds[j][1] + (room - size) // 2 // PAGE * PAGE
    new = vma_alloc(at, at + size, flags, mm)  # copy_vma()
    vma_link(h, mm, new, at, at + size, span="writer.mremap")
    if isinstance(old, LockedVma):  # move_page_tables()
        assert isinstance(new, LockedVma)
        new.vm_pte = old.vm_pte
        old.vm_pte = 0
    vmas.insert(j + 1, new)
    vmas.remove(old)
    vma_unlink(h, mm, [old], start, end - 1, span="writer.mremap")
    return True


def mremap_grow(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds, i: int) -> bool:
    """mremap() growing the first VMA at or after @i (wrapping) with a gap of
    two pages or more after it by one page, in place (vma_expand())."""
    n = len(vmas)
    room = [j for j in [*range(i % max(n, 1), n), *range(0, i % max(n, 1))]
            if j + 1 < n and bounds[j + 1][0] - bounds[j][1] >= 2 * PAGE]
    if not room:
        return False
    j = room[0]
    start, end, _flags = bounds[j]
    vma = vmas[j]
    vma_start_write(vma)
    vma.vm_end = end + PAGE
    mm_store(h, mm, start, end + PAGE - 1, vma, span="writer.mremap")
    return True
