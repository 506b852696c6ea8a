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

Cost: nothing unless some thread is inside a write operation; then one dict
look-up per reader load, and for an interleaved load one walk over the
writer's frames (code objects are classified once and cached).

Not modelled: which *words* of a node the two threads touched (a pair says
only that the load happened during the write, on the same tree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
_MAX_FRAMES = 64
_kinds: dict[CodeType, tuple[int, str] | None] = {}


def node_level(node: Any) -> str:
    """``root``, ``internal`` or ``leaf``: where @node sits (raw words)."""
    if node._p & MA_ROOT_PARENT:
        return "root"
    return "leaf" if node.type < maple_range_64 else "internal"


def _classify(code: CodeType) -> tuple[int, str] | None:
    name = code.co_name
    if name == ENTRY:
        return (_ENTRY, "")
    if name in STORE_PATHS:
        return (_STORE, STORE_PATHS[name])
    if name in PHASES:
        return (_PHASE, PHASES[name])
    for fn, label in STORE_PATHS.items():  # a mutant's variant: fn_<suffix>
        if name.startswith(fn + "_") and "/maple/" not in code.co_filename:
            return (_STORE, label)
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
    frame: FrameType | None = glet.gr_frame if glet is not None else None
    store = phase = ""
    entry: FrameType | None = None
    n = 0
    while frame is not None and n < _MAX_FRAMES:
        code = frame.f_code
        try:
            kind = _kinds[code]
        except KeyError:
            kind = _kinds[code] = _classify(code)
        if kind is not None:
            if kind[0] == _STORE:
                store = kind[1]
            elif kind[0] == _PHASE:
                phase = phase or kind[1]
            elif entry is None:
                entry = frame
        frame = frame.f_back
        n += 1
    if store:
        return store
    if entry is not None:
        return _entry_store_type(entry)
    return phase or "other"


def reader_load(metrics: Metrics, t: SimThread, level: str, lock: Any) -> None:
    """Count @t's load at @level if others are writing the tree @lock guards."""
    writers = metrics.writers.get(lock)
    if not writers or t.tid <= 0 or t in writers:
        return
    for w in writers:
        span = w.spans[-1].name if w.spans else "write"
        metrics.covered(level, span, write_path(w))


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
