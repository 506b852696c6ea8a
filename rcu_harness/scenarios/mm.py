"""A minimal mm_struct: VMAs in a maple tree, mm_users, mmap_lock, tear-down.

Models the parts of include/linux/sched/mm.h, kernel/fork.c and mm/mmap.c
that the scenarios exercise, in one of two designs:

* ``2021`` -- the patch "kernel/fork: Use maple tree for dup_mmap() during
  forking" (v2): ``mmget()``/``mmget_not_zero()`` call ``mt_set_in_rcu()``
  before taking the reference, ``__mmput()`` starts with
  ``mt_clear_in_rcu()``; the tree starts outside RCU mode.
* ``2023`` -- Linux 6.1 to 6.4: the tree has ``MT_FLAGS_LOCK_EXTERN`` with
  mmap_lock as its external lock and (from 6.3, and 6.1.y stable) is in RCU
  mode from creation (``rcu=false`` models 6.1/6.2, never in RCU mode); most
  writers hold mmap_lock for write, but stack expansion
  (``expand_downwards()``/``expand_upwards()``) writes the tree holding
  mmap_lock only for *read*, serialised with other expansions by
  ``mm->page_table_lock`` (:class:`ExpandLock`).  Linux 6.5 moved stack
  expansion under the write lock (the StackRot fix, CVE-2023-3269).
* ``modern`` -- Linux 6.5+ (as of 6.12): the tree is created in RCU mode
  and stays there; only ``dup_mmap()`` (while filling the new tree) and
  ``exit_mmap()`` (under the write lock) take it out; every writer holds
  mmap_lock for write and write-locks each VMA it changes (per-VMA locks,
  :mod:`.vma`), so that the page fault can lock one VMA instead
  (:mod:`.vma_read`).
* ``vma_refcnt`` -- Linux 6.15+ (as of 6.17): as modern, with the per-VMA
  lock as ``vm_refcnt`` and VMAs from a SLAB_TYPESAFE_BY_RCU cache, reused
  at once, even by another mm.

Writers are serialised by the tree's spinlock in the 2021 design, and by
mmap_lock held for write in the modern one, where the tree is created with
``MT_FLAGS_LOCK_EXTERN`` and mmap_lock as its external lock (as Linux has
done since 6.1).  A thread holding the external lock for read may walk the
tree without rcu_read_lock(): that is the kernel's ``mt_locked()``
(``lock_is_held()``, either mode).  VMAs are instrumented structs, so a
reader that touches a freed VMA is caught like one that touches a freed
node.

Not modelled: page tables, anon_vma chains, files, accounting (only the
calls that may sleep or fail are kept), the oom reaper, and mm_count (the
mm_struct itself is never freed; its tree and VMAs are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    mtree_store_range,
)
from maple.api import __mt_destroy
from maple.tree import mtree_lock, mtree_unlock
from rcu_harness.kernel import (
    Atomic,
    RwSemaphore,
    atomic_dec_and_test,
    atomic_inc,
    atomic_inc_not_zero,
    kfree,
    kfree_rcu,
    kmalloc,
)
from rcu_harness.runtime import snapshot
from rcu_harness.scenarios import populate_cache
from rcu_harness.scenarios.design import Design
from rcu_harness.scenarios.layouts import (
    LAYOUT_CHOICES,
    PAGE,
    VM_ACCOUNT,
    VM_DONTCOPY,
    Layout,
)
from rcu_harness.scenarios.spec import Param
from rcu_harness.scenarios.vma import (
    LockedVma,
    Vma,
    __vm_area_free,
    mm_lock_init,
    mmap_write_lock,
    mmap_write_unlock,
    vm_area_alloc,
    vm_area_free,
    vma_mark_attached,
    vma_mark_detached,
    vma_start_write,
)
from rcu_harness.sync.spinlock import SpinLock

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

__all__ = ["PAGE", "VM_ACCOUNT", "VM_DONTCOPY", "Design", "Layout", "Vma"]


DESIGN_PARAM = Param("design", Design.D2021.value,
                     "RCU-mode and locking protocol: the 2021 patch, Linux 6.1-6.4 "
                     "(2023: stack expansion under the mmap read lock), 6.5+ with "
                     "per-VMA locks as of 6.12 (modern) or 6.15+ with vm_refcnt "
                     "and SLAB_TYPESAFE_BY_RCU VMAs (vma_refcnt)",
                     choices=tuple(d.value for d in Design))
"""The ``design`` parameter every scenario takes."""

LAYOUT_PARAM = Param("layout", Layout.X86_64.value,
                     "address-space layout: x86_64 (47-bit process), la57 (57-bit), "
                     "dense (one-page gaps) or low (below 4 GiB)",
                     choices=LAYOUT_CHOICES)
"""The ``layout`` parameter of the scenarios that lay out VMAs."""


class ExpandLock:
    """What serialised the 2023 mm tree's writers: mmap_lock held for write,
    or held for read together with ``mm->page_table_lock``.

    Linux 6.1-6.4's ``expand_downwards()``/``expand_upwards()`` stored into
    the tree under the mmap read lock and ``page_table_lock`` ("we reuse
    mm->page_table_lock to guard against concurrent vma expansions").  The
    tree's external lock is mmap_lock; this object is what the writer-lock
    checker, the RCU-mode checker and lockdep-RCU see as that lock: its
    ``owner`` is the thread allowed to write, its ``readers`` the threads
    allowed to walk without RCU (``mt_locked()``: any hold of mmap_lock).
    """

    __slots__ = ("mmap_lock", "name", "page_table_lock")

    def __init__(self, mmap_lock: RwSemaphore, page_table_lock: SpinLock) -> None:
        self.mmap_lock = mmap_lock
        self.page_table_lock = page_table_lock
        self.name = f"{mmap_lock.name} (or read + {page_table_lock.name})"

    @property
    def owner(self) -> object:
        """The thread that may write the tree now, if any."""
        writer = self.mmap_lock.writer
        if writer is not None:
            return writer
        holder = self.page_table_lock.owner
        return holder if holder in self.mmap_lock.readers else None

    @property
    def readers(self) -> list[object]:
        """Threads holding mmap_lock for read."""
        return self.mmap_lock.readers  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<lock {self.name}>"


@dataclass(eq=False)
class Mm:
    """struct mm_struct: what the scenarios need of it."""

    name: str
    mm_mt: MapleTree
    mm_users: Atomic
    mmap_lock: RwSemaphore
    design: Design
    page_table_lock: SpinLock
    map_count: int = 0
    mm_lock_seq: Any = None
    """The SeqCount ``mm_lock_seq`` (per-VMA lock designs only)."""
    vma_writer_wait: Any = None
    """The Rcuwait ``vma_writer_wait`` (per-VMA lock designs only)."""
    vma_asserts: bool = True
    """The checker's vma_assert_write_locked() rule on every store to this
    mm's VMAs (off: only the reader-side rules)."""

    def __hash__(self) -> int:
        return id(self)


def mm_alloc(h: Harness, name: str, design: Design, *, rcu: bool = True) -> Mm:
    """mm_init(): an mm with one user and an empty tree (MM_MT_FLAGS).

    @rcu (2023 only): MT_FLAGS_USE_RCU from creation (6.3+, 6.1.y stable) or
    never (6.1, 6.2).
    """
    mmap_lock = RwSemaphore(f"{name}.mmap_lock")
    page_table_lock = SpinLock(f"{name}.page_table_lock")
    flags = MT_FLAGS_ALLOC_RANGE
    if design is not Design.D2021:
        flags |= MT_FLAGS_LOCK_EXTERN
        if design.per_vma_locks or rcu:
            flags |= MT_FLAGS_USE_RCU
    mt = MapleTree(flags, port=h.port, name=f"{name}.mm_mt")
    if design.per_vma_locks:
        h.port.set_external_lock(mt, mmap_lock)
    elif design is Design.D2023:
        h.port.set_external_lock(mt, ExpandLock(mmap_lock, page_table_lock))
    mm = Mm(name, mt, Atomic(1, f"{name}.mm_users"), mmap_lock, design,
            page_table_lock)
    if design.per_vma_locks:
        mm_lock_init(mm)
    return mm


def tree_lock(mm: Mm) -> None:
    """Take the tree's writer lock (2021); the 2023 and modern trees' is
    mmap_lock, which the caller already holds for write."""
    if mm.design is Design.D2021:
        mtree_lock(mm.mm_mt)


def tree_unlock(mm: Mm) -> None:
    """Release what tree_lock() took."""
    if mm.design is Design.D2021:
        mtree_unlock(mm.mm_mt)


def vma_alloc(start: int, end: int, flags: int = 0, mm: object = None) -> Vma:
    """vm_area_alloc(): a private VMA of @mm for [start, end) (of the mm's
    design, :func:`~.vma.vm_area_alloc`, when @mm is given)."""
    if isinstance(mm, Mm):
        return vm_area_alloc(mm, start, end, flags)
    return kmalloc(Vma, vm_start=start, vm_end=end, vm_flags=flags, vm_mm=mm)


def populate(h: Harness, mm: Mm, layout: list[tuple[int, int, int]]) -> list[Vma]:
    """Build @mm's VMAs and tree before the threads start (unobserved).

    The same in every execution of a program, so, where the program keeps
    setup snapshots (``h.setup_cache``), built by the model once per
    program and state before it, then replayed (:mod:`.populate_cache`).
    """
    cache = h.setup_cache if snapshot.ENABLED else None
    key = None if cache is None else populate_cache.populate_key(h, mm, layout)
    if cache is None or key is None:
        vmas = _populate(h, mm, layout)
    else:
        vmas = populate_cache.replay_or_build(cache, key, h, mm, layout, _populate)
    h.initial_contents(mm.mm_mt, [(v_start, v_end - 1, vma) for (v_start, v_end, _),
                                  vma in zip(layout, vmas, strict=True)])
    return vmas


def _populate(h: Harness, mm: Mm, layout: list[tuple[int, int, int]]) -> list[Vma]:
    """The VMAs and the tree, through the model."""
    vmas = []
    with h.unobserved():
        for start, end, flags in layout:
            vma = vm_area_alloc(mm, start, end, flags)
            vma_mark_attached(vma)
            mtree_store_range(mm.mm_mt, start, end - 1, vma)
            vmas.append(vma)
    mm.map_count = len(vmas)
    return vmas


def vma_layout(n: int, *, seed: int, dontcopy_every: int = 0,
               layout: Layout | str = Layout.LOW) -> list[tuple[int, int, int]]:
    """@n VMAs as [start, end, flags] in @layout (see :mod:`.layouts`).

    Deterministic in @seed (a scenario parameter, not the strategy's seed):
    computed once per process and arguments
    (:func:`~.populate_cache.cached_layout`).
    """
    return populate_cache.cached_layout(n, seed, dontcopy_every, Layout(layout))


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


def vma_link(h: Harness, mm: Mm, vma: Vma, start: int, end: int, *,
             span: str = "writer.store") -> None:
    """Insert a new VMA: vma_start_write(), vma_mark_attached() and the tree
    store (``vma_iter_store_new()``; only the store without per-VMA locks)."""
    vma_start_write(vma)
    vma_mark_attached(vma)
    mm_store(h, mm, start, end - 1, vma, span=span)


def vma_unlink(h: Harness, mm: Mm, vmas: list[Vma], first: int, last: int, *,
               span: str = "writer.erase") -> None:
    """munmap() of @vmas over [first, last] (do_vmi_align_munmap()):
    vma_start_write() and vma_mark_detached() of each, one NULL store, then
    the frees (remove_vma())."""
    for vma in vmas:
        vma_start_write(vma)
        vma_mark_detached(vma)
    mm_store(h, mm, first, last, None, span=span)
    for vma in vmas:
        vma_free(mm, vma)


def vma_free(mm: Mm, vma: Vma) -> None:
    """remove_vma() -> vm_area_free(): through RCU while the tree is in RCU mode.

    The 2021 kernel freed a VMA at once, its lockless readers not yet
    dereferencing VMAs; the model's readers do (they check each VMA's
    bounds), so it frees as vm_area_free() has since per-VMA locks (6.4):
    after a grace period when lockless readers may exist.  With per-VMA
    locks, :func:`~.vma.vm_area_free` of that design.
    """
    if isinstance(vma, LockedVma):
        vm_area_free(vma)
    elif mt_in_rcu(mm.mm_mt):
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
        mmap_write_lock(mm)
        if mm.design is not Design.D2021:
            clear_in_rcu(h, mm)
        mt = mm.mm_mt
        tree_lock(mm)
        with h.writing(mt, 0, ULONG_MAX, None):
            if mt_in_rcu(mt):
                h.count("teardown_in_rcu_mode")
            __mt_destroy(mt)
        tree_unlock(mm)
        for vma in vmas:
            exit_vma(vma)
        vmas.clear()
        mm.map_count = 0
        mmap_write_unlock(mm)


def exit_vma(vma: Vma) -> None:
    """exit_mmap()'s remove_vma() of an unreachable VMA: kfree() at once
    (__vm_area_free()); 6.15+ marks it detached first, as a VMA must be
    detached when it goes back to the typesafe cache."""
    if isinstance(vma, LockedVma) and vma.vm_mm.design is Design.VMA_REFCNT:
        vma_start_write(vma)
        vma_mark_detached(vma)
    if isinstance(vma, LockedVma):
        __vm_area_free(vma)
    else:
        kfree(vma)
