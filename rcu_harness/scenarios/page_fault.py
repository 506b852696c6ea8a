"""Scenario ``page_fault``: page faults under per-VMA locks beside every
kind of writer, a /proc/PID/maps reader, a fork and a second process.

Threads of the process (each holds an mm_users reference, as a task does):

* ``fault<k>`` -- ``faults`` user faults each, at addresses the strategy
  picks (``h.random``) among hits (first, middle, last page of each VMA),
  holes (the page before each VMA and at its end) and pages below the
  stack (which expand it under the write lock); read or write, also picked.
  Each is :func:`~.fault.do_user_addr_fault`: ``lock_vma_under_rcu()``,
  the fault work under the VMA's read lock, ``vma_end_read()``, or the
  mmap_lock path;
* ``owner`` -- ``ops`` address-space changes under ``mmap_write_lock()``,
  each VMA it changes write-locked first: mmap, munmap, mprotect (a
  three-way split and vm_flags_reset()), merge, mremap (move, and grow in
  place), mmap(MAP_FIXED) over a range of the layout; then it drops the
  first reference;
* ``maps<k>`` -- ``maps_reads`` reads of /proc/PID/maps, ``maps_chunk``
  VMAs per read() (:func:`~.fault.show_maps`);
* ``fork`` (``forks=1``) -- fork(): ``dup_mmap()`` (6.8+, as of 6.12)
  write-locks each VMA of the parent before copying it and write-protects
  its pages for COW; the child then exits (its VMAs are freed: into the
  typesafe cache in ``vma_refcnt``).

Another process ``other`` (``other_ops``), its address space empty at first,
maps with MAP_FIXED over ranges of the same layout as the faulting process,
in the reverse order of the
owner's fixed remaps and unmaps (``__mmap_region``: the new
VMA is allocated before the old one is freed), and lives on after (its mm
goes at teardown): in ``vma_refcnt`` its
VMAs and the faulting process's come from the same SLAB_TYPESAFE_BY_RCU
cache, so a VMA one process frees is soon the other's, often at the same
address -- what a fault that skips the ``vm_mm`` re-check would take for
its own.

``design`` is ``modern`` (6.12: vm_lock rw_semaphore, detached flag, VMAs
freed through call_rcu()) or ``vma_refcnt`` (6.17: vm_refcnt, typesafe VMA
cache, lock_next_vma() for maps).  ``assert_write_locked=false`` turns off
the checker's writer-side rule (vma_assert_write_locked() on every store),
leaving the reader-side rules to find a writer's mistake through a race.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from rcu_harness.scenarios import vma_ops
from rcu_harness.scenarios.dup_mmap import fork_thread
from rcu_harness.scenarios.fault import do_user_addr_fault, show_maps
from rcu_harness.scenarios.layouts import (
    PAGE,
    VM_ACCOUNT,
    VM_EXEC,
    VM_GROWSDOWN,
    VM_READ,
    VM_WRITE,
    make_layout,
)
from rcu_harness.scenarios.mm import (
    LAYOUT_PARAM,
    Design,
    Mm,
    Vma,
    mm_alloc,
    mmput,
    populate,
    vma_alloc,
    vma_free,
    vma_link,
    vma_unlink,
)
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.stack_expand import expand_downwards
from rcu_harness.scenarios.vma import (
    mmap_write_lock,
    mmap_write_unlock,
    vma_mark_detached,
    vma_start_write,
)
from rcu_harness.scenarios.vma_read import ReadBugs

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness

OPS = ("mmap", "munmap", "mprotect", "merge", "mremap", "grow", "remap")
OP_SETS = {"all": OPS, "remap": ("remap",), "unmap": ("unmap",)}
"""The owner's operations: every kind; only MAP_FIXED remaps of layout
ranges; or only munmap()s of layout ranges, which the other process then
maps (in reverse order: with the owner ahead, each VMA the owner freed is
the next one the other allocates, and comes back at its old range -- the
reuse Jann Horn's reproducer of the 2025 bug arranged)."""
RW = VM_READ | VM_WRITE | VM_ACCOUNT


class Process:
    """The faulting process (as dup_mmap's World: parent, child) and the
    other process."""

    def __init__(self, h: Harness, cfg: Config) -> None:
        design = Design(cfg["design"])
        self.layout = make_layout(cfg["layout"], cfg["vmas"], seed=cfg["layout_seed"])
        if cfg["vdso"]:
            self.layout += vdso_above_stack(self.layout)
        self.mm = self.parent = mm_alloc(h, "mm", design)
        self.mm.vma_asserts = cfg["assert_write_locked"]
        self.vmas = self.parent_vmas = populate(h, self.mm, self.layout)
        self.child = mm_alloc(h, "child", design)
        self.child_vmas: list[Vma] = []
        self.child_visible = False
        h.initial_contents(self.child.mm_mt, [])
        self.other = mm_alloc(h, "other", design)
        self.other_vmas = populate(h, self.other, [])
        for mm in (self.child, self.other):
            mm.vma_asserts = self.mm.vma_asserts
        self.targets = fault_targets(self.layout)
        self.remaps = random.Random(f"{cfg['ops_seed']}/remap").sample(
            range(len(self.layout)), len(self.layout))
        """The layout ranges the owner's k-th MAP_FIXED remap or fixed munmap
        hits (a permutation); the other process maps them in reverse order."""


def vdso_above_stack(layout: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """[vvar] (4 pages, r--) and [vdso] (2 pages, r-x) a few pages above the
    stack, where x86_64 maps them (none without a stack in the layout)."""
    stacks = [end for _start, end, flags in layout if flags & VM_GROWSDOWN]
    if not stacks:
        return []
    vvar = stacks[-1] + 6 * PAGE
    return [(vvar, vvar + 4 * PAGE, VM_READ), (vvar + 4 * PAGE, vvar + 6 * PAGE,
                                               VM_READ | VM_EXEC)]


def fault_targets(layout: list[tuple[int, int, int]]) -> list[int]:
    """Hits (first, middle and last page), holes (the page before, the end)
    of each VMA, and pages below a stack (expansion)."""
    out: list[int] = []
    for start, end, flags in layout:
        out += [start, start + (end - start) // 2 // PAGE * PAGE, end - PAGE,
                end, start - PAGE]
        if flags & VM_GROWSDOWN:
            out += [start - 2 * PAGE, start - 8 * PAGE]
    return sorted(set(out)) or [0]


def read_bugs(cfg: Config) -> ReadBugs:
    """The read-side mutants of @cfg."""
    return ReadBugs(seq=not cfg.bug("vma-start-read-skips-seq-recheck"),
                    detached=not cfg.bug("fault-skips-detached-check"),
                    mm=not cfg.bug("vma-reuse-skips-mm-check"),
                    acquire=not cfg.bug("vma-start-read-refcount-relaxed"))


def faulter(h: Harness, cfg: Config, w: Process) -> None:
    """A task of the process touching its memory."""
    targets, bugs = w.targets, read_bugs(cfg)

    def expand(mm: Mm, vma: Vma, addr: int) -> bool:
        return expand_downwards(h, cfg, mm, vma, addr, cfg["guard_pages"]) != 0

    for _ in range(cfg["faults"]):
        address = targets[h.random(len(targets))]
        write = h.random(2) == 1
        do_user_addr_fault(h, w.mm, address, write, expand, bugs)
    mmput(h, w.mm, w.vmas)


def mmap_gap(h: Harness, mm: Mm, vmas: list[Vma], bounds: vma_ops.Bounds,
             k: int) -> bool:
    """mmap() of 1-4 pages (read-write) in the middle of the first gap, from
    the @k-th on, that leaves a page either side."""
    size = (1 + k % 4) * PAGE
    n = len(bounds)
    for j in [*range(k % max(n, 1), n - 1), *range(0, k % max(n, 1))]:
        if j + 1 < n and bounds[j + 1][0] - bounds[j][1] >= size + 2 * PAGE:
            at = bounds[j][1] + (bounds[j + 1][0] - bounds[j][1] - size) // 2 \
                // PAGE * PAGE
            vma = vma_alloc(at, at + size, RW, mm)
            vma_link(h, mm, vma, at, at + size, span="writer.mmap")
            vmas.insert(j + 1, vma)
            return True
    return False


def writer_op(h: Harness, cfg: Config, w: Process, op: str, k: int) -> None:
    """One address-space change; the caller holds mmap_lock for write."""
    mm, vmas = w.mm, w.vmas
    with h.unobserved():
        bounds = [(v.vm_start, v.vm_end, v.vm_flags) for v in vmas]
    i = k % len(vmas) if vmas else 0
    if op in ("remap", "unmap"):
        start, end, flags = w.layout[w.remaps[k % len(w.remaps)]]
        if op == "remap":
            map_fixed(h, mm, vmas, start, end, flags)
        else:
            unmap_fixed(h, mm, vmas, start, end)
    elif op == "munmap" and len(vmas) > 1:
        start, end, _flags = bounds[i]
        vma_unlink(h, mm, [vmas.pop(i)], start, end - 1)
    elif op == "mprotect":
        bugs = vma_ops.WriterBugs(
            start_write=not cfg.bug("mprotect-skips-vma-start-write"),
            early_seq_end=cfg.bug("mm-lock-seq-bump-before-tree-update"))
        vma_ops.mprotect_split(h, mm, vmas, bounds, i, bugs)
    elif op == "merge":
        vma_ops.merge(h, mm, vmas, bounds, i)
    elif op == "mremap":
        vma_ops.mremap_move(h, mm, vmas, bounds, i)
    elif op == "grow":
        vma_ops.mremap_grow(h, mm, vmas, bounds, i)
    else:
        mmap_gap(h, mm, vmas, bounds, k)


def owner(h: Harness, cfg: Config, w: Process) -> None:
    """The process's first task: reshapes the address space, then exits."""
    ops = OP_SETS[cfg["op_set"]]
    order = random.Random(cfg["ops_seed"]).sample(ops, len(ops))
    for k in range(cfg["ops"]):
        mmap_write_lock(w.mm)
        writer_op(h, cfg, w, order[k % len(order)], k)
        mmap_write_unlock(w.mm)
    mmput(h, w.mm, w.vmas)


def maps_reader(h: Harness, cfg: Config, w: Process) -> None:
    """A task reading /proc/PID/maps of its own process."""
    for _ in range(cfg["maps_reads"]):
        show_maps(h, w.mm, cfg["maps_chunk"],
                  gap_check=not cfg.bug("maps-skips-gap-check"),
                  fixed="maps-restart-at-last-addr" in cfg.fixes)
    mmput(h, w.mm, w.vmas)


def forker(h: Harness, cfg: Config, w: Process) -> None:
    """A task that forks (the child exits at once), then exits itself."""
    fork_thread(h, cfg, w)  # type: ignore[arg-type]
    mmput(h, w.mm, w.vmas)


def map_fixed(h: Harness, mm: Mm, vmas: list[Vma], start: int, end: int,
              flags: int) -> None:
    """mmap(MAP_FIXED) over [start, end) (``__mmap_region()``): the new VMA
    is allocated, the VMAs it replaces write-locked and detached
    (``vms_gather_munmap_vmas()``), the new one linked over them, and only
    then are the old ones freed (``vms_complete_munmap_vmas()``).  The
    caller holds mmap_lock for write; @vmas only ever hold whole ranges of
    the layout, so a VMA is replaced whole or not at all."""
    new = vma_alloc(start, end, flags & ~VM_GROWSDOWN, mm)
    with h.unobserved():
        gone = [v for v in vmas if v.vm_start < end and v.vm_end > start]
        whole = all(start <= v.vm_start and v.vm_end <= end for v in gone)
    if not whole:  # an edited VMA straddles the range: leave it be
        vma_free(mm, new)
        return
    for vma in gone:
        vma_start_write(vma)
        vma_mark_detached(vma)
        vmas.remove(vma)
    vma_link(h, mm, new, start, end, span="writer.mmap")
    vmas.append(new)
    with h.unobserved():
        vmas.sort(key=lambda v: v.vm_start)
    for vma in gone:
        vma_free(mm, vma)


def unmap_fixed(h: Harness, mm: Mm, vmas: list[Vma], start: int, end: int) -> None:
    """munmap() of [start, end) when a VMA covers exactly that range."""
    with h.unobserved():
        gone = [v for v in vmas if v.vm_start == start and v.vm_end == end]
    for vma in gone:
        vmas.remove(vma)
    if gone:
        vma_unlink(h, mm, gone, start, end - 1)


def other_process(h: Harness, cfg: Config, w: Process) -> None:
    """The other process: MAP_FIXED over ranges of the shared layout; it
    lives on (its VMAs attached) until teardown."""
    mm, vmas = w.other, w.other_vmas
    for k in range(cfg["other_ops"]):
        start, end, flags = w.layout[w.remaps[-1 - k % len(w.remaps)]]
        mmap_write_lock(mm)
        map_fixed(h, mm, vmas, start, end, flags)
        mmap_write_unlock(mm)
    h.at_exit(lambda: mmput(h, mm, vmas))


def build(h: Harness, cfg: Config) -> None:
    """Set up both processes and spawn their tasks."""
    w = Process(h, cfg)
    users = (w.mm.mm_users,)
    w.mm.mm_users.value = 1 + cfg["faulters"] + cfg["maps_readers"] + cfg["forks"]
    h.spawn("owner", owner, h, cfg, w, refs=users)
    for k in range(cfg["faulters"]):
        h.spawn(f"fault{k}", faulter, h, cfg, w, refs=users)
    for k in range(cfg["maps_readers"]):
        h.spawn(f"maps{k}", maps_reader, h, cfg, w, refs=users)
    if cfg["forks"]:
        h.spawn("fork", forker, h, cfg, w, refs=(*users, w.child.mm_users))
    h.spawn("other", other_process, h, cfg, w)


def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (BENCHMARKS.md, *Step bounds*)."""
    faults = cfg["faulters"] * cfg["faults"]
    maps = cfg["maps_readers"] * cfg["maps_reads"] * (cfg["vmas"] + 2 * cfg["ops"])
    writes = cfg["ops"] + cfg["other_ops"] + cfg["forks"] * cfg["vmas"]
    return int(3000 + 300 * faults + 60 * maps + 500 * writes)


def check(values: dict[str, object]) -> str:
    """Per-VMA locks exist only in the modern and vma_refcnt designs."""
    if not Design(str(values["design"])).per_vma_locks:
        return "page faults lock VMAs only in design modern or vma_refcnt"
    return ""


SCENARIO = Scenario(
    "page_fault",
    "page faults under per-VMA locks (lock_vma_under_rcu) beside mmap, munmap, "
    "mprotect, merge, mremap, stack expansion, fork, /proc/PID/maps and a second "
    "process reusing VMAs",
    (
        Param("design", Design.MODERN.value, "per-VMA lock design: modern (6.12, "
              "vm_lock rw_semaphore) or vma_refcnt (6.15+, vm_refcnt and "
              "SLAB_TYPESAFE_BY_RCU VMAs)",
              choices=(Design.MODERN.value, Design.VMA_REFCNT.value)),
        LAYOUT_PARAM,
        Param("vmas", 10, "VMAs at the start (the same layout in both processes)",
              2, 2000),
        Param("layout_seed", 1, "seed of the VMA layout", 0),
        Param("faulters", 2, "tasks taking page faults", 0, 16),
        Param("faults", 4, "faults per faulting task", 1, 1000),
        Param("ops", 7, "address-space changes by the owner (they cycle through "
              "the operation set in an order fixed by ops_seed)", 0, 1000),
        Param("ops_seed", 1, "seed of the order of the owner's operations", 0),
        Param("op_set", "all", "the owner's operations: all (mmap, munmap, "
              "mprotect, merge, mremap, grow, MAP_FIXED remap), remap (only "
              "MAP_FIXED over ranges of the layout) or unmap (only munmap of "
              "layout ranges, which the other process maps)",
              choices=tuple(OP_SETS)),
        Param("maps_readers", 1, "tasks reading /proc/PID/maps", 0, 8),
        Param("maps_reads", 1, "whole reads of /proc/PID/maps per reader", 1, 100),
        Param("maps_chunk", 4, "VMAs per read() (a seq_file page)", 1, 1000),
        Param("forks", 1, "fork()s of the process (the child exits at once)", 0, 1),
        Param("other_ops", 3, "MAP_FIXED mappings by the other process", 0, 1000),
        Param("guard_pages", 4, "stack_guard_gap in pages", 0, 1 << 20),
        Param("vdso", True, "map [vvar] and [vdso] above the stack, as x86_64 "
              "does (false: the stack is the highest VMA)"),
        Param("assert_write_locked", True, "check vma_assert_write_locked() on "
              "every store to an attached VMA (false: reader-side rules only)"),
    ),
    build,
    work,
    check,
)
