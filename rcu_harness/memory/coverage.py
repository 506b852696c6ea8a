"""Interleaving coverage: where a reader was while what write was in flight.

A lockless reader's load counts as *interleaved* with a write when another
thread is inside a write operation (``h.writing()``, ``t.write_ops``) on the
same tree at that moment.  The harness then counts the pair

* reader position: ``ma_root`` (the tree's root pointer), or the level of
  the node whose word it loaded: ``root``, ``internal`` or ``leaf``;
* writer operation: the writer's innermost open span (``writer.store``,
  ``writer.split``, ``dup_mmap.store``, ``exit_mmap``..., or ``write``) and
  the write path it is in, read from its suspended model call stack:
  the store type of lib/maple_tree.c (``wr_node_store``, ``wr_split_store``,
  ``wr_spanning_store``, ``wr_rebalance``, ``wr_append``, ``wr_slot_store``,
  ``wr_exact_fit``, ``wr_new_root``, ``wr_store_root``) once the store is
  being carried out, or the phase before or around it: ``walk`` (choosing
  the store type), ``prealloc`` (allocating nodes), ``destroy``, ``dup``,
  ``rcu_mode`` (``mt_set_in_rcu``/``mt_clear_in_rcu``), ``other``.

A thread that is itself inside a write operation is not counted as a
reader (in the 2021 dup_mmap(), fork walks the parent's tree while it
writes the child's, under the parent's mmap_lock: not a lockless reader).

Cost: nothing unless some tree is being written; then, per load by a
thread outside any write operation, one dict look-up.  An interleaved load
is counted per writer *state*, not on its own: a writer's span and write
path change only when it runs, so each writer keeps a record
(:func:`reader_load`) whose counts, per level, take every load while its
suspended top frame is the same frame object; the counts are kept per
(span, write path) and made into the pairs only when something reads
them (``Metrics.cover``: :func:`rcu_harness.runtime.metrics.collect` at
the end of an execution).  When the writer has run, the record starts
over: its write path comes from the same innermost model frame as before
(it ran, but is still inside the same model call), or from a walk outward
that stops at the first store path or at the first scenario frame.  Code
objects are classified once.  Measured with callgrind
(``stress/knockout.py``, the speed probe's executions, ninth round of
issue 17): an interleaved load costs about 1.8 k instructions, a record
started over about 13 k, most of it the walk; in ``rcu_transitions``,
where a quarter of the reader loads are interleaved with a write (about
300 an execution, 120 records started over, 85 walks of 4.5 frames), the
counting is 7.3% of an execution (9.5% counting each load on its own), in
``mmput_race`` 6.8% (8.7%), in ``dup_mmap`` nothing measurable; a program
with no ``h.writing()`` pays one truth test per load.  A walk's cost is
Python's, about 1.5 k instructions a frame (``f_code``, ``id()``, a
dictionary probe, ``f_back``), not the frames made into objects (under a
tenth of it); since the thirteenth round a record starts over in one function
(:func:`_moved`), 6.9% and 6.9%.  A memo of the walks (a frame's
outcome kept while it lives) met a kept frame after 1.6 frames instead
of 4.5, but cost as much as it saved or more (docs/performance.md,
*Thirteenth round*).

Not modelled: which *words* of a node the two threads touched (a pair says
only that the load happened during the write, on the same tree).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import maple
from maple.defs import MA_ROOT_PARENT, StoreType, maple_range_64

if TYPE_CHECKING:
    from types import CodeType, FrameType

    from rcu_harness.runtime.metrics import Metrics
    from rcu_harness.runtime.thread import SimThread


STORE_PATHS = {
    "mas_wr_spanning_store": "wr_spanning_store",
    "mas_wr_node_store": "wr_node_store",
    "mas_wr_slot_store": "wr_slot_store",
    "mas_wr_append": "wr_append",
    "mas_split": "wr_split_store",
    "mas_rebalance": "wr_rebalance",
    "mas_new_root": "wr_new_root",
    "mas_store_root": "wr_store_root",
    "mas_root_expand": "wr_store_root",
}
"""Model functions that carry out one store type (the outermost one wins)."""
PHASES = {
    "mas_wr_store_type": "walk",
    "mas_wr_walk": "walk",
    "mas_wr_prealloc_setup": "walk",
    "mas_alloc_nodes": "prealloc",
    "mas_preallocate": "prealloc",
    "mas_expected_entries": "prealloc",
    "mt_destroy_walk": "destroy",
    "mas_destroy": "destroy",
    "__mt_destroy": "destroy",
    "mas_dup_build": "dup",
    "__mt_dup": "dup",
    "mt_set_in_rcu": "rcu_mode",
    "mt_clear_in_rcu": "rcu_mode",
}
"""Model functions around a store (the innermost one wins)."""
ENTRY = "mas_wr_store_entry"
_STORE = 1
_PHASE = 2
_ENTRY = 3
_MODEL = 4
_HARNESS = 5
_OTHER = 6
_MAPLE = os.path.dirname(os.path.abspath(maple.__file__)) + os.sep
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HARNESS_DIR = _PKG + os.sep
_MUTANTS = os.path.join(_PKG, "scenarios", "mutants.py")
_MAX_FRAMES = 64
_kinds: dict[int, tuple[int, str]] = {}
"""id(code) -> its classification: code objects hash slowly, so the cache
is keyed by identity; every code object classified is kept (``_codes``),
so an id stays its own."""
_codes: list[CodeType] = []
_MODEL_KIND = (_MODEL, "")
_HARNESS_KIND = (_HARNESS, "")
_OTHER_KIND = (_OTHER, "")
"""The label-less classifications, one object each (compared by identity)."""
_NO_FRAME = object()
"""A writer record's top frame when the writer has none: matches no frame."""


def node_level(node: Any) -> str:
    """``root``, ``internal`` or ``leaf``: where @node sits (raw words)."""
    if node._p & MA_ROOT_PARENT:
        return "root"
    return "leaf" if node.type < maple_range_64 else "internal"


def _classify(code: CodeType) -> tuple[int, str]:
    """A label, _MODEL, _HARNESS or _OTHER (scenario or test code)."""
    name = code.co_name
    if name == ENTRY:
        return (_ENTRY, "")
    if name in STORE_PATHS:
        return (_STORE, STORE_PATHS[name])
    if name in PHASES:
        return (_PHASE, PHASES[name])
    path = os.path.abspath(code.co_filename)
    model = path.startswith(_MAPLE) or path == _MUTANTS
    for fn, label in STORE_PATHS.items():  # a mutant's variant: fn_<suffix>
        if name.startswith(fn + "_") and path == _MUTANTS:
            return (_STORE, label)
    if model:
        return _MODEL_KIND
    if path.startswith(_HARNESS_DIR) and \
            not path.startswith(os.path.join(_PKG, "scenarios") + os.sep):
        return _HARNESS_KIND
    return _OTHER_KIND


def _entry_store_type(frame: FrameType) -> str:
    """The store type mas_wr_store_entry() dispatches on (its wr_mas)."""
    wr_mas = frame.f_locals.get("wr_mas")
    try:
        return StoreType(wr_mas.mas.store_type).name  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        return "other"


def write_path(w: SimThread) -> str:
    """What writer @w is doing, from its suspended call stack."""
    glet = w.glet
    return _walk(glet.gr_frame if glet is not None else None)


def _kind(code: CodeType) -> tuple[int, str]:
    known = _kinds.get(id(code))
    if known is None:
        _codes.append(code)
        known = _kinds[id(code)] = _classify(code)
    return known


def _walk(frame: FrameType | None) -> str:
    """Innermost first: the first store path or mas_wr_store_entry() wins;
    a phase is kept unless a store path encloses it.  The walk passes the
    harness's own frames (the scheduling point, the port) and the model's,
    and stops at the first other frame: scenario code, which no model
    function encloses."""
    if frame is None:
        return "other"
    try:  # _kind(code), inline
        kind = _kinds[id(frame.f_code)]
    except KeyError:
        kind = _kind(frame.f_code)
    return _walk_on(frame, kind)


_CAP = range(_MAX_FRAMES)
"""A walk's frames, at most (a range object, made once: its loop counts
in C)."""


def _walk_on(frame: FrameType, kind: tuple[int, str]) -> str:
    """:func:`_walk` from @frame, whose classification @kind is known."""
    phase = ""
    kinds = _kinds
    model = _MODEL_KIND
    harness = _HARNESS_KIND
    for _ in _CAP:
        if kind is not model and kind is not harness:
            k = kind[0]
            if k == _OTHER:
                break
            if k == _STORE:
                return kind[1]
            if k == _ENTRY:
                return _entry_store_type(frame)
            if not phase:  # a phase
                phase = kind[1]
        back = frame.f_back
        if back is None:
            break
        frame = back
        try:  # _kind(code), inline
            kind = kinds[id(frame.f_code)]
        except KeyError:
            kind = _kind(frame.f_code)
    return phase or "other"


def reader_load(metrics: Metrics, t: SimThread, node: Any, lock: Any) -> None:
    """Count @t's load of a word of @node (None: of ``ma_root``) if other
    threads are writing the tree @lock guards.

    The caller has checked that the tree @lock guards is being written and
    that @t is not inside a write operation itself.

    Each writer has a *record* (``w.cover``: its suspended top frame, the
    counts of its span and write path, its innermost model frame, its write
    path, its span).  While its top frame is the same frame object as the
    record's, the writer has not run (the record holds the frame, so its
    identity cannot be reused), so its span and write path are the
    record's: the load adds one to the record's counts, at its level.
    Otherwise :func:`_moved` starts the record over.  (Hot when trees are
    written: a level, a frame and a count per load.)
    """
    writers = metrics.writers.get(lock)
    if not writers or t.tid <= 0:
        return
    if node is None:
        i = 0  # metrics.LEVELS.index("ma_root")
    elif node._p & MA_ROOT_PARENT:
        i = 1  # root
    elif node.type < maple_range_64:
        i = 3  # leaf
    else:
        i = 2  # internal
    for w in writers:
        glet = w.glet
        top = glet.gr_frame if glet is not None else None
        rec = w.cover
        if rec is not None and rec[0] is top:
            rec[1][i] += 1
        else:
            _moved(metrics, w, top, i)


def _moved(metrics: Metrics, w: SimThread, top: FrameType | None, i: int) -> None:
    """Writer @w ran since its record was started (or has none, or no
    frame): start the record over at its state now and count the load of
    level index @i.  Its write path comes from its innermost frame that is
    not the harness's own (the scheduling point, the port), i.e. its
    innermost model frame: the record's path if that is the record's
    innermost model frame (the writer is still inside the same model call:
    the record holds the frame, so its identity cannot be reused, and only
    the frames from there outward decide the path), else :func:`_walk`'s
    from it.  Its span is read now, and its counts are those of its (span,
    write path) in ``metrics.counts``, shared by every record of that
    pair; a writer without a frame (not started, finished, or an OS thread
    of the thread driver) starts over at every load."""
    rec = w.cover
    span = w.spans[-1].name if w.spans else "write"
    inner: FrameType | None = top
    kind = _OTHER_KIND
    kinds = _kinds
    harness = _HARNESS_KIND
    while inner is not None:  # past the harness's own frames
        try:  # _kind(code), inline
            kind = kinds[id(inner.f_code)]
        except KeyError:
            kind = _kind(inner.f_code)
        if kind is not harness:
            break
        inner = inner.f_back
    if rec is not None:
        if inner is rec[2]:
            path = rec[3]
        elif inner is None:
            rec[2] = None
            path = "other"
        else:
            rec[2] = inner
            path = _walk_on(inner, kind)
        rec[0] = top if top is not None else _NO_FRAME
        if path == rec[3] and span == rec[4]:  # the same pair: the same counts
            rec[1][i] += 1
            return
        rec[3] = path
        rec[4] = span
        rec[1] = counts = _pair_counts(metrics, span, path)
    else:
        path = _walk_on(inner, kind) if inner is not None else "other"
        counts = _pair_counts(metrics, span, path)
        # Whole before it is published: under the thread driver another OS
        # thread may read w.cover at any bytecode.
        w.cover = [top if top is not None else _NO_FRAME, counts, inner, path,
                   span]
    counts[i] += 1


def _pair_counts(metrics: Metrics, span: str, path: str) -> list[int]:
    """The counts per level of (@span, @path), shared by its records."""
    counts = metrics.counts.get((span, path))
    if counts is None:
        counts = metrics.counts.setdefault((span, path), [0, 0, 0, 0])
    return counts


def writer_enter(metrics: Metrics, lock: Any, t: SimThread) -> None:
    """@t starts a write operation on the tree @lock guards."""
    metrics.writers.setdefault(lock, []).append(t)


def writer_exit(metrics: Metrics, lock: Any, t: SimThread) -> None:
    """@t completed its write operation on the tree @lock guards."""
    writers = metrics.writers.get(lock)
    if writers is not None and t in writers:
        writers.remove(t)
        if not writers:
            del metrics.writers[lock]
