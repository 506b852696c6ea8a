"""Scenario ``dup_mmap``: fork copies an mm's VMA tree while readers walk.

Threads:

* ``fork`` runs kernel/fork.c's dup_mmap() of the 2021 patch (v2):
  ``mas_entry_count()``, then an RCU-locked ``mas_for_each()`` over the
  parent's tree that drops the RCU lock around ``anon_vma_fork()`` (which may
  sleep) and takes it again at the end of the body, without ``mas_pause()``
  (safe because the parent's mmap_lock is held for write); ``VM_DONTCOPY``
  VMAs are skipped; a fatal signal can jump to ``loop_out``; each copy is
  stored with ``mas_lock(); mas.index = start; mas.last = end - 1;
  mas_store(); mas_unlock()``; ``loop_out`` calls ``mas_destroy()`` under
  ``rcu_read_lock()``.  Then the child becomes visible and, later, exits:
  ``mmput()`` -> ``__mmput()`` -> ``mt_clear_in_rcu()`` -> ``exit_mmap()``.
  In the modern design dup_mmap() copies the tree shape with ``__mt_dup()``,
  clears RCU mode on the new tree while replacing each VMA, and sets it again
  on success.
* ``parent`` changes its own address space (an mmap and an munmap under its
  mmap_lock), then exits, dropping its reference.
* ``preader<k>`` and ``creader<k>`` are lockless readers of the parent's and
  the child's tree: ``mmget_not_zero()``, ``rcu_read_lock()`` +
  ``mas_for_each()`` checking every VMA, ``rcu_read_unlock()``, ``mmput()``.
  A child reader waits until fork has made the child visible, as the kernel
  only exposes a task once copy_process() is done (``child_visible_early``
  lifts that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple import (
    ULONG_MAX,
    MaState,
    __mt_dup,
    mas_destroy,
    mas_entry_count,
    mas_find,
    mas_lock,
    mas_store,
    mas_unlock,
    mt_clear_in_rcu,
    mt_set_in_rcu,
)
from rcu_harness.kernel import (
    might_sleep,
    rcu_read_lock,
    rcu_read_unlock,
    schedule,
    spin_until,
)
from rcu_harness.scenarios import readers
from rcu_harness.scenarios.mm import (
    DESIGN_PARAM,
    LAYOUT_PARAM,
    PAGE,
    VM_DONTCOPY,
    Design,
    Mm,
    Vma,
    mm_alloc,
    mmget_not_zero,
    mmput,
    populate,
    vma_alloc,
    vma_layout,
    vma_link,
    vma_unlink,
)
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.vma import (
    LockedVma,
    mmap_write_lock,
    mmap_write_unlock,
    vm_area_alloc,
    vma_mark_attached,
    vma_start_write,
)

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

class World:
    """The two mms of one execution and the VMAs each holds."""

    def __init__(self, h: Harness, cfg: Config) -> None:
        design = Design(cfg["design"])
        self.parent = mm_alloc(h, "parent", design)
        self.child = mm_alloc(h, "child", design)
        layout = vma_layout(cfg["vmas"], seed=cfg["layout_seed"],
                            dontcopy_every=cfg["dontcopy_every"], layout=cfg["layout"])
        self.parent_vmas = populate(h, self.parent, layout)
        self.child_vmas: list[Vma] = []
        self.child_visible = False
        h.initial_contents(self.child.mm_mt, [])


def anon_vma_fork(h: Harness, cfg: Config, index: int) -> bool:
    """anon_vma_fork(): may sleep; fails when asked to (allocation failure)."""
    might_sleep()
    schedule()
    return bool(index != cfg.values.get("anon_vma_fail_at", -1))


def dup_mmap_2021(h: Harness, cfg: Config, w: World) -> int:
    """dup_mmap() of the 2021 patch (v2); returns 0 or -errno."""
    mm, oldmm = w.child, w.parent
    old_mas = MaState(oldmm.mm_mt, 0, 0)
    mas = MaState(mm.mm_mt, 0, 0)
    retval = mas_entry_count(mas, oldmm.map_count)
    if retval:
        return retval
    sleepy = cfg.bug("rcu-lock-across-sleep")
    rcu_read_lock()
    index = 0
    while (mpnt := mas_find(old_mas, ULONG_MAX)) is not None:
        if not sleepy:
            rcu_read_unlock()
        if mpnt.vm_flags & VM_DONTCOPY:
            if not sleepy:
                rcu_read_lock()
            continue
        if index == cfg["fatal_signal_at"]:  # fatal_signal_pending(current)
            retval = -4  # -EINTR
            break
        tmp = vma_alloc(mpnt.vm_start, mpnt.vm_end, mpnt.vm_flags)
        if not anon_vma_fork(h, cfg, index):
            retval = -12  # -ENOMEM: fail_nomem_anon_vma_fork -> loop_out
            break
        # Link the vma into the MT
        with h.span("dup_mmap.store"):
            mas_lock(mas)
            with h.writing(mm.mm_mt, tmp.vm_start, tmp.vm_end - 1, tmp):
                mas.index = tmp.vm_start
                mas.last = tmp.vm_end - 1
                mas_store(mas, tmp)
            mas_unlock(mas)
        w.child_vmas.append(tmp)
        mm.map_count += 1
        index += 1
        if not sleepy:
            rcu_read_lock()
    else:
        rcu_read_unlock()
        retval = 0
    if sleepy and retval:
        rcu_read_unlock()
    # loop_out:
    if not cfg.bug("error-path-skips-destroy") or not retval:
        rcu_read_lock()
        mas_destroy(mas)
        rcu_read_unlock()
    return retval


def vm_area_dup(mm: Mm, orig: Vma) -> Vma:
    """vm_area_dup() for @mm, then copy_page_range(): the copy gets the
    parent's pages, and the parent's are write-protected for COW (its
    ``vm_cow`` pass count, a store into the parent VMA, which is why the
    parent's VMAs are write-locked: fb49c455323f, "fork: lock VMAs of the
    parent process when forking")."""
    new = vm_area_alloc(mm, orig.vm_start, orig.vm_end, orig.vm_flags)
    if isinstance(orig, LockedVma) and isinstance(new, LockedVma):
        pages = orig.vm_pte
        if pages or orig.anon_vma is not None:  # vma_needs_copy()
            new.vm_pte = pages
            orig.vm_cow = orig.vm_cow + 1
    return new


def dup_mmap_modern(h: Harness, cfg: Config, w: World) -> int:
    """dup_mmap() of Linux 6.8+ (as of 6.12): __mt_dup(), then, for each VMA
    write-locked (per-VMA locks), replace it by its copy."""
    mm, oldmm = w.child, w.parent
    mt = mm.mm_mt
    # Both trees' external lock, mmap_lock, is held for write by fork.
    with h.unobserved():  # what the copy will hold, for the result check
        held = [(vma.vm_start, vma.vm_end - 1, vma) for vma in w.parent_vmas]
    with h.copying(mt, held):  # readers of an early-visible child see it whole
        retval = __mt_dup(oldmm.mm_mt, mt)
    if retval:  # mas_dup_free() left the tree empty
        with h.writing(mt, 0, ULONG_MAX, None):
            pass
        return retval
    mt_clear_in_rcu(mt)
    mas = MaState(mt, 0, 0)
    index = 0
    lock_parent = not cfg.bug("dup-mmap-skips-parent-vma-lock")
    while (mpnt := mas_find(mas, ULONG_MAX)) is not None:  # for_each_vma()
        first, last = mas.index, mas.last
        if lock_parent:
            vma_start_write(mpnt)  # fb49c455323f: no fault on it during fork
        if mpnt.vm_flags & VM_DONTCOPY:
            entry = None
        elif index == (fatal := cfg.values.get("fatal_signal_at", -1)) or \
                not anon_vma_fork(h, cfg, index):
            retval = -4 if index == fatal else -12
            break
        else:
            entry = vm_area_dup(mm, mpnt)
            vma_start_write(entry)  # the child's, under its mmap_lock
            vma_mark_attached(entry)
            w.child_vmas.append(entry)
            index += 1
        with h.span("dup_mmap.store"), h.writing(mt, first, last, entry):
            mas.index, mas.last = first, last
            mas_store(mas, entry)
    mas_destroy(mas)
    if retval:
        # The real code marks the failure point and lets exit_mmap() stop
        # there; the model drops the parent's VMAs still in the copy.
        with h.writing(mt, mas.index, ULONG_MAX, None):
            mas.index, mas.last = mas.index, ULONG_MAX
            mas_store(mas, None)
        mas_destroy(mas)
    else:
        mt_set_in_rcu(mt)
    return retval


def fork_thread(h: Harness, cfg: Config, w: World) -> None:
    """copy_process() for the mm: lock both, dup_mmap(), publish, exit."""
    lock_parent = not cfg.bug("resume-without-pause")
    with h.span("dup_mmap"):
        if lock_parent:
            mmap_write_lock(w.parent)
        mmap_write_lock(w.child)
        if w.child.design is Design.D2021:
            retval = dup_mmap_2021(h, cfg, w)
        else:
            retval = dup_mmap_modern(h, cfg, w)
        mmap_write_unlock(w.child)
        if lock_parent:
            mmap_write_unlock(w.parent)
    h.sample("dup_mmap.retval", retval)
    w.child_visible = True
    mmput(h, w.child, w.child_vmas)  # the child exits


def parent_thread(h: Harness, cfg: Config, w: World) -> None:
    """The parent maps a new VMA and unmaps an old one, then exits."""
    mm = w.parent
    with h.unobserved():  # its own VMAs, under its mmap_lock: see do_op()
        top = w.parent_vmas[-1].vm_end if w.parent_vmas else 0x400000
    for op in range(cfg["parent_ops"]):
        mmap_write_lock(mm)
        if op % 2 == 0:  # mmap a fresh VMA past the end
            vma = vma_alloc(top + PAGE, top + 4 * PAGE,
                            mm=mm if mm.design.per_vma_locks else None)
            vma_link(h, mm, vma, top + PAGE, top + 4 * PAGE)
            top += 8 * PAGE
            w.parent_vmas.append(vma)
        elif len(w.parent_vmas) > 1:  # munmap the first VMA
            vma = w.parent_vmas.pop(0)
            with h.unobserved():
                start, end = vma.vm_start, vma.vm_end
            vma_unlink(h, mm, [vma], start, end - 1)
        mmap_write_unlock(mm)
    mmput(h, mm, w.parent_vmas)


def reader_thread(h: Harness, cfg: Config, w: World, child: bool) -> None:
    """A lockless reader of one mm: mmget_not_zero, iterate, mmput."""
    if child and not cfg["child_visible_early"]:
        spin_until(lambda: w.child_visible)
    mm = w.child if child else w.parent
    vmas = w.child_vmas if child else w.parent_vmas
    set_rcu = not cfg.bug("mmget-not-zero-no-rcu")
    if not mmget_not_zero(h, mm, set_rcu=set_rcu):
        h.count("mmget_not_zero_failed")
        return
    h.reader_enter(mm.mm_users)
    readers.iterate(h, mm, rcu=not cfg.bug("reader-without-rcu-lock"))
    h.reader_exit(mm.mm_users)
    mmput(h, mm, vmas)


def build(h: Harness, cfg: Config) -> None:
    """Set up both mms and spawn fork, parent and the readers."""
    w = World(h, cfg)
    h.spawn("fork", fork_thread, h, cfg, w, refs=(w.child.mm_users,))
    h.spawn("parent", parent_thread, h, cfg, w, refs=(w.parent.mm_users,))
    for k in range(cfg["parent_readers"]):
        h.spawn(f"preader{k}", reader_thread, h, cfg, w, False)
    for k in range(cfg["child_readers"]):
        h.spawn(f"creader{k}", reader_thread, h, cfg, w, True)


def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (measured: 16,300 at 100
    VMAs and one reader of each tree; 59,000 at 300; 46,000 with four each;
    BENCHMARKS.md, *Step bounds*)."""
    readers = cfg["parent_readers"] + cfg["child_readers"]
    return int((cfg["vmas"] + cfg["parent_ops"]) * (200 + 60 * readers))


SCENARIO = Scenario(
    "dup_mmap",
    "fork's dup_mmap() copies the parent's VMA tree while lockless readers "
    "walk the parent and, once visible, the child; the child then exits",
    (
        DESIGN_PARAM,
        LAYOUT_PARAM,
        Param("vmas", 20, "VMAs in the parent", 1, 2000),
        Param("layout_seed", 1, "seed of the VMA layout (sizes, gaps)", 0),
        Param("dontcopy_every", 5, "every k-th VMA is VM_DONTCOPY (0: none)", 0),
        Param("fatal_signal_at", -1, "copy index where a fatal signal ends the "
              "loop (-1: never)", -1),
        Param("anon_vma_fail_at", -1, "copy index where anon_vma_fork() fails "
              "(-1: never)", -1),
        Param("parent_ops", 2, "mmap/munmap operations by the parent", 0, 100),
        Param("parent_readers", 1, "lockless readers of the parent", 0, 16),
        Param("child_readers", 1, "lockless readers of the child", 0, 16),
        Param("child_visible_early", False, "let child readers in before fork "
              "finishes (not possible in the kernel)",
              lifts="copy_process() exposes the child only after dup_mmap(), "
                    "which relies on it"),
    ),
    build,
    work,
)
