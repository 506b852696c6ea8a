"""A fast pass over a maple tree that proves what mt_validate() would find.

``maple.mt_validate()`` is the kernel's validator, modelled function for
function: a ``ma_state`` walks every node (the leaves left to right, then
each level above) through ``mas_next_node()``, ``mas_prev_node()`` and
``mas_ascend()``, reading every word through the port.  It runs after each
write operation of every execution, and with the tree's nodes in their
quiet view its cost is the model's own logic (9 to 13% of an execution).

:func:`tree_is_valid` is a second implementation of the same checks,
written for speed: one recursive walk over the node graph, reading each
node's words once as plain lists (``list.copy``, in C, never through the
instrumented arrays: no scheduling point, event or check can happen).  It
answers only *yes, valid* (then mt_validate() would have passed without
reading anything but these words) or *not sure* (anything it does not
understand, any check that fails, any exception): the checker then runs
the model's mt_validate() as before, which finds and words the failure
exactly as it always did.  So it must be at least as strict as
mt_validate() and never stricter in a way that matters: where in doubt it
says *not sure*.  Beyond mt_validate()'s own checks (the ``mas_validate_*``
functions, the occupancy and dead-node tests, ``mt_validate_nulls()``) it
also demands what mt_validate()'s walk takes for granted, so that the walk
visits exactly the nodes and ranges checked here: all leaves at one depth,
the root bit on the root alone, each child's parent word naming the node
that holds it, with its slot and the parent's type, every node a live
plain instrumented node (a freed one is left to mt_validate(), which
reports the use after free).

:class:`~rcu_harness.checks.validate.MtValidateCheck` uses it only where
skipping the model's walk cannot change anything else: no access hook and
no memory model (whose loads and barriers have effects), the checker's
validator being ``maple.mt_validate`` itself with every model function it
reaches unpatched (a mutant may swap one: :class:`Unpatched`).
``tests/checks/test_fast_validate.py`` runs both on every write of both
designs of each default scenario, on the corrupted trees of
``tests/maple/test_validate.py`` and on randomly corrupted ones.
"""

from __future__ import annotations

import types
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from maple.defs import (
    MAPLE_PARENT_RANGE64,
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    maple_arange_64,
    maple_leaf_64,
    maple_range_64,
    mt_min_slots,
    mt_pivots,
    mt_slots,
)
from maple.node import MapleEnode, MapleMetadata, MapleNode
from rcu_harness.memory.heap import FREED
from rcu_harness.memory.maple_node import RawSimMapleNode, SimMapleNode

if TYPE_CHECKING:
    from collections.abc import Callable

_lcopy: Callable[[Any], list[Any]] = list.copy
_p, _m = attrgetter("_p"), attrgetter("_m")
VIEWS: dict[type, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    SimMapleNode: (_p, _m), RawSimMapleNode: (_p, _m)}
"""Node classes the pass reads, each with its raw parent and meta loads:
the plain instrumented classes (not the hooked ones)."""
WITH_PLAIN = {**VIEWS, MapleNode: (attrgetter("parent"), attrgetter("meta"))}
"""Also the model's own nodes (a tree outside any execution: tests)."""
_ADDR_MASK = ~0xFF
_TYPES = frozenset({maple_leaf_64, maple_range_64, maple_arange_64})


class _NotSure(Exception):
    """Leave this tree to mt_validate()."""


def _meta_end(meta: object) -> int:
    """ma_meta_end() of a metadata word (MapleCorruption there: not sure)."""
    if meta is None:
        return 0
    if type(meta) is MapleMetadata:
        return meta.end
    raise _NotSure


def _data_end(meta: Any, t: int, pivots: list[Any], slots: list[Any],
              mx: int) -> int:
    """mas_data_end() of a live node (@meta: its meta word)."""
    if t == maple_arange_64:
        return _meta_end(meta)
    offset = mt_pivots[t] - 1
    piv = pivots[offset]
    if not piv:
        return _meta_end(slots[-1])
    if piv == mx:
        return offset
    return mt_pivots[t]


def _limits(t: int, pivots: list[Any], slots: list[Any], mn: int, mx: int,
            end: int) -> None:
    """mas_validate_limits()."""
    nslots, npiv = mt_slots[t], mt_pivots[t]
    prev = i = 0
    while i < nslots:
        piv = mx if i >= npiv else pivots[i]
        if (not piv and i != 0) or prev > piv or piv < mn or piv > mx:
            raise _NotSure
        prev = piv
        if piv == mx:
            break
        i += 1
    if end != i:
        raise _NotSure
    for j in range(i + 1, nslots):
        if slots[j] is not None and j != nslots - 1:
            raise _NotSure
        if j < npiv - 1 and pivots[j]:
            raise _NotSure


def _gaps(node: Any, meta: Any, t: int, pivots: list[Any], slots: list[Any],
          mn: int, mx: int) -> int:
    """mas_validate_gaps() up to the parent's check: the largest gap."""
    gaps = _lcopy(node.gap) if t == maple_arange_64 else None
    gap = max_gap = 0
    p_start = mn
    nslots, npiv = mt_slots[t], mt_pivots[t]
    i = 0
    while i < nslots:
        p_end = mx if i >= npiv else pivots[i]
        if gaps is None:
            if slots[i] is None:
                gap = p_end - p_start + 1
        else:
            gap = gaps[i]
            if slots[i] is None or gap > p_end - p_start + 1:
                raise _NotSure
        if gap > max_gap:
            max_gap = gap
        p_start = (p_end + 1) & ULONG_MAX
        if p_end >= mx:
            break
        i += 1
    if gaps is not None:
        if meta is not None and type(meta) is not MapleMetadata:
            raise _NotSure
        offset = meta.gap if meta is not None else 0
        if offset > i or gaps[offset] != max_gap or any(gaps[i + 1:nslots]):
            raise _NotSure
    return max_gap


def _parent_ok(walk: _Walk, enode: MapleEnode, node: Any, parent: int,
               up: tuple[Any, ...], max_gap: int) -> None:
    """mas_validate_parent_slot(), the child-slot checks of mas_validate_
    child_slot() and the parent's side of mas_validate_gaps(), for the
    child @enode in slot ``up[2]`` of ``up[0]`` (of type ``up[1]``)."""
    p_node, p_type, p_slot, mx = up
    if parent & 1:  # a root bit below the root: mt_validate()'s walk stops
        raise _NotSure
    shift = 3 if parent & 2 else 2
    bits = parent & 0xFF
    bits &= ~(0xF8 if bits & 2 else 0xFC)
    want = (maple_arange_64 if walk.alloc else maple_range_64) \
        if bits == MAPLE_PARENT_RANGE64 else 0
    if ((parent & 0xFC) >> shift != p_slot or want != p_type
            or node.heap.get(parent & _ADDR_MASK) is not p_node or node is p_node):
        raise _NotSure
    p_slots = _lcopy(p_node.slot)[:mt_slots[p_type]]
    if p_slots.count(enode) != 1 or not p_slots[p_slot] == enode:
        raise _NotSure
    if walk.alloc and (max_gap > mx or p_type != maple_arange_64
                       or _lcopy(p_node.gap)[p_slot] != max_gap):
        raise _NotSure


class _Walk:
    """One pass over a tree."""

    __slots__ = ("alloc", "entries", "leaf_depth", "views")

    def __init__(self, alloc: bool, views: dict[type, Any]) -> None:
        self.alloc = alloc
        self.views = views
        self.leaf_depth = 0
        self.entries: list[Any] = []
        """The leaves' entries, left to right (for mt_validate_nulls())."""

    def visit(self, enode: Any, mn: int, mx: int, depth: int,
              up: tuple[Any, ...] | None) -> None:
        """Check the node @enode spanning [@mn, @mx] and its subtree."""
        if type(enode) is not MapleEnode:
            raise _NotSure
        node: Any = enode[0]
        t: int = enode[1]
        view = self.views.get(type(node))
        if view is None or getattr(node, "_w", 0) & FREED or t not in _TYPES:
            raise _NotSure
        parent, meta = view[0](node), view[1](node)
        if (parent & _ADDR_MASK) == node.addr:  # dead
            raise _NotSure
        pivots, slots = _lcopy(node.pivot), _lcopy(node.slot)
        end = _data_end(meta, t, pivots, slots, mx)
        if end < mt_min_slots[t] and mx != ULONG_MAX:
            raise _NotSure
        _limits(t, pivots, slots, mn, mx, end)
        max_gap = _gaps(node, meta, t, pivots, slots, mn, mx) if self.alloc else 0
        if up is None:
            if not parent & 1:
                raise _NotSure
        else:
            _parent_ok(self, enode, node, parent, up, max_gap)
        if t < maple_range_64:
            if self.leaf_depth != depth:
                if self.leaf_depth:
                    raise _NotSure
                self.leaf_depth = depth
            self.entries += slots[:end + 1]
            return
        npiv = mt_pivots[t]
        for k in range(end + 1):
            cmin = mn if not k else (pivots[k - 1] + 1) & ULONG_MAX
            cmax = pivots[k] if k < npiv else mx
            self.visit(slots[k], cmin, cmax, depth + 1, (node, t, k, cmax))


def tree_is_valid(mt: Any, views: dict[type, Any] = VIEWS) -> bool:
    """True if mt_validate(@mt) would pass, reading only what is read here;
    False if not sure (then run mt_validate()).  @views: the node classes
    read (:data:`VIEWS`, or :data:`WITH_PLAIN`)."""
    root = mt.ma_root
    if not isinstance(root, MapleEnode):
        return True  # mas_start(): not active, nothing to validate
    try:
        walk = _Walk(bool(mt.ma_flags & MT_FLAGS_ALLOC_RANGE), views)
        walk.visit(root, 0, ULONG_MAX, 1, None)
    except Exception:
        return False
    last: object = 1
    for entry in walk.entries:  # mt_validate_nulls()
        if last is None and entry is None:
            return False
        last = entry
    return True


def _reached(fn: Callable[..., Any]) -> list[tuple[dict[str, Any], str, Any]]:
    """Every (module globals, name, function) of ``maple`` that @fn reaches."""
    out: dict[tuple[int, str], tuple[dict[str, Any], str, Any]] = {}
    seen: set[Any] = set()
    todo = [fn]
    while todo:
        f = todo.pop()
        codes = [f.__code__]
        while codes:
            code = codes.pop()
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
            for name in code.co_names:
                value = f.__globals__.get(name)
                if isinstance(value, types.FunctionType) and \
                        value.__module__.startswith("maple"):
                    out[id(f.__globals__), name] = (f.__globals__, name, value)
                    if value not in seen:
                        seen.add(value)
                        todo.append(value)
    return list(out.values())


class Unpatched:
    """Is the model's mt_validate() running its own code? (A mutant may
    have swapped a model function it calls for a variant.)"""

    def __init__(self, validate: Callable[..., Any]) -> None:
        self.reached = _reached(validate)
        self.ok = all(v.__module__.startswith("maple") for _, _, v in self.reached)

    def __call__(self) -> bool:
        """True while every function mt_validate() reaches is the original."""
        return self.ok and all(g.get(name) is v for g, name, v in self.reached)
