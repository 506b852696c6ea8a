"""Lockless readers of an mm's tree, as the RCU-walk users of the VMA tree do.

A reader takes a reference (``mmget_not_zero``), walks the tree under
``rcu_read_lock()``, touches every VMA it finds (reading its bounds, as a
real user of the VMA would, so a freed VMA is caught), and drops the
reference (``mmput``).  What it walks is its *kind* (:data:`READ_KINDS`):
the first three are here, the others in :mod:`.reads`.  Every result goes
to the result checker through ``h.reading()``, which decides whether the
entry and its range were in the tree at some moment of the read; the walk
is timed with ``h.span()`` (steps, wall-clock time, and the restarts the
maple port counted).
"""

from __future__ import annotations

import random
from functools import partial
from typing import TYPE_CHECKING

from maple import ULONG_MAX, MaState, mas_find, mas_walk, mtree_load
from maple.defs import maple_arange_64, mt_pivots
from maple.dump import min_
from maple.node import MapleEnode, ma_meta_gap, mte_is_leaf
from maple.walk import ma_data_end
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
from rcu_harness.runtime.records import ReadKind
from rcu_harness.scenarios import reads
from rcu_harness.scenarios.mm import (
    PAGE,
    Design,
    mm_alloc,
    mmget_not_zero,
    mmput,
    populate,
    vma_layout,
)
from rcu_harness.scenarios.reads import touch_vma
from rcu_harness.scenarios.spec import Param

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.mm import Mm, Vma
    from rcu_harness.scenarios.spec import Config


def iterate(h: Harness, mm: Mm, *, rcu: bool = True) -> int:
    """mas_for_each() over the whole tree under RCU; returns entries seen."""
    mt = mm.mm_mt
    mas = MaState(mt, 0, 0)
    with h.span("reader.iterate") as sp, h.reading(mt, ReadKind.ITERATE) as rd:
        restarts = h.counter("reader_restart")
        if rcu:
            rcu_read_lock()
        while (vma := mas_find(mas, ULONG_MAX)) is not None:
            rd.saw(mas.index, mas.last, vma)
            touch_vma(vma)
        if rcu:
            rcu_read_unlock()
        sp.add("restarts", h.counter("reader_restart") - restarts)
        sp.add("entries", len(rd.results))
    return len(rd.results)


def lookup(h: Harness, mm: Mm, index: int, *, rcu: bool = True,
           own_section: bool = True) -> object:
    """mtree_load() of @index, using the VMA inside the same read-side section.

    mtree_load() takes the RCU read lock itself, but only for the walk: a
    caller that then uses the VMA must hold its own read-side section across
    both (a VMA removed meanwhile is freed after a grace period).
    ``own_section=False`` is that mistake.
    """
    mt = mm.mm_mt
    hold = rcu and own_section
    with h.span("reader.lookup"), h.reading(mt, ReadKind.LOAD, index, index) as rd:
        if hold:
            rcu_read_lock()
        vma = mtree_load(mt, index)
        rd.saw(index, index, vma)
        if vma is not None:
            touch_vma(vma)
        if hold:
            rcu_read_unlock()
    return vma


def walk(h: Harness, mm: Mm, index: int, *, rcu: bool = True) -> object:
    """mas_walk() to @index under RCU; the range found is checked too."""
    mt = mm.mm_mt
    mas = MaState(mt, index, index)
    with h.span("reader.walk"), h.reading(mt, ReadKind.FIND, index, index) as rd:
        if rcu:
            rcu_read_lock()
        vma = mas_walk(mas)
        rd.saw(mas.index, mas.last, vma)
        if vma is not None:
            touch_vma(vma)
        if rcu:
            rcu_read_unlock()
    return vma


Targets = tuple[list[int], list[tuple[int, int]], list[int]]
"""Points (indexes), windows ([first, last]) and fault addresses a reader
aims at."""

READ_KINDS: dict[str, str] = {
    "iterate": "for_each_vma() over the whole tree (mas_find to ULONG_MAX)",
    "lookup": "mtree_load() of a point, the VMA used in the same RCU section",
    "walk": "mas_walk() to a point",
    "reverse": "mas_for_each_rev() from a point down to 0 (mas_find_rev)",
    "prev": "find_vma_prev()'s mas_walk, then vma_prev() (mas_prev) to the first VMA",
    "find_vma_prev": "find_vma_prev(): mas_walk, mas_prev, mas_find",
    "range": "for_each_vma_range() over a window (mas_find with a finite max)",
    "mt_find": "find_vma_intersection(): mt_find() over a window",
    "mt_for_each": "mt_for_each() over a window (mt_find, mt_find_after)",
    "fault": "lock_vma_under_rcu(): mas_walk, re-check vm_mm and bounds, "
             "else lock_mm_and_find_vma()",
    "maps": "/proc/PID/maps: mas_find, mas_pause, RCU dropped between VMAs",
}
"""Every reader kind and the kernel caller it models."""

MIXES = {"mixed": ("iterate", "lookup", "walk"), "all": tuple(READ_KINDS)}
"""``mixed`` cycles the first three kinds read by read; ``all`` gives each
reader its own sequence of kinds, drawn with the ``reader_seed`` parameter."""

READ_KIND_PARAM = Param(
    "read_kind", "mixed",
    "what lockless readers do: " + ", ".join(READ_KINDS) + "; mixed (iterate, "
    "lookup, walk in turn) or all (each reader its own kinds, from reader_seed)",
    choices=(*READ_KINDS, *MIXES))
READER_SEED_PARAM = Param("reader_seed", 0, "seed of each reader's kinds when "
                          "read_kind=all (the scenario's, not the strategy's)", 0)


def kinds_of(cfg: Config, reader: int, reads: int) -> list[str]:
    """The kinds reader @reader runs, one per read, fixed by the config."""
    kind = cfg["read_kind"]
    if kind == "all":
        seed = cfg.values.get("reader_seed", 0)
        rng = random.Random(f"{seed}/{reader}")
        return [rng.choice(MIXES["all"]) for _ in range(reads)]
    if kind == "mixed":
        return [MIXES["mixed"][i % 3] for i in range(reads)]
    return [kind] * reads


def read_once(h: Harness, cfg: Config, mm: Mm, targets: Targets, how: str,
              use_rcu: bool) -> None:
    """One read of kind @how, aimed by the strategy (``h.random``)."""
    points, windows, faults = targets
    if how == "iterate":
        iterate(h, mm, rcu=use_rcu)
    elif how == "lookup":
        lookup(h, mm, points[h.random(len(points))], rcu=use_rcu,
               own_section=not cfg.bug("vma-used-after-rcu-unlock"))
    elif how == "walk":
        walk(h, mm, points[h.random(len(points))], rcu=use_rcu)
    elif how == "maps":
        reads.maps_walk(h, mm, rcu=use_rcu,
                        pause=not cfg.bug("maps-resume-without-pause"))
    elif how == "fault":
        reads.lock_vma_under_rcu(h, mm, faults[h.random(len(faults))],
                                 recheck=not cfg.bug("fault-skips-vma-recheck"))
    elif how in ("reverse", "prev", "find_vma_prev"):
        fn = {"reverse": reads.iterate_rev, "prev": reads.prev_walk,
              "find_vma_prev": reads.find_vma_prev}[how]
        fn(h, mm, points[h.random(len(points))], rcu=use_rcu)
    else:
        first, last = windows[h.random(len(windows))]
        if how == "range":
            reads.iterate_range(h, mm, first, last, rcu=use_rcu,
                                inclusive_end=cfg.bug("vma-find-end-inclusive"))
        elif how == "mt_find":
            reads.find_vma_intersection(h, mm, first, last)
        else:
            reads.mt_for_each(h, mm, first, last)


def lockless_reader(h: Harness, cfg: Config, mm: Mm, vmas: list[Vma],
                    targets: Targets, *, reader: int = 0, reads: int = 1,
                    kind: str | None = None) -> None:
    """A lockless reader thread: mmget_not_zero(), @reads reads, mmput().

    Its kinds come from the ``read_kind`` parameter (or @kind); point reads
    and windows are chosen by the strategy (``h.random``) among @targets so
    that the choice replays.
    """
    if not mmget_not_zero(h, mm, set_rcu=not cfg.bug("mmget-not-zero-no-rcu")):
        h.count("mmget_not_zero_failed")
        return
    use_rcu = not cfg.bug("reader-without-rcu-lock")
    h.reader_enter(mm.mm_users)
    kinds = [kind] * reads if kind else kinds_of(cfg, reader, reads)
    for how in kinds:
        read_once(h, cfg, mm, targets, how, use_rcu)
    h.reader_exit(mm.mm_users)
    mmput(h, mm, vmas, clear_rcu_always=cfg.bug("mmput-clears-rcu-early"))


def aim_points(layout: list[tuple[int, int, int]]) -> list[int]:
    """Indexes worth reading: the middle of each VMA and the gap after it."""
    points = []
    for start, end, _flags in layout:
        points += [start + (end - start) // 2, end]
    return points or [0]


def aim_faults(layout: list[tuple[int, int, int]]) -> list[int]:
    """Fault addresses: the first, a middle and the last page of each VMA
    (splits and expansions move the first and last pages between VMAs)."""
    out = []
    for start, end, _flags in layout:
        out += [start, start + (end - start) // 2 // PAGE * PAGE, end - PAGE]
    return out or [0]


def leaf_ranges(mm: Mm) -> list[tuple[int, int]]:
    """[min, max] of each leaf of @mm's tree (read unobserved, at setup):
    the leaves of ``mt_dump_canonical()``, in its order, from the same
    words read in the same order, without building its text."""
    mt = mm.mm_mt
    root = mt.port.root_load(mt)
    out: list[tuple[int, int]] = []
    if isinstance(root, MapleEnode):
        _leaf_ranges(root, 0, ULONG_MAX, out)
    return out


def _leaf_ranges(enode: MapleEnode, min: int, max: int,
                 out: list[tuple[int, int]]) -> None:
    """maple.dump._canonical_node()'s walk, keeping only the leaves' spans."""
    node, mtype = enode[0], enode[1]
    pivots = node.pivot
    end = ma_data_end(node, mtype, pivots, max)
    for i in range(min_(end, mt_pivots[mtype])):
        pivots[i]  # read as the canonical dump reads it (poison checks)
    if mte_is_leaf(enode):
        for i in range(end + 1):
            node.slot[i]
        out.append((min, max))
        return
    if mtype == maple_arange_64:
        for i in range(end + 1):
            node.gap[i]
        ma_meta_gap(node)
    for i in range(end + 1):
        lo = min if i == 0 else pivots[i - 1] + 1
        hi = pivots[i] if i < end else max
        _leaf_ranges(node.slot[i], lo, hi, out)


def aim_windows(mm: Mm, layout: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Windows worth a bounded read: inside a leaf, ending at, starting at
    and straddling each boundary between leaves, and around single VMAs."""
    wins = []
    for start, end, _flags in layout:
        wins.append((start, end - 1))
    for lo, hi in leaf_ranges(mm):
        if hi == ULONG_MAX:
            continue
        span = 4 * PAGE
        if hi - lo > 2 * span:
            wins.append((lo + PAGE, hi - PAGE))  # inside
        wins += [(max(lo, hi - span), hi),  # ending at the boundary
                 (hi + 1, hi + span),  # starting at it
                 (max(lo, hi - span), hi + span)]  # across it
    return wins or [(0, ULONG_MAX)]


def spawn_owner_and_readers(h: Harness, cfg: Config, owner: Callable[..., None], *,
                            name: str, count: int, reads: int,
                            kind: str | None = None) -> None:
    """Set up the mm of @cfg's design and VMA layout, then spawn the owner
    thread (holding the mm's only reference) and @count lockless readers
    called @name0, @name1, ..."""
    mm = mm_alloc(h, "mm", Design(cfg["design"]))
    layout = vma_layout(cfg["vmas"], seed=cfg["layout_seed"],
                        layout=cfg.values.get("layout", "low"))
    vmas = populate(h, mm, layout)
    targets = (aim_points(layout), aim_windows(mm, layout), aim_faults(layout))
    h.spawn("owner", owner, h, cfg, mm, vmas, refs=(mm.mm_users,))
    for k in range(count):
        h.spawn(f"{name}{k}", partial(lockless_reader, reader=k, reads=reads,
                                      kind=kind),
                h, cfg, mm, vmas, targets)
