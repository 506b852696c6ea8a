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
  the highest gap below the last VMA that fits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.scenarios.layouts import MMAP_TOP_47, PAGE, VM_WRITE
from rcu_harness.scenarios.mm import Mm, Vma, mm_store, vma_alloc, vma_free

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

Bounds = list[tuple[int, int, int]]


def mprotect_split(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds, i: int) -> bool:
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
    low = vma_alloc(start, a, flags, mm)  # __split_vma(vmi, vma, a, 1)
    vma.vm_start = a
    mm_store(h, mm, start, a - 1, low, span="writer.mprotect")
    high = vma_alloc(b, end, flags, mm)  # __split_vma(vmi, vma, b, 0)
    vma.vm_end = b
    mm_store(h, mm, b, end - 1, high, span="writer.mprotect")
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
        prev.vm_end = new_end  # vma_set_range(), then vma_iter_store()
        mm_store(h, mm, start, new_end - 1, prev, span="writer.merge")
        del vmas[j + 1:j + count]
        for vma in gone:  # vma_complete() -> remove_vma()
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
    mm_store(h, mm, first, last, None, span="writer.unmap_all")
    for vma in gone:
        vma_free(mm, vma)


def root_entry(h: Harness, mm: Mm, vmas: list[Vma], bounds: Bounds,
               i: int = 0) -> None:
    """Reduce the tree to one entry at index 0 (held in ma_root)."""
    unmap_all(h, mm, vmas, bounds)
    vma = vma_alloc(0, 1, 0, mm)
    mm_store(h, mm, 0, 0, vma, span="writer.root_entry")
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
    mm_store(h, mm, at, at + size - 1, vma, span="writer.mmap")
    vmas.insert(place, vma)
