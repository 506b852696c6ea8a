"""populate() through a setup snapshot (:mod:`rcu_harness.runtime.snapshot`).

:func:`~rcu_harness.scenarios.mm.populate` builds an mm's VMAs and tree
before the threads start; it draws no program data, so in every execution
of a program, given the same state before it, it makes the same objects.
Here it is built through the model the first time for a key (the state it
can depend on), watched, and replayed every later time.  See
docs/performance.md, *Fourth round: setup snapshots*.  The VMA layouts
themselves are computed once per process and arguments
(:func:`cached_layout`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.patches import STATE as PATCHES
from rcu_harness.runtime.current import current
from rcu_harness.runtime.snapshot import Recorder, Uncacheable
from rcu_harness.scenarios.layouts import Layout as LayoutKind
from rcu_harness.scenarios.layouts import make_layout

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.mm import Mm
    from rcu_harness.scenarios.vma import Vma

Layout = list[tuple[int, int, int]]

SNAPSHOT_MAX_VMAS = 256
"""Larger layouts build every time: recording costs about ten builds (the
walks, and compiling the replay, one uninterruptible ``compile()`` of some
70 lines per VMA), which only pays over many executions, and a run with
thousands of VMAs makes few."""
SNAPSHOTS_PER_PROGRAM = 64
"""A program keeps at most this many snapshots; a state before populate()
beyond them builds every time.  A campaign worker keeps its program across
blocks (:func:`rcu_harness.campaign.worker._program`), so this bounds what
a long run holds should a program's setup reach ever new states (none of
the scenarios does: one snapshot per mm each)."""
_MISS = object()


def populate_key(h: Harness, mm: Mm, layout: Layout) -> tuple[object, ...] | None:
    """What populate() can depend on, or None where it is never replayed:
    model patches applied (a mutant), events recorded (full call chains),
    an access hook that is not passive or a memory model (they see setup's
    accesses; a passive hook's class is part of the key), a tree
    that is not empty, program data drawn before it (the state before would
    then depend on the execution), more than :data:`SNAPSHOT_MAX_VMAS`."""
    ex = current()
    mt = mm.mm_mt
    hook = ex.access_hook
    if (PATCHES.active or ex.record or (hook is not None and not hook.passive)
            or ex.memory_model is not None or mt.ma_root is not None
            or ex.decisions or len(layout) > SNAPSHOT_MAX_VMAS):
        return None
    port = h.port
    heap, rcu = ex.heap, ex.rcu
    return (tuple(map(tuple, layout)), mm.name, mm.design, mm.vma_asserts,
            mm.map_count, mt.name, mt.addr, mt.ma_flags, type(port),
            port.private_nodes, len(port.nodes), len(port.setup_quiet),
            type(port.tree_lock(mt)), heap._next, heap._next_static,
            len(heap.records), heap.total_allocated, heap.total_freed,
            ex.quiet, ex.phase, ex.cur_tid, ex.cur.label, ex.step,
            rcu.running is None, rcu.gp_seq, rcu.running_gp, rcu.completed,
            type(hook))


def populate_roles(h: Harness, mm: Mm) -> dict[str, Any]:
    """The objects populate() may change or refer to, by name."""
    ex = current()
    port = h.port
    return {"ex": ex, "port": port, "heap": ex.heap, "records": ex.heap.records,
            "objects": ex.heap.objects, "metrics": ex.metrics,
            "writers": ex.metrics.writers, "nodes": port.nodes,
            "setup_quiet": port.setup_quiet, "mm": mm, "mt": mm.mm_mt,
            "lock": port.tree_lock(mm.mm_mt), "rcu": ex.rcu, "cur": ex.cur,
            "rcu_pending": ex.rcu.pending, "waiting": ex.metrics.waiting,
            "spinlock": port.locks[mm.mm_mt.addr], "context": ex.context}


def replay_or_build(cache: dict[Any, Any], key: tuple[object, ...], h: Harness,
                    mm: Mm, layout: Layout,
                    build: Callable[[Harness, Mm, Layout], list[Vma]]) -> list[Vma]:
    """populate() by its replay; the first time for @key, @build (the
    model), watched, to make the replay."""
    replay = cache.get(key, _MISS)
    if replay is _MISS and len(cache) >= SNAPSHOTS_PER_PROGRAM:
        return build(h, mm, layout)
    if replay is _MISS:
        recorder = Recorder(populate_roles(h, mm), [layout])
        vmas = build(h, mm, layout)
        try:
            cache[key] = recorder.finish(vmas)
        except Uncacheable as why:
            cache[key] = why
        return vmas
    if isinstance(replay, Uncacheable):
        return build(h, mm, layout)
    made: list[Vma] = replay(populate_roles(h, mm))
    return made


def cached_layout(n: int, seed: int, dontcopy_every: int,
                  layout: LayoutKind) -> Layout:
    """:func:`~rcu_harness.scenarios.layouts.make_layout`, computed once per
    process and arguments (a fresh list each call), unless model patches
    are applied (a mutant could change the layout)."""
    if PATCHES.active:
        return make_layout(layout, n, seed=seed, dontcopy_every=dontcopy_every)
    key = (n, seed, dontcopy_every, layout)
    spans = _LAYOUTS.get(key)
    if spans is None:
        spans = _LAYOUTS[key] = tuple(make_layout(layout, n, seed=seed,
                                                  dontcopy_every=dontcopy_every))
    return list(spans)


_LAYOUTS: dict[tuple[int, int, int, LayoutKind], tuple[tuple[int, int, int], ...]] = {}
