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
thread outside any write operation, one dict look-up.  Per interleaved
load, the writer's write path comes from a two-level cache: the same
suspended top frame as last time (the writer has not run since), or the
same innermost model frame (it ran, but is still inside the same model
call); otherwise a walk outward that stops at the first store path or at
the first scenario frame.  Code objects are classified once.  Measured
with callgrind (instructions per execution) in ``rcu_transitions``, where
a quarter of the reader loads are interleaved with a write, the counting
costs about 9% of an execution; in ``dup_mmap`` about 1%; a program with
no ``h.writing()`` pays one truth test per load.

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

LEVELS = ("ma_root", "root", "internal", "leaf")

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
_MAPLE = os.path.dirname(os.path.abspath(maple.__file__)) + os.sep
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HARNESS_DIR = _PKG + os.sep
_MUTANTS = os.path.join(_PKG, "scenarios", "mutants.py")
_MAX_FRAMES = 64
_kinds: dict[int, tuple[CodeType, tuple[int, str] | None]] = {}
"""id(code) -> (code, its classification): code objects hash slowly, so the
cache is keyed by identity (the code object kept, so the id stays its own)."""


def node_level(node: Any) -> str:
    """``root``, ``internal`` or ``leaf``: where @node sits (raw words)."""
    if node._p & MA_ROOT_PARENT:
        return "root"
    return "leaf" if node.type < maple_range_64 else "internal"


def _classify(code: CodeType) -> tuple[int, str] | None:
    """A label, _MODEL, _HARNESS or None (scenario or test code)."""
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
        return (_MODEL, "")
    if path.startswith(_HARNESS_DIR) and \
            not path.startswith(os.path.join(_PKG, "scenarios") + os.sep):
        return (_HARNESS, "")
    return None


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


def _kind(code: CodeType) -> tuple[int, str] | None:
    known = _kinds.get(id(code))
    if known is None or known[0] is not code:
        known = _kinds[id(code)] = (code, _classify(code))
    return known[1]


def _walk(frame: FrameType | None) -> str:
    """Innermost first: the first store path or mas_wr_store_entry() wins;
    a phase is kept unless a store path encloses it.  The walk passes the
    harness's own frames (the scheduling point, the port) and the model's,
    and stops at the first other frame: scenario code, which no model
    function encloses."""
    phase = ""
    n = 0
    kinds = _kinds
    while frame is not None and n < _MAX_FRAMES:
        code = frame.f_code  # _kind(code), inline
        known = kinds.get(id(code))
        kind = known[1] if known is not None and known[0] is code else _kind(code)
        if kind is None:
            break
        if kind[0] == _STORE:
            return kind[1]
        if kind[0] == _ENTRY:
            return _entry_store_type(frame)
        if kind[0] == _PHASE and not phase:
            phase = kind[1]
        frame = frame.f_back
        n += 1
    return phase or "other"


def reader_load(metrics: Metrics, t: SimThread, node: Any, lock: Any) -> None:
    """Count @t's load of a word of @node (None: of ``ma_root``) if other
    threads are writing the tree @lock guards.

    The caller has checked that the tree @lock guards is being written and
    that @t is not inside a write operation itself.  (Hot when trees are written: the
    level test and the cache look-up are inlined.)
    """
    writers = metrics.writers.get(lock)
    if not writers or t.tid <= 0:
        return
    if node is None:
        level = "ma_root"
    elif node._p & MA_ROOT_PARENT:
        level = "root"
    else:
        level = "leaf" if node.type < maple_range_64 else "internal"
    cover = metrics.cover
    paths = metrics.paths
    for w in writers:
        glet = w.glet
        top = glet.gr_frame if glet is not None else None
        hit = paths.get(w.tid)
        if hit is not None and hit[0] is top:
            path = hit[2]
        else:
            inner = _past_harness(top)
            path = hit[2] if hit is not None and hit[1] is inner else _walk(inner)
            paths[w.tid] = (top, inner, path)
        key = (level, w.spans[-1].name if w.spans else "write", path)
        cover[key] = cover.get(key, 0) + 1


def _past_harness(frame: FrameType | None) -> FrameType | None:
    """The innermost frame of @frame's stack that is not the harness's own
    (the scheduling point, the port): the writer's innermost model frame.
    While it is the same frame object the writer is still inside that call
    (the cache holds it, so its identity cannot be reused), and its write
    path, which only the frames from there outward decide, is unchanged."""
    kinds = _kinds
    while frame is not None:
        code = frame.f_code  # _kind(code), inline
        known = kinds.get(id(code))
        kind = known[1] if known is not None and known[0] is code else _kind(code)
        if kind is None or kind[0] != _HARNESS:
            return frame
        frame = frame.f_back
    return None


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
