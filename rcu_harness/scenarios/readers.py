"""Lockless readers of an mm's tree, as the RCU-walk users of the VMA tree do.

A reader takes a reference (``mmget_not_zero``), walks the tree under
``rcu_read_lock()``, touches every VMA it finds (reading its bounds, as a
real user of the VMA would, so a freed VMA is caught), and drops the
reference (``mmput``).  Every result goes to the result checker through
``h.reading()``, which decides whether the entry and its range were in the
tree at some moment of the read; the walk is timed with ``h.span()`` (steps,
wall-clock time, and the restarts the maple port counted).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from maple import ULONG_MAX, MaState, mas_find, mas_walk, mtree_load
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
from rcu_harness.runtime.records import ReadKind
from rcu_harness.scenarios.mm import Vma

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.harness import Harness
    from rcu_harness.scenarios.mm import Mm
    from rcu_harness.scenarios.registry import Config


def touch_vma(vma: object) -> None:
    """Read the VMA's bounds, as a user of the VMA would (a freed VMA faults).

    Anything else the tree returned (a torn read can return a metadata word)
    is left to the result checker, which reports it as never stored.
    """
    if isinstance(vma, Vma):
        vma.vm_start  # noqa: B018 - the load is the point
        vma.vm_end  # noqa: B018


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


def lockless_reader(h: Harness, cfg: Config, mm: Mm, vmas: list[Vma],
                    points: list[int], *, reads: int = 1,
                    kind: str = "iterate") -> None:
    """A lockless reader thread: mmget_not_zero(), @reads reads, mmput().

    ``kind`` is ``iterate``, ``lookup``, ``walk`` or ``mixed`` (the three in
    turn); point reads aim at one of @points, chosen by the strategy
    (``h.random``) so that the choice replays.
    """
    from rcu_harness.scenarios.mm import mmget_not_zero, mmput

    if not mmget_not_zero(h, mm, set_rcu=not cfg.bug("mmget-not-zero-no-rcu")):
        h.count("mmget_not_zero_failed")
        return
    use_rcu = not cfg.bug("reader-without-rcu-lock")
    h.reader_enter(mm.mm_users)
    for i in range(reads):
        how = ("iterate", "lookup", "walk")[i % 3] if kind == "mixed" else kind
        if how == "iterate":
            iterate(h, mm, rcu=use_rcu)
        elif how == "lookup":
            lookup(h, mm, points[h.random(len(points))], rcu=use_rcu,
                   own_section=not cfg.bug("vma-used-after-rcu-unlock"))
        else:
            walk(h, mm, points[h.random(len(points))], rcu=use_rcu)
    h.reader_exit(mm.mm_users)
    mmput(h, mm, vmas, clear_rcu_always=cfg.bug("mmput-clears-rcu-early"))


def aim_points(layout: list[tuple[int, int, int]]) -> list[int]:
    """Indexes worth reading: the middle of each VMA and the gap after it."""
    points = []
    for start, end, _flags in layout:
        points += [start + (end - start) // 2, end]
    return points


def spawn_owner_and_readers(h: Harness, cfg: Config, owner: Callable[..., None], *,
                            name: str, count: int, reads: int, kind: str) -> None:
    """Set up the mm of @cfg's design and VMA layout, then spawn the owner
    thread (holding the mm's only reference) and @count lockless readers
    called @name0, @name1, ..."""
    from rcu_harness.scenarios.mm import Design, mm_alloc, populate, vma_layout

    mm = mm_alloc(h, "mm", Design(cfg["design"]))
    layout = vma_layout(cfg["vmas"], seed=cfg["layout_seed"])
    vmas = populate(h, mm, layout)
    points = aim_points(layout)
    h.spawn("owner", owner, h, cfg, mm, vmas, refs=(mm.mm_users,))
    for k in range(count):
        h.spawn(f"{name}{k}", partial(lockless_reader, reads=reads, kind=kind),
                h, cfg, mm, vmas, points)
