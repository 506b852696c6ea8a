"""Scenario ``stack_expand``: stack expansion writing the tree under the mmap
*read* lock, next to lockless readers and readers under the read lock.

Threads (all of one process, each holding an mm_users reference as a task
of the mm does):

* ``expander0`` faults below the stack: ``expand_downwards()``;
  ``expander1`` (``expanders=2``) faults above a ``VM_GROWSUP`` VMA:
  ``expand_upwards()``.  Each makes ``grows`` faults: small steps, then one
  at its neighbour's edge, which only succeeds when no stack guard gap is
  enforced (``guard_gap=false``: the neighbour is ``PROT_NONE``, as
  ``vma_is_accessible()`` asks) and then consumes the whole gap.
* ``locked<k>``: ``mmap_read_lock()``, ``find_vma_prev()`` without
  rcu_read_lock() -- legal, since ``mt_locked()`` accepts mmap_lock held
  for read -- ``mmap_read_unlock()``.
* ``reader<k>``: lockless readers of any kind (``read_kind``), under RCU.
* ``owner`` holds the first reference and drops it last.

What the writers hold depends on ``design``:

* ``2023`` (Linux 6.1-6.4): mmap_lock for read, ``mm->page_table_lock``
  around the store (the guard check's ``mas_prev()`` runs before it, under
  the read lock only); the tree is in RCU mode unless ``rcu=false``
  (6.1/6.2).  The 6.12 ``mas_store_prealloc()`` assumes the tree unchanged
  since ``mas_preallocate()``, which only holds when one lock covers both;
  6.1 re-walked.  The model therefore stores with ``mas_store_gfp(...,
  GFP_NOWAIT)`` under ``page_table_lock``, a fresh walk.
* ``2021``: the same, with the store under the tree's spinlock as every
  2021 writer.
* ``modern`` (6.5+) and ``vma_refcnt``: ``expand_stack()`` takes mmap_lock
  for write (the StackRot fix) and write-locks the VMA (per-VMA locks); the
  store uses ``vma_iter_prealloc()`` / ``vma_iter_store()``.

The faithful 2023 model reproduces the two real bugs of that design: with no
guard gap, an expansion that consumes the gap rewrites the leaf
(``mas_wr_node_store()`` or a rebalance); outside RCU mode (6.1/6.2) the old
node is rewritten in place or freed at once under the readers that hold
only the read lock (syzbot, March 2023, fixed by RCU mode); in RCU mode it
is freed after a grace period that does not wait for them (StackRot,
CVE-2023-3269, July 2023, fixed by the write lock in 6.5).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from maple import (
    GFP_NOWAIT,
    MaState,
    mas_destroy,
    mas_preallocate,
    mas_prev,
    mas_set_range,
    mas_store_gfp,
    mas_store_prealloc,
    mt_find,
)
from rcu_harness.kernel import (
    down_read,
    rcu_read_lock,
    rcu_read_unlock,
    spin_lock,
    spin_unlock,
    up_read,
)
from rcu_harness.scenarios import reads
from rcu_harness.scenarios.layouts import (
    PAGE,
    STACK_SIZE,
    VM_ACCOUNT,
    VM_GROWSDOWN,
    VM_GROWSUP,
    VM_READ,
    VM_WRITE,
    make_layout,
)
from rcu_harness.scenarios.mm import (
    DESIGN_PARAM,
    LAYOUT_PARAM,
    Design,
    Mm,
    Vma,
    mm_alloc,
    mmput,
    populate,
    tree_lock,
    tree_unlock,
)
from rcu_harness.scenarios.readers import (
    READ_KIND_PARAM,
    READER_SEED_PARAM,
    aim_faults,
    aim_windows,
    lockless_reader,
)
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.vma import (
    mmap_read_lock,
    mmap_read_unlock,
    mmap_write_lock,
    mmap_write_unlock,
    vma_start_write,
)

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

VM_ACCESS_FLAGS = VM_READ | VM_WRITE | 0x4
ENOMEM = -12


class Stacks:
    """The mm, its VMAs and the two growing VMAs with their neighbours."""

    def __init__(self, h: Harness, cfg: Config) -> None:
        self.mm = mm_alloc(h, "mm", Design(cfg["design"]), rcu=cfg["rcu"])
        layout = make_layout(cfg["layout"], cfg["vmas"], seed=cfg["layout_seed"])
        layout = [v for v in layout if not v[2] & VM_GROWSDOWN]
        top = (layout[-1][1] if layout else 0x7FFF_0000_0000) + 64 * PAGE
        self.region = growing_region(top, cfg["gap_pages"], cfg["guard_gap"])
        self.vmas = populate(h, self.mm, layout + self.region)
        self.up, self.down = self.vmas[-5], self.vmas[-1]
        full = layout + self.region
        points = [s + (e - s) // 2 for s, e, _ in full] + [e for s, e, _ in full]
        points += [s - PAGE for s, _e, _f in self.region]
        self.targets = (points, aim_windows(self.mm, full), aim_faults(full))


def growing_region(base: int, gap_pages: int,
                   guard: bool) -> list[tuple[int, int, int]]:
    """[up (VM_GROWSUP), gap, its neighbour, 16 pages, the stack's neighbour,
    gap, stack (VM_GROWSDOWN)] from @base; neighbours are PROT_NONE when
    no guard gap is enforced."""
    rw = VM_READ | VM_WRITE | VM_ACCOUNT
    near = rw if guard else VM_ACCOUNT
    gap = gap_pages * PAGE
    up = (base, base + 4 * PAGE, rw | VM_GROWSUP)
    up_next = (up[1] + gap, up[1] + gap + PAGE, near)
    down_prev = (up_next[1] + 16 * PAGE, up_next[1] + 17 * PAGE, near)
    stack_start = down_prev[1] + gap
    stack = (stack_start, stack_start + STACK_SIZE, rw | VM_GROWSDOWN)
    return [up, up_next, (up_next[1] + 8 * PAGE, up_next[1] + 9 * PAGE, rw),
            down_prev, stack]


def fault_addresses(cfg: Config, gap: int, down: bool, edge: int) -> list[int]:
    """The faults an expander makes: small steps, then @edge itself."""
    steps = [(k + 1) * 2 * PAGE for k in range(cfg["grows"] - 1)]
    steps = [s for s in steps if s < gap]
    if down:
        return [edge + gap - s for s in steps] + [edge]
    return [edge - gap + s for s in steps] + [edge]


def locked_walk(mm: Mm, begin: bool) -> None:
    """What a walk under mmap_lock holds besides it: nothing in 2023 and
    modern (``mt_locked()`` accepts mmap_lock), rcu_read_lock() in 2021,
    whose tree lock is the tree's spinlock."""
    if mm.design is Design.D2021:
        (rcu_read_lock if begin else rcu_read_unlock)()


def expand_downwards(h: Harness, cfg: Config, mm: Mm, vma: Vma, address: int,
                     guard_pages: int) -> int:
    """mm/mmap.c:expand_downwards() of @design: grow @vma down to @address."""
    mas = MaState(mm.mm_mt, 0, 0)
    with h.unobserved():
        start, end = vma.vm_start, vma.vm_end
    mas_set_range(mas, start, start)
    locked_walk(mm, True)
    prev = mas_prev(mas, 0)  # "Enforce stack_guard_gap"
    locked_walk(mm, False)
    if prev is not None:
        prev_end = prev.vm_end
        prev_flags = prev.vm_flags
        if not prev_flags & VM_GROWSDOWN and prev_flags & VM_ACCESS_FLAGS \
                and address - prev_end < guard_pages * PAGE:
            return ENOMEM
    if address >= start:
        return 0  # "Somebody else might have raced and expanded it already"
    store_expansion(h, cfg, mm, vma, address, end - 1, new_start=address)
    return 0


def expand_upwards(h: Harness, cfg: Config, mm: Mm, vma: Vma, address: int,
                   guard_pages: int) -> int:
    """mm/mmap.c:expand_upwards() of @design: grow @vma up to @address."""
    with h.unobserved():
        start, end = vma.vm_start, vma.vm_end
    gap_end = min(address + guard_pages * PAGE, (1 << 64) - 1)
    nxt, _index = mt_find(mm.mm_mt, end, gap_end - 1)  # find_vma_intersection()
    if nxt is not None:
        flags = nxt.vm_flags
        if flags & VM_ACCESS_FLAGS and not flags & VM_GROWSUP:
            return ENOMEM
        if nxt.vm_start < address:
            return ENOMEM
    if address <= end:
        return 0
    store_expansion(h, cfg, mm, vma, start, address - 1, new_end=address)
    return 0


def store_expansion(h: Harness, cfg: Config, mm: Mm, vma: Vma, first: int,
                    last: int, *, new_start: int = 0, new_end: int = 0) -> None:
    """Move @vma's boundary in place and store it over [first, last].

    The caller holds mmap_lock (read: 2021, 2023; write: modern).
    """
    mt = mm.mm_mt
    design = mm.design
    mas = MaState(mt, first, last)
    if design.per_vma_locks and mas_preallocate(mas, vma):  # vma_iter_prealloc()
        return
    ptl = not cfg.bug("expand-without-page-table-lock")
    vma_start_write(vma)  # "Lock the VMA before expanding" (per-VMA locks)
    with h.span("writer.expand"):
        if ptl:
            spin_lock(mm.page_table_lock)
        if new_start:
            vma.vm_start = new_start
        else:
            vma.vm_end = new_end
        tree_lock(mm)
        with h.writing(mt, first, last, vma):
            if design.per_vma_locks:
                mas_store_prealloc(mas, vma)  # vma_iter_store()
            else:
                mas_set_range(mas, first, last)
                mas_store_gfp(mas, vma, GFP_NOWAIT)
        tree_unlock(mm)
        if ptl:
            spin_unlock(mm.page_table_lock)
    mas_destroy(mas)


def expander(h: Harness, cfg: Config, w: Stacks, k: int) -> None:
    """A thread faulting past a growing VMA: expand_stack() per fault."""
    mm, down = w.mm, k % 2 == 0
    vma = w.down if down else w.up
    with h.unobserved():
        edge = w.vmas[-2].vm_end if down else w.vmas[-4].vm_start
        gap = (vma.vm_start - edge) if down else (edge - vma.vm_end)
    grow = expand_downwards if down else expand_upwards
    for address in fault_addresses(cfg, gap, down, edge):
        write = mm.design.per_vma_locks
        (mmap_write_lock if write else mmap_read_lock)(mm)
        ret = grow(h, cfg, mm, vma, address, cfg["guard_pages"])
        (mmap_write_unlock if write else mmap_read_unlock)(mm)
        if ret:
            h.count("expand_enomem")
    mmput(h, mm, w.vmas)


def locked_reader(h: Harness, cfg: Config, w: Stacks) -> None:
    """A task reading its own mm under mmap_read_lock(): find_vma_prev()."""
    points = w.targets[0]
    for _ in range(cfg["reads"]):
        down_read(w.mm.mmap_lock)
        reads.find_vma_prev(h, w.mm, points[h.random(len(points))],
                            rcu=w.mm.design is Design.D2021)
        up_read(w.mm.mmap_lock)
    mmput(h, w.mm, w.vmas)


def owner(h: Harness, cfg: Config, w: Stacks) -> None:
    """The process's first reference, dropped last of its own threads."""
    mmput(h, w.mm, w.vmas)


def build(h: Harness, cfg: Config) -> None:
    """Set up the mm and spawn owner, expanders, locked and lockless readers."""
    w = Stacks(h, cfg)
    users = (w.mm.mm_users,)
    # Every task of the process holds a reference: mm_users counts them.
    w.mm.mm_users.value = 1 + cfg["expanders"] + cfg["locked_readers"]
    h.spawn("owner", owner, h, cfg, w, refs=users)
    for k in range(cfg["expanders"]):
        h.spawn(f"expander{k}", expander, h, cfg, w, k, refs=users)
    for k in range(cfg["locked_readers"]):
        h.spawn(f"locked{k}", locked_reader, h, cfg, w, refs=users)
    for k in range(cfg["readers"]):
        h.spawn(f"reader{k}", partial(lockless_reader, reader=k, reads=cfg["reads"]),
                h, cfg, w.mm, w.vmas, w.targets)


def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (BENCHMARKS.md, *Step bounds*)."""
    reads = (cfg["readers"] + cfg["locked_readers"]) * cfg["reads"]
    writes = cfg["expanders"] * cfg["grows"]
    return int(2000 + 400 * writes + (cfg["vmas"] + 5) * (10 + 25 * reads))


def check(values: dict[str, object]) -> str:
    """Lockless readers need RCU mode: none exist in a 6.1/6.2 tree."""
    if not values["rcu"] and values["readers"] and values["design"] == "2023":
        return "rcu=false (Linux 6.1/6.2) has no lockless readers: set readers=0"
    return ""


SCENARIO = Scenario(
    "stack_expand",
    "stack expansion writes the VMA tree under the mmap read lock (2023: "
    "page_table_lock serialises the expanders) beside readers under the read "
    "lock and lockless readers",
    (
        Param("design", Design.D2023.value, DESIGN_PARAM.help,
              choices=DESIGN_PARAM.choices),
        Param("rcu", True, "2023 only: the tree in RCU mode (6.3+, 6.1.y) or "
              "not (6.1, 6.2)"),
        Param("guard_gap", True, "neighbours accessible, so stack_guard_gap is "
              "enforced (false: PROT_NONE neighbours, a stack may consume the gap)"),
        Param("guard_pages", 4, "stack_guard_gap in pages (the kernel's default "
              "is 256; only the ratio to gap_pages matters)", 0, 1 << 20),
        Param("gap_pages", 12, "pages between each growing VMA and its "
              "neighbour", 1, 1 << 20),
        Param("grows", 4, "faults per expander (the last at the neighbour)", 1, 64),
        Param("expanders", 2, "expand_downwards() and expand_upwards() threads",
              0, 2),
        Param("locked_readers", 1, "tasks calling find_vma_prev() under "
              "mmap_read_lock()", 0, 8),
        Param("readers", 1, "lockless readers", 0, 16),
        Param("reads", 2, "reads per reader", 1, 100),
        replace(READ_KIND_PARAM, default="all"),
        READER_SEED_PARAM,
        LAYOUT_PARAM,
        Param("vmas", 12, "VMAs besides the growing region", 0, 2000),
        Param("layout_seed", 5, "seed of the VMA layout", 0),
    ),
    build,
    work,
    check,
)
