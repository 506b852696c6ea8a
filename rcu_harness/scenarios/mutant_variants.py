"""Faulty variants of model functions for the reader-path mutants.

Each variant is the modelled kernel function with one realistic mistake;
:mod:`.mutants` swaps it in for a run (``maple/`` never carries mutant
code).  A variant made by :func:`with_globals` runs the original's code with
some of the names it calls rebound, so it stays in step with the model.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any

from maple import iterate, topiary, walk
from maple.defs import (
    MAPLE_NODE_SLOTS,
    ULONG_MAX,
    ma_active,
    ma_none,
    ma_root,
    ma_start,
)
from maple.node import MapleEnode, mte_dead_node
from maple.topiary import mt_destroy_walk
from rcu_harness.scenarios import vma as vma_model


def with_globals(fn: Any, doc: str, **names: Any) -> FunctionType:
    """@fn with the global @names rebound (inside it only)."""
    assert isinstance(fn, FunctionType)
    globs = dict(fn.__globals__)
    globs.update(names)
    out = FunctionType(fn.__code__, globs, fn.__name__, fn.__defaults__,
                       fn.__closure__)
    out.__doc__ = doc
    out.__qualname__ = fn.__qualname__
    return out


def _never_dead(_node: Any) -> bool:
    return False


def _no_rewalk(_mas: Any, _node: Any, _index: int) -> bool:
    return False


mas_prev_node_trusting = with_globals(
    iterate.mas_prev_node, "mas_prev_node() without the dead-node checks (mutant)",
    ma_dead_node=_never_dead, mte_dead_node=_never_dead)
mas_prev_slot_trusting = with_globals(
    iterate.mas_prev_slot, "mas_prev_slot() using slot values without "
    "re-checking for a dead node (mutant)",
    mas_rewalk_if_dead=_no_rewalk, mas_prev_node=mas_prev_node_trusting)


def mas_start_root_any_index(mas: Any) -> Any:
    """mas_start() returning a single-entry tree's root entry for any index
    (the ``mas->index > 0`` test dropped) (mutant)."""
    if mas.status != ma_start:
        return None
    mas.min = 0
    mas.max = ULONG_MAX
    while True:
        mas.depth = 0
        root = walk.mas_root(mas)
        if isinstance(root, MapleEnode):
            mas.depth = 1
            mas.status = ma_active
            mas.node = root
            mas.offset = 0
            if mte_dead_node(root):
                continue
            return None
        mas.node = None
        if root is None:
            mas.status = ma_none
            mas.offset = MAPLE_NODE_SLOTS
            return None
        mas.status = ma_root
        mas.offset = MAPLE_NODE_SLOTS
        return root


def mte_destroy_walk_at_once(enode: MapleEnode, mt: Any) -> None:
    """mte_destroy_walk() that frees the nodes at once even in RCU mode (mutant)."""
    mt_destroy_walk(enode, mt, True)


_modules_used = (topiary,)


def _no_wait(_w: Any, _cond: Any, _what: str) -> None:
    return None


def _free_now(obj: Any, func: Any) -> None:
    func(obj)


vma_enter_locked_no_drain = with_globals(
    vma_model.__vma_enter_locked, "__vma_enter_locked() adding VMA_LOCK_OFFSET "
    "without waiting for the readers to drain (mutant)",
    rcuwait_wait_event=_no_wait)
vm_area_free_at_once = with_globals(
    vma_model.vm_area_free, "vm_area_free() freeing at once instead of through "
    "call_rcu() (mutant)", call_rcu=_free_now)

_vma_modules_used = (vma_model,)
