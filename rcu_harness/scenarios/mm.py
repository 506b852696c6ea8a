"""A minimal mm_struct: VMAs in a maple tree, mm_users, mmap_lock, tear-down.

Models the parts of include/linux/sched/mm.h, kernel/fork.c and mm/mmap.c
that the scenarios exercise, in one of two designs:

* ``2021`` -- the patch "kernel/fork: Use maple tree for dup_mmap() during
  forking" (v2): ``mmget()``/``mmget_not_zero()`` call ``mt_set_in_rcu()``
  before taking the reference, ``__mmput()`` starts with
  ``mt_clear_in_rcu()``; the tree starts outside RCU mode.
* ``modern`` -- Linux 6.x: the tree is created in RCU mode and stays there;
  only ``dup_mmap()`` (while filling the new tree) and ``exit_mmap()`` (under
  the write lock) take it out.

Writers are serialised by the tree's spinlock in the 2021 design, and by
mmap_lock held for write in the modern one, where the tree is created with
``MT_FLAGS_LOCK_EXTERN`` and mmap_lock as its external lock (as Linux has
done since 6.1).  VMAs are instrumented structs, so a reader that touches a
freed VMA is caught like one that touches a freed node.

Not modelled: page tables, anon_vma chains, files, accounting (only the
calls that may sleep or fail are kept), the oom reaper, and mm_count (the
mm_struct itself is never freed; its tree and VMAs are).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_LOCK_EXTERN,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_store_gfp,
    mt_clear_in_rcu,
    mt_in_rcu,
    mt_set_in_rcu,
)
from maple.api import __mt_destroy
from maple.tree import mtree_lock, mtree_unlock
from rcu_harness.kernel import (
    Atomic,
    RwSemaphore,
    SimStruct,
    atomic_dec_and_test,
    atomic_inc,
    atomic_inc_not_zero,
    down_write,
    kfree,
    kfree_rcu,
    kmalloc,
    up_write,
)
from rcu_harness.scenarios.registry import Param

if TYPE_CHECKING:
    from rcu_harness.runtime.harness import Harness

VM_DONTCOPY = 0x00020000
VM_ACCOUNT = 0x00100000
PAGE = 0x1000


class Design(Enum):
    """Which kernel's RCU-mode protocol the mm follows."""

    D2021 = "2021"
    MODERN = "modern"


DESIGN_PARAM = Param("design", Design.D2021.value,
                     "RCU-mode protocol: the 2021 patch or modern Linux",
                     choices=tuple(d.value for d in Design))
"""The ``design`` parameter every scenario takes."""


class Vma(SimStruct):
    """struct vm_area_struct: [vm_start, vm_end) and flags."""

    fields = ("vm_start", "vm_end", "vm_flags")
    vm_start: int
    vm_end: int
    vm_flags: int


@dataclass(eq=False)
class Mm:
    """struct mm_struct: what the scenarios need of it."""

    name: str
    mm_mt: MapleTree
    mm_users: Atomic
    mmap_lock: RwSemaphore
    design: Design
    map_count: int = 0

    def __hash__(self) -> int:
        return id(self)


def mm_alloc(h: Harness, name: str, design: Design) -> Mm:
    """mm_init(): an mm with one user and an empty tree."""
    mmap_lock = RwSemaphore(f"{name}.mmap_lock")
    flags = MT_FLAGS_ALLOC_RANGE
    if design is Design.MODERN:
        flags |= MT_FLAGS_USE_RCU | MT_FLAGS_LOCK_EXTERN
    mt = MapleTree(flags, port=h.port, name=f"{name}.mm_mt")
    if design is Design.MODERN:
        h.port.set_external_lock(mt, mmap_lock)
    return Mm(name, mt, Atomic(1, f"{name}.mm_users"), mmap_lock, design)


def tree_lock(mm: Mm) -> None:
    """Take the tree's writer lock (2021); the modern tree's is mmap_lock,
    which the caller already holds for write."""
    if mm.design is Design.D2021:
        mtree_lock(mm.mm_mt)


def tree_unlock(mm: Mm) -> None:
    """Release what tree_lock() took."""
    if mm.design is Design.D2021:
        mtree_unlock(mm.mm_mt)


def vma_alloc(start: int, end: int, flags: int = 0) -> Vma:
    """vm_area_alloc(): a private VMA for [start, end)."""
    return kmalloc(Vma, vm_start=start, vm_end=end, vm_flags=flags)


def populate(h: Harness, mm: Mm, layout: list[tuple[int, int, int]]) -> list[Vma]:
    """Build @mm's VMAs and tree before the threads start (unobserved)."""
    from maple import mtree_store_range

    vmas = []
    with h.unobserved():
        for start, end, flags in layout:
            vma = vma_alloc(start, end, flags)
            mtree_store_range(mm.mm_mt, start, end - 1, vma)
            vmas.append(vma)
    mm.map_count = len(vmas)
    h.initial_contents(mm.mm_mt, [(v_start, v_end - 1, vma) for (v_start, v_end, _),
                                  vma in zip(layout, vmas, strict=True)])
    return vmas


def vma_layout(n: int, *, seed: int, dontcopy_every: int = 0,
               adjacent_every: int = 3) -> list[tuple[int, int, int]]:
    """@n VMAs as [start, end, flags]: some adjacent, gaps between others.

    Deterministic in @seed (a scenario parameter, not the strategy's seed).
    """
    import random

    rng = random.Random(seed)
    out, addr = [], 0x400000
    for i in range(n):
        size = rng.choice((1, 2, 3, 8, 16)) * PAGE
        flags = VM_ACCOUNT
        if dontcopy_every and i % dontcopy_every == dontcopy_every - 1:
            flags |= VM_DONTCOPY
        out.append((addr, addr + size, flags))
        addr += size
        if not adjacent_every or i % adjacent_every:
            addr += rng.choice((1, 4, 64)) * PAGE
    return out


def mm_store(h: Harness, mm: Mm, first: int, last: int, entry: object, *,
             span: str = "writer.store") -> None:
    """Store @entry over [first, last] of @mm's tree under the tree lock.

    The caller holds mmap_lock for write, as mmap()/munmap() do.  The write
    operation (recorded for the result checker, validated after) is the
    locked region: that is where the writer samples RCU mode.
    """
    mt = mm.mm_mt
    with h.span(span):
        tree_lock(mm)
        with h.writing(mt, first, last, entry):
            mas_store_gfp(MaState(mt, first, last), entry)
        tree_unlock(mm)


def vma_free(mm: Mm, vma: Vma) -> None:
    """remove_vma() -> vm_area_free(): through RCU while the tree is in RCU mode.

    The 2021 kernel freed a VMA at once, its lockless readers not yet
    dereferencing VMAs; the model's readers do (they check each VMA's
    bounds), so it frees as vm_area_free() has since per-VMA locks (6.4):
    after a grace period when lockless readers may exist.
    """
    if mt_in_rcu(mm.mm_mt):
        kfree_rcu(vma)
    else:
        kfree(vma)


# -- references and RCU mode (include/linux/sched/mm.h, kernel/fork.c) --------


def set_in_rcu(h: Harness, mm: Mm) -> None:
    """mt_set_in_rcu() on @mm's tree, timed as an RCU-mode transition."""
    with h.span("rcu_mode.set"):
        mt_set_in_rcu(mm.mm_mt)


def clear_in_rcu(h: Harness, mm: Mm) -> None:
    """mt_clear_in_rcu() on @mm's tree, timed as an RCU-mode transition."""
    with h.span("rcu_mode.clear"):
        mt_clear_in_rcu(mm.mm_mt)


def mmget(h: Harness, mm: Mm, *, set_rcu: bool = True) -> None:
    """mmget(): a new user of an mm that already has one (2021: RCU mode on)."""
    if mm.design is Design.D2021 and set_rcu:
        set_in_rcu(h, mm)
    atomic_inc(mm.mm_users)


def mmget_not_zero(h: Harness, mm: Mm, *, set_rcu: bool = True) -> bool:
    """mmget_not_zero(): take a reference unless the mm is being torn down.

    In the 2021 design RCU mode is set first; if the reference then cannot
    be taken, the dying mm's tree stays in RCU mode (the benign race).
    """
    if mm.design is Design.D2021 and set_rcu:
        set_in_rcu(h, mm)
    return atomic_inc_not_zero(mm.mm_users)


def mmput(h: Harness, mm: Mm, vmas: list[Vma], *,
          clear_rcu_always: bool = False) -> None:
    """mmput(): drop a reference; the last one tears the mm down."""
    if clear_rcu_always and mm.design is Design.D2021:
        clear_in_rcu(h, mm)  # the mutant: while others still hold it
    if atomic_dec_and_test(mm.mm_users):
        __mmput(h, mm, vmas)


def __mmput(h: Harness, mm: Mm, vmas: list[Vma]) -> None:
    """__mmput(): leave RCU mode (2021), then exit_mmap()."""
    if mm.design is Design.D2021:
        clear_in_rcu(h, mm)
    exit_mmap(h, mm, vmas)


def exit_mmap(h: Harness, mm: Mm, vmas: list[Vma]) -> None:
    """exit_mmap(): destroy the tree and free every VMA.

    A tree still in RCU mode here (the 2021 tear-down race) frees its nodes
    through RCU: they live one extra RCU cycle, which is counted, not failed.
    """
    with h.span("exit_mmap"):
        down_write(mm.mmap_lock)
        if mm.design is Design.MODERN:
            clear_in_rcu(h, mm)
        mt = mm.mm_mt
        tree_lock(mm)
        with h.writing(mt, 0, ULONG_MAX, None):
            if mt_in_rcu(mt):
                h.count("teardown_in_rcu_mode")
            __mt_destroy(mt)
        tree_unlock(mm)
        for vma in vmas:
            kfree(vma)
        vmas.clear()
        mm.map_count = 0
        up_write(mm.mmap_lock)
