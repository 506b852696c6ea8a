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

Each node's own checks (mas_data_end() and the occupancy test,
mas_validate_limits(), mas_validate_gaps() but for the parent's side, and
for a leaf mt_validate_nulls() within it: :func:`_checks`) read nothing but
the node's pivots, which of its slots are None, its last slot and metadata
word as metadata, its gaps, its range and the tree's allocation flag.
Their answer is kept in :data:`MEMO` under exactly those inputs (the key
made in :meth:`_Walk.visit`: with the types of the numbers, as 5.0 == 5
but not in every use), so a node whose inputs passed before (the
same node after a write elsewhere in the tree, or an equal node of another
execution) is not checked again: the same answer, since the checks are a
function of the key (a failing check is never kept).  Every node is still
visited: its type, poison, dead mark, parent word, its slot in the parent
and the leaf depth are checked every time, and where two leaves meet
that they do not both hold NULL there.  ``tree_is_valid(mt, memo=False)``, or
:data:`MEMO` set to None, runs the full pass.

:class:`~rcu_harness.checks.validate.MtValidateCheck` uses it only where
skipping the model's walk cannot change anything else: no access hook and
no memory model (whose loads and barriers have effects), the checker's
validator being ``maple.mt_validate`` itself with every model function it
reaches unpatched (a mutant may swap one: :class:`Unpatched`).
``tests/checks/test_fast_validate.py`` runs both on every write of both
designs of each default scenario, on the corrupted trees of
``tests/maple/test_validate.py`` and on randomly corrupted ones, and the
memoized pass beside the full pass on random histories (corruptions made
and undone), on every write of an execution of each mutant and on
corruptions of a tree whose valid nodes are in the memo.
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
_pm = attrgetter("_p", "_m")
VIEWS: dict[type, Callable[[Any], tuple[Any, Any]]] = {
    SimMapleNode: _pm, RawSimMapleNode: _pm}
"""Node classes the pass reads, each with its raw (parent, meta) load:
the plain instrumented classes (a passive hook keeps them; the hooked ones
are a memory model's or reads-from coverage's, under which the pass never
runs: :meth:`rcu_harness.checks.validate.MtValidateCheck._fast_ok`)."""
WITH_PLAIN = {**VIEWS, MapleNode: attrgetter("parent", "meta")}
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


def _gaps(gaps: list[Any] | None, meta: Any, t: int, pivots: list[Any],
          slots: list[Any], mn: int, mx: int) -> int:
    """mas_validate_gaps() up to the parent's check: the largest gap
    (@gaps: the node's gap words if it is an arange64 node, else None)."""
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


def _checks(t: int, meta: Any, pivots: list[Any], slots: list[Any],
            gaps: list[Any] | None, mn: int, mx: int, alloc: bool,
            ) -> Known:
    """The checks of one node that read nothing but its own words and its
    range: mas_data_end() and the occupancy test, mas_validate_limits(), and
    mas_validate_gaps() up to the parent's check (if @alloc).  Returns
    (data end, largest gap, a leaf's NULLs: :func:`_nulls`); raises if not
    sure."""
    end = _data_end(meta, t, pivots, slots, mx)
    if end < mt_min_slots[t] and mx != ULONG_MAX:
        raise _NotSure
    _limits(t, pivots, slots, mn, mx, end)
    return (end, _gaps(gaps, meta, t, pivots, slots, mn, mx) if alloc else 0,
            _nulls(slots[:end + 1]) if t < maple_range_64 else None)


def _nulls(entries: list[Any]) -> tuple[bool, bool] | None:
    """mt_validate_nulls() within one leaf's @entries (its slots up to the
    data end): None if two of them in a row are NULL, else whether the
    first and the last one are (what the leaves on either side meet)."""
    last: object = 1
    for entry in entries:
        if last is None and entry is None:
            return None
        last = entry
    return entries[0] is None, last is None


Known = tuple[int, int, "tuple[bool, bool] | None"]
"""What :func:`_checks` finds of a node: its data end, its largest gap and,
for a leaf, its NULLs (:func:`_nulls`)."""


_OTHER = object()
"""A metadata word or last slot that is neither None nor a MapleMetadata,
in a memo key: :func:`_checks` treats every such value alike (not sure
wherever it reads one)."""
MEMO_LIMIT = 4096
"""Entries the memo of :func:`_checks` holds before it starts again (a few
megabytes: a key is a few tuples of the node's words)."""
MEMO: dict[tuple[Any, ...], Known] | None = {}
"""The results of :func:`_checks` by their inputs (the key is made in
:meth:`_Walk.visit`), shared by every pass; None forces the full pass
(every node checked)."""


def _word_key(word: Any) -> Any:
    """A metadata word (or a last slot) as :func:`_checks` reads it: None;
    a MapleMetadata of int fields as the pair of them (hashed and compared
    in C, not by the dataclass's Python methods); :data:`_OTHER` for
    anything else but a MapleMetadata; raises TypeError for a MapleMetadata
    of other fields (5.0 == 5, but a slice to 5.0 raises: no key)."""
    if word is None:
        return None
    if type(word) is not MapleMetadata:
        return _OTHER
    end, gap = word.end, word.gap
    if type(end) is int and type(gap) is int:
        return (end, gap)
    raise TypeError(word)


class _Walk:
    """One pass over a tree."""

    __slots__ = ("after_null", "alloc", "leaf_depth", "memo", "views")

    def __init__(self, alloc: bool, views: dict[type, Any],
                 memo: dict[tuple[Any, ...], Known] | None) -> None:
        self.alloc = alloc
        self.views = views
        self.memo = memo
        self.leaf_depth = 0
        self.after_null = False
        """Was the last entry of the leaves so far NULL?  (mt_validate_nulls()
        over the leaves' entries, left to right: each leaf's own from its
        checks, :func:`_nulls`, and where two leaves meet here.)"""

    def visit(self, enode: Any, mn: int, mx: int, depth: int, p_node: Any,
              p_type: int, p_slot: int, p_slots: list[Any],
              p_gaps: list[Any] | None) -> None:
        """Check the node @enode spanning [@mn, @mx] and its subtree: in
        slot @p_slot of @p_node (None for the root), of type @p_type, whose
        first ``mt_slots[p_type]`` slots are @p_slots and gaps @p_gaps."""
        if type(enode) is not MapleEnode:
            raise _NotSure
        node: Any = enode[0]
        t: int = enode[1]
        view = self.views.get(type(node))
        if view is None or getattr(node, "_w", 0) & FREED or t not in _TYPES:
            raise _NotSure
        parent, meta = view(node)
        if (parent & _ADDR_MASK) == node.addr:  # dead
            raise _NotSure
        pivots, slots = _lcopy(node.pivot), _lcopy(node.slot)
        gaps = _lcopy(node.gap) if t == maple_arange_64 else None
        alloc = self.alloc
        memo = self.memo
        known: Known | None
        if memo is None:
            known = _checks(t, meta, pivots, slots, gaps, mn, mx, alloc)
        else:
            key: tuple[Any, ...] | None
            # The key: everything _checks() reads.  The pivots and the limits
            # with their types (5.0 == 5, but (5.0 + 1) & ULONG_MAX raises);
            # of the slots only which are None (all it asks of them; a slot's
            # type says it) and the last one as mas_data_end() reads it; the
            # metadata word (_word_key()); the gaps (only compared, and the
            # largest returned: with their types too).  TypeError where no
            # key can stand for the inputs.
            try:
                last = slots[-1]
                meta_key = None if meta is None else _word_key(meta)
                last_key = None if last is None else _word_key(last)
                if alloc and gaps is not None:
                    key = (t, mn, type(mn), mx, type(mx), alloc, meta_key, last_key,
                           tuple(pivots), tuple(gaps),
                           tuple(map(type, pivots + slots + gaps)))
                else:
                    key = (t, mn, type(mn), mx, type(mx), alloc, meta_key, last_key,
                           tuple(pivots), None, tuple(map(type, pivots + slots)))
                known = memo.get(key)
            except TypeError:  # no key stands for these words: check them
                key, known = None, None
            if known is None:
                known = _checks(t, meta, pivots, slots, gaps, mn, mx, alloc)
                if key is not None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    memo[key] = known
        end, max_gap, nulls = known
        if p_node is None:
            if not parent & 1:
                raise _NotSure
        else:  # mas_validate_parent_slot(), the child-slot checks of
            # mas_validate_child_slot(), the parent's side of mas_validate_gaps()
            if parent & 1:  # a root bit below the root: mt_validate()'s walk stops
                raise _NotSure
            bits = parent & 0xFF
            if bits & 2:
                shift = 3
                bits &= ~0xF8
            else:
                shift = 2
                bits &= ~0xFC
            want = (maple_arange_64 if alloc else maple_range_64) \
                if bits == MAPLE_PARENT_RANGE64 else 0
            if ((parent & 0xFC) >> shift != p_slot or want != p_type
                    or node.heap.get(parent & _ADDR_MASK) is not p_node
                    or node is p_node):
                raise _NotSure
            if p_slots.count(enode) != 1 or not p_slots[p_slot] == enode:
                raise _NotSure
            if alloc and (max_gap > mx or p_type != maple_arange_64
                          or p_gaps[p_slot] != max_gap):  # type: ignore[index]
                raise _NotSure
        if t < maple_range_64:
            if self.leaf_depth != depth:
                if self.leaf_depth:
                    raise _NotSure
                self.leaf_depth = depth
            if nulls is None or (nulls[0] and self.after_null):
                raise _NotSure  # mt_validate_nulls(): two NULLs in a row
            self.after_null = nulls[1]
            return
        npiv = mt_pivots[t]
        mine = slots[:mt_slots[t]]
        depth += 1
        cmin = mn
        for k in range(end + 1):
            if k:
                cmin = (pivots[k - 1] + 1) & ULONG_MAX
            cmax = pivots[k] if k < npiv else mx
            self.visit(slots[k], cmin, cmax, depth, node, t, k, mine, gaps)


def tree_is_valid(mt: Any, views: dict[type, Any] = VIEWS,
                  memo: bool = True) -> bool:
    """True if mt_validate(@mt) would pass, reading only what is read here;
    False if not sure (then run mt_validate()).  @views: the node classes
    read (:data:`VIEWS`, or :data:`WITH_PLAIN`).  @memo: take each node's
    own checks from :data:`MEMO` where the same inputs passed before (the
    same answer: they read nothing else); False (or :data:`MEMO` None)
    checks every node (the full pass)."""
    root = mt.ma_root
    if not isinstance(root, MapleEnode):
        return True  # mas_start(): not active, nothing to validate
    try:
        walk = _Walk(bool(mt.ma_flags & MT_FLAGS_ALLOC_RANGE), views,
                     MEMO if memo else None)
        walk.visit(root, 0, ULONG_MAX, 1, None, 0, 0, [], None)
    except Exception:
        return False
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
        by_module: dict[int, tuple[dict[str, Any], list[str], list[Any]]] = {}
        for g, name, v in self.reached:
            names, values = by_module.setdefault(id(g), (g, [], []))[1:]
            names.append(name)
            values.append(v)
        self.groups = [(g, tuple(names), tuple(values))
                       for g, names, values in by_module.values()]
        """The same (globals, names, functions) a module at a time: a
        module's names looked up and compared in C (a function equals only
        itself, so ``==`` on the tuples is ``is`` on each pair)."""

    def __call__(self) -> bool:
        """True while every function mt_validate() reaches is the original."""
        return self.ok and all(tuple(map(g.get, names)) == values
                               for g, names, values in self.groups)
