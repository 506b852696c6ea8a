"""Reads of an mm's VMA tree, each modelling what one kernel caller does.

Every read is bracketed by ``h.reading()`` (its results go to the result
checker) and ``h.span()`` (steps, restarts).  ``rcu=True`` is the lockless
caller's ``rcu_read_lock()``; a caller that holds mmap_lock instead passes
``rcu=False`` (``mt_locked()`` accepts the external lock in either mode).
Each VMA found is *used* -- its bounds are read -- inside the section that
protects it, so a freed VMA is caught.  None of these takes a lock or an mm
reference the kernel caller would not: the thread (see
:mod:`.readers`) holds the mm reference, these hold only the read-side
section the caller holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maple import (
    ULONG_MAX,
    MaState,
    mas_find,
    mas_find_rev,
    mas_pause,
    mas_prev,
    mas_walk,
    mt_find,
    mt_find_after,
)
from maple.node import MapleMetadata
from rcu_harness.kernel import down_read, rcu_read_lock, rcu_read_unlock, up_read
from rcu_harness.runtime.current import current
from rcu_harness.runtime.records import ReadKind
from rcu_harness.scenarios import vma_read
from rcu_harness.scenarios.vma import Vma, vma_lock

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.records import ReadRecord
    from rcu_harness.scenarios.mm import Mm


def touch_vma(vma: object) -> tuple[int, int] | None:
    """Read the VMA's bounds, as a user of the VMA would (a freed VMA faults).

    A node's metadata word the tree returned as an entry (a torn or stale
    read of a node's last slot) is dereferenced as the kernel's caller would:
    its load of ``vma->vm_start`` is at the word's small value, which faults
    (reported as ``metadata-as-entry``, :mod:`rcu_harness.runtime.exceptions`).
    Anything else the tree returned (NULL, a VMA of another range) is left to
    the result checker, which reports it as never stored.
    """
    if isinstance(vma, Vma):
        return vma.vm_start, vma.vm_end
    if type(vma) is MapleMetadata:
        raise AttributeError("a metadata word has no field vm_start",
                             name="vm_start", obj=vma)
    return None


def _lock(rcu: bool) -> None:
    if rcu:
        rcu_read_lock()


def _unlock(rcu: bool) -> None:
    if rcu:
        rcu_read_unlock()


def _saw(rd: ReadRecord, mas: MaState, vma: object) -> None:
    rd.saw(mas.index, mas.last, vma)
    touch_vma(vma)


def iterate_rev(h: Harness, mm: Mm, start: int, *, rcu: bool = True) -> int:
    """``mas_for_each_rev(&mas, vma, 0)`` from @start down (``mas_find_rev()``
    loops, as ``vma_find_rev``-style walks do); returns entries seen."""
    mt = mm.mm_mt
    mas = MaState(mt, start, start)
    with h.span("reader.reverse"), \
            h.reading(mt, ReadKind.ITERATE_REV, 0, start) as rd:
        _lock(rcu)
        while (vma := mas_find_rev(mas, 0)) is not None:
            _saw(rd, mas, vma)
        _unlock(rcu)
    return len(rd.results)


def prev_walk(h: Harness, mm: Mm, start: int, *, rcu: bool = True) -> int:
    """``find_vma_prev()``'s walk, then ``vma_prev()`` until the first VMA:
    ``mas_walk()`` at @start, then ``mas_prev(&mas, 0)`` in a loop."""
    mt = mm.mm_mt
    mas = MaState(mt, start, start)
    with h.span("reader.prev"), \
            h.reading(mt, ReadKind.ITERATE_REV, 0, start) as rd:
        _lock(rcu)
        vma = mas_walk(mas)
        _saw(rd, mas, vma)
        while (vma := mas_prev(mas, 0)) is not None:
            _saw(rd, mas, vma)
        _unlock(rcu)
    return len(rd.results)


def find_vma_prev(h: Harness, mm: Mm, addr: int, *, rcu: bool = True) -> object:
    """mm/mmap.c:find_vma_prev(): the VMA at or after @addr and the one
    before it (``mas_walk()``, ``mas_prev(&mas, 0)``, then ``mas_find()`` if
    nothing covered @addr).  The kernel caller holds mmap_lock (``rcu=False``);
    a lockless caller wraps it in rcu_read_lock().

    Its three answers are checked as one read each, all spanning the whole
    call: the walk (FIND), the previous VMA (LAST below the walk's range)
    and, when the walk found a gap, the next VMA (FIRST from @addr).
    """
    mt = mm.mm_mt
    mas = MaState(mt, addr, addr)
    with h.span("reader.find_vma_prev"), \
            h.reading(mt, ReadKind.FIND, addr, addr) as walk_rd, \
            h.reading(mt, ReadKind.LAST, 0, 0) as prev_rd, \
            h.reading(mt, ReadKind.FIRST, addr, ULONG_MAX) as next_rd:
        _lock(rcu)
        vma = mas_walk(mas)
        _saw(walk_rd, mas, vma)
        below = mas.index - 1 if mas.index else -1
        prev = mas_prev(mas, 0)
        if below < 0:
            prev_rd.drop()
        elif prev is None:
            prev_rd.limit = below
            prev_rd.saw(below, below, None)
        else:
            prev_rd.limit = below
            _saw(prev_rd, mas, prev)
        if vma is None:
            vma = mas_find(mas, ULONG_MAX)
            point = max(mas.index, addr) if vma is not None else addr
            next_rd.saw(point, point, vma)
            touch_vma(vma)
        else:
            next_rd.drop()
        _unlock(rcu)
    return vma


def iterate_range(h: Harness, mm: Mm, first: int, last: int, *,
                  rcu: bool = True, inclusive_end: bool = False) -> int:
    """``for_each_vma_range(vmi, vma, last + 1)``: ``vma_find(vmi, end)`` is
    ``mas_find(&vmi->mas, end - 1)`` from @first, a bounded iteration.
    ``inclusive_end`` is the mutant that passes ``end`` itself."""
    mt = mm.mm_mt
    mas = MaState(mt, first, first)
    limit = last + 1 if inclusive_end else last
    with h.span("reader.range"), \
            h.reading(mt, ReadKind.ITERATE, first, last) as rd:
        _lock(rcu)
        while (vma := mas_find(mas, limit)) is not None:
            _saw(rd, mas, vma)
        _unlock(rcu)
    return len(rd.results)


def find_vma_intersection(h: Harness, mm: Mm, first: int, last: int) -> object:
    """mm/mmap.c:find_vma_intersection(): ``mt_find(&mm->mm_mt, &index,
    last)``, which takes the RCU read lock for its own walk only.  The VMA is
    used inside the caller's own read-side section around it."""
    mt = mm.mm_mt
    with h.span("reader.mt_find"), \
            h.reading(mt, ReadKind.FIRST, first, last) as rd:
        rcu_read_lock()
        vma, index = mt_find(mt, first, last)
        point = min((index - 1) & ULONG_MAX, last) if vma is not None else first
        rd.saw(point, point, vma)
        touch_vma(vma)
        rcu_read_unlock()
    return vma


def mt_for_each(h: Harness, mm: Mm, first: int, last: int) -> int:
    """``mt_for_each(&mm->mm_mt, vma, index, last)``: ``mt_find()`` then
    ``mt_find_after()`` in a loop, each call its own RCU section; each VMA is
    used inside the caller's section around the call that returned it."""
    mt = mm.mm_mt
    with h.span("reader.mt_for_each"), \
            h.reading(mt, ReadKind.ITERATE_POINTS, first, last) as rd:
        index, find = first, mt_find
        while True:
            rcu_read_lock()
            vma, index = find(mt, index, last)
            if vma is not None:
                point = min((index - 1) & ULONG_MAX, last)  # the VMA may run on
                rd.saw(point, point, vma)
                touch_vma(vma)
            rcu_read_unlock()
            if vma is None:
                break
            find = mt_find_after
    return len(rd.results)


def maps_walk(h: Harness, mm: Mm, *, rcu: bool = True, pause: bool = True) -> int:
    """The /proc/PID/maps pattern: one VMA per read-side section.

    ``mas_find()`` one VMA, show it, ``mas_pause()``, drop the RCU lock (the
    seq_file buffer is copied out; the task may be preempted), take it again
    and resume at ``last + 1`` (fs/proc/task_mmu.c, lockless since 6.16; the
    same loop runs under mmap_read_lock before that).  The entry found on
    resuming covers ``last + 1`` but may start before it (a merge or an
    expansion grew it back over what was shown); it is not shown again.
    ``pause=False`` is the mutant that keeps the node it found across the
    unlocked stretch.
    """
    mt = mm.mm_mt
    mas = MaState(mt, 0, 0)
    shown = -1  # end of what was shown; a VMA grown back over it is skipped
    with h.span("reader.maps"), h.reading(mt, ReadKind.ITERATE) as rd:
        while True:
            _lock(rcu)
            vma = mas_find(mas, ULONG_MAX)
            if vma is not None:
                if mas.index > shown:
                    _saw(rd, mas, vma)
                else:
                    touch_vma(vma)
                shown = mas.last
                if pause:
                    mas_pause(mas)
            _unlock(rcu)
            if vma is None:
                break
    return len(rd.results)


def lock_vma_under_rcu(h: Harness, mm: Mm, addr: int, *,
                       recheck: bool = True) -> object:
    """mm/memory.c:lock_vma_under_rcu(): ``mas_walk()`` under RCU, then re-check
    that the VMA still belongs to @mm and covers @addr (its bounds may have
    changed since the walk: splits and expansions edit a VMA in place).

    In the designs without per-VMA locks (2021, 2023) the VMA is used (the
    bounds the fault would rely on are read) inside the RCU section, as no
    lock keeps it after rcu_read_unlock(); ``recheck=False`` is the mutant
    that trusts the walk.  With per-VMA locks (modern, vma_refcnt) it is the
    kernel's own protocol: :func:`lock_vma_and_use`.  On a failed check the
    kernel falls back to the mmap_lock path: :func:`lock_mm_and_find_vma`.
    """
    if mm.design.per_vma_locks:
        return lock_vma_and_use(h, mm, addr)
    mt = mm.mm_mt
    mas = MaState(mt, addr, addr)
    with h.span("reader.fault"), h.reading(mt, ReadKind.VMA, addr, addr) as rd:
        rcu_read_lock()
        vma = mas_walk(mas)
        bounds = touch_vma(vma) if isinstance(vma, Vma) else None
        good = bounds is not None and (
            not recheck or (vma.vm_mm is mm and bounds[0] <= addr < bounds[1]))
        if good:
            rd.saw(addr, addr, vma)
            rd.bounds = bounds
        rcu_read_unlock()
    if good:
        return vma
    h.count("lock_vma_under_rcu_miss")
    return lock_mm_and_find_vma(h, mm, addr)


def lock_vma_and_use(h: Harness, mm: Mm, addr: int) -> object:
    """The fault's VMA with per-VMA locks: :func:`.vma_read.lock_vma_under_rcu`
    (walk, vma_start_read(), re-checks), the VMA used under its read lock
    (the checker's use rule, its bounds read), vma_end_read(); the
    mmap_lock path when it returns NULL."""
    mt = mm.mm_mt
    with h.span("reader.fault"), h.reading(mt, ReadKind.VMA, addr, addr) as rd:
        vma = vma_read.lock_vma_under_rcu(h, mm, addr)
        if vma is not None:
            lock = vma_lock(vma)
            if lock is not None:
                lock.use(current(), mm, addr)
            rd.saw(addr, addr, vma)
            rd.bounds = (vma.vm_start, vma.vm_end)
            vma_read.vma_end_read(vma)
            h.count("vma_lock_success")
    if vma is not None:
        return vma
    h.count("lock_vma_under_rcu_miss")
    return lock_mm_and_find_vma(h, mm, addr)


def lock_mm_and_find_vma(h: Harness, mm: Mm, addr: int) -> object:
    """mm/memory.c:lock_mm_and_find_vma() (simplified): ``mmap_read_lock()``,
    ``find_vma()`` (``mt_find()``, which takes RCU for its walk), use the VMA
    under the read lock, ``mmap_read_unlock()``."""
    mt = mm.mm_mt
    down_read(mm.mmap_lock)
    with h.span("reader.find_vma"), \
            h.reading(mt, ReadKind.FIRST, addr, ULONG_MAX) as rd:
        vma, index = mt_find(mt, addr, ULONG_MAX)
        point = (index - 1) & ULONG_MAX if vma is not None else addr
        rd.saw(point, point, vma)
        touch_vma(vma)
    up_read(mm.mmap_lock)
    return vma
