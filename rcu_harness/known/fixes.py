"""Candidate fixes of known kernel bugs, for the model and for the C code.

A :class:`KernelFix` is selected by name: ``--set kernel_fixes=NAME[,NAME]``
for any scenario (stored with the run, so replays apply it too),
``--kernel-fix NAME`` for the oracle.  On the model side it is a set of
function patches applied for the duration of a run by the same swapping
that applies mutants (:func:`rcu_harness.patches.patched`), so
``maple/`` stays a faithful model of the pinned kernel.  On the C side it is
a list of exact text substitutions of ``lib/maple_tree.c``, each of which
must match once; the oracle builds a driver variant from the patched copy.
A fix outside lib/maple_tree.c (``maps-restart-at-last-addr``, in
mm/mmap_lock.c) has neither: the scenario code that models the fixed
function asks ``cfg.fixes`` for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maple import iterate, rebalance
from maple.defs import ma_active, ma_overflow, ma_start, ma_underflow
from maple.node import ma_dead_node
from maple.state import MaState, mas_is_none, mas_is_overflow, mas_is_ptr
from maple.walk import mas_rewalk, mas_rewalk_if_dead
from rcu_harness.known import fix_rebalance
from rcu_harness.patches import Patch

if TYPE_CHECKING:
    from maple.node import MapleNode


class FixError(ValueError):
    """An unknown fix name, or a C patch that does not apply (one line)."""


@dataclass(frozen=True, slots=True)
class CPatch:
    """Replace @old by @new in lib/maple_tree.c (@old must occur once)."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class KernelFix:
    """A candidate fix of a known kernel bug."""

    name: str
    summary: str
    patches: tuple[Patch, ...]
    """The model side (function swaps, as for mutants)."""
    c_patches: tuple[CPatch, ...]
    """The C side (substitutions in lib/maple_tree.c)."""


# -- rewalk-no-node: mas_next_slot()/mas_prev_slot() after a rewalk into a tree
#    without nodes -----------------------------------------------------------


class _RewalkFoundNoNode(Exception):
    """mas_rewalk() left the state none or root-pointer: return NULL."""


def mas_rewalk_fixed(mas: MaState, index: int) -> None:
    """mas_rewalk(), then leave the caller when the tree has no node left.

    Models the fix at the ``retry:`` label of mas_next_slot() and
    mas_prev_slot(): ``if (unlikely(mas_is_none(mas) || mas_is_ptr(mas)))
    return NULL;``.  Every ``goto retry`` of both functions follows a
    mas_rewalk(), and nothing else reaches the label with such a state.
    """
    mas_rewalk(mas, index)
    if mas_is_none(mas) or mas_is_ptr(mas):
        raise _RewalkFoundNoNode


def mas_rewalk_if_dead_fixed(mas: MaState, node: MapleNode, index: int) -> bool:
    """mas_rewalk_if_dead() through :func:`mas_rewalk_fixed`."""
    if ma_dead_node(node):
        mas_rewalk_fixed(mas, index)
        return True
    return False


_ORIGINAL = {"next": iterate.mas_next_slot, "prev": iterate.mas_prev_slot}
"""The faithful functions the wrappers call (in a dict: patching swaps every
module global that refers to an original, and must not swap these)."""


def mas_next_slot_fixed(mas: MaState, max: int, empty: bool) -> Any:
    """mas_next_slot() returning NULL after a rewalk found no node."""
    try:
        return _ORIGINAL["next"](mas, max, empty)
    except _RewalkFoundNoNode:
        return None


def mas_prev_slot_fixed(mas: MaState, min: int, empty: bool) -> Any:
    """mas_prev_slot() returning NULL after a rewalk found no node."""
    try:
        return _ORIGINAL["prev"](mas, min, empty)
    except _RewalkFoundNoNode:
        return None


def mas_find_fixed(mas: MaState, max: int) -> Any:
    """mas_find() that ignores only an overflow, not a none/root state.

    Without this, mas_find() would make the state active again with a NULL
    node after mas_next_slot() returned from an emptied tree, and the next
    call would dereference it.
    """
    done, entry = iterate.mas_find_setup(mas, max)
    if done:
        return entry
    entry = iterate.mas_next_slot(mas, max, False)
    if mas_is_overflow(mas):
        mas.status = ma_active
    return entry


_ITERATE = ("maple.iterate",)
_RETRY_CHECK = ("\n\tif (unlikely(mas_is_none(mas) || mas_is_ptr(mas)))\n"
                "\t\treturn NULL;\t/* mas_rewalk() found no node */\n")

REWALK_NO_NODE = KernelFix(
    name="rewalk-no-node",
    summary=("mas_next_slot()/mas_prev_slot(): after mas_rewalk() into an empty "
             "or root-pointer tree, return NULL instead of retrying on "
             "mas_mn() == NULL; mas_find() ignores only an overflow"),
    patches=(
        Patch(mas_rewalk, mas_rewalk_fixed, _ITERATE),
        Patch(mas_rewalk_if_dead, mas_rewalk_if_dead_fixed, _ITERATE),
        Patch(_ORIGINAL["next"], mas_next_slot_fixed),
        Patch(_ORIGINAL["prev"], mas_prev_slot_fixed),
        Patch(iterate.mas_find, mas_find_fixed),
    ),
    c_patches=(
        CPatch("\tunsigned long save_point = mas->index;\n\nretry:\n",
               "\tunsigned long save_point = mas->index;\n\nretry:" + _RETRY_CHECK),
        CPatch("\tunsigned long save_point = mas->last;\n\tvoid *entry;\n\nretry:\n",
               "\tunsigned long save_point = mas->last;\n\tvoid *entry;\n\nretry:"
               + _RETRY_CHECK),
        CPatch("\tentry = mas_next_slot(mas, max, false);\n\t/* Ignore overflow */\n"
               "\tmas->status = ma_active;\n",
               "\tentry = mas_next_slot(mas, max, false);\n\t/* Ignore overflow */\n"
               "\tif (likely(mas_is_overflow(mas)))\n\t\tmas->status = ma_active;\n"),
    ),
)

# -- overflow-state-no-node: a limit exit without a node, then a wider limit ----

_SETUP = {"next": iterate.mas_next_setup, "prev": iterate.mas_prev_setup,
          "find_rev": iterate.mas_find_rev_setup}
"""The faithful setup functions the fixed ones call (see _ORIGINAL)."""


def mas_next_setup_fixed(mas: MaState, max: int) -> tuple[bool, Any]:
    """mas_next_setup() that walks afresh from an overflow without a node.

    C: ``case ma_overflow: if (unlikely(!mas->node)) { mas->status =
    ma_start; mas_walk(mas); break; }`` - which is what the ma_start case
    does, so the model sets ma_start and lets the faithful function run.
    """
    if mas.last < max and mas.status == ma_overflow and mas.node is None:
        mas.status = ma_start
    return _SETUP["next"](mas, max)


def mas_prev_setup_fixed(mas: MaState, min: int) -> tuple[bool, Any]:
    """mas_prev_setup(): an underflow without a node restarts (ma_start)."""
    if mas.index > min and mas.status == ma_underflow and mas.node is None:
        mas.status = ma_start
    return _SETUP["prev"](mas, min)


def mas_find_rev_setup_fixed(mas: MaState, min: int) -> tuple[bool, Any]:
    """mas_find_rev_setup(): overflow/underflow without a node restart."""
    if (mas.index > min and mas.status in (ma_overflow, ma_underflow)
            and mas.node is None):
        mas.status = ma_start
    return _SETUP["find_rev"](mas, min)


_NO_NODE = "\t\tif (unlikely(!mas->node)) {\t/* no walk yet */\n"

OVERFLOW_STATE_NO_NODE = KernelFix(
    name="overflow-state-no-node",
    summary=("mas_next_setup()/mas_prev_setup()/mas_find_rev_setup(): an "
             "overflow or underflow state without a node (a limit exit before "
             "any walk) walks afresh instead of becoming active on NULL"),
    patches=(
        Patch(_SETUP["next"], mas_next_setup_fixed),
        Patch(_SETUP["prev"], mas_prev_setup_fixed),
        Patch(_SETUP["find_rev"], mas_find_rev_setup_fixed),
    ),
    c_patches=(
        CPatch("\t\t/* Overflowed before, but the max changed */\n"
               "\t\tmas->status = ma_active;\n\t\tbreak;\n",
               "\t\t/* Overflowed before, but the max changed */\n" + _NO_NODE
               + "\t\t\tmas->status = ma_start;\n\t\t\tmas_walk(mas);\n"
               "\t\t\tbreak;\n\t\t}\n\t\tmas->status = ma_active;\n\t\tbreak;\n"),
        CPatch("\t\t/* underflowed before but the min changed */\n"
               "\t\tmas->status = ma_active;\n\t\tbreak;\n",
               "\t\t/* underflowed before but the min changed */\n"
               "\t\tmas->status = mas->node ? ma_active : ma_start;\n\t\tbreak;\n"),
        CPatch("\t\t\tmas->status = ma_underflow;\n\t\t\treturn true;\n\t\t}\n\n"
               "\t\tmas->status = ma_active;\n\t\tbreak;\n"
               "\tcase ma_underflow: /* user expects the mas to be one before where"
               " it is */\n\t\tif (unlikely(mas->index <= min))\n"
               "\t\t\treturn true;\n\n\t\tmas->status = ma_active;\n",
               "\t\t\tmas->status = ma_underflow;\n\t\t\treturn true;\n\t\t}\n\n"
               "\t\tmas->status = mas->node ? ma_active : ma_start;\n\t\tbreak;\n"
               "\tcase ma_underflow: /* user expects the mas to be one before where"
               " it is */\n\t\tif (unlikely(mas->index <= min))\n"
               "\t\t\treturn true;\n\n"
               "\t\tmas->status = mas->node ? ma_active : ma_start;\n"),
    ),
)

# -- rebalance-parent-slot: mas_spanning_rebalance() gives the children of the
#    node it ends with their real slot (rcu_harness/known/fix_rebalance.py) --

REBALANCE_PARENT_SLOT = KernelFix(
    name="rebalance-parent-slot",
    summary=("mas_spanning_rebalance(): the children of the node the rebalance "
             "ends with (a new root when the tree shrinks) get the slot "
             "mab_set_b_end() put them in, not 0, so a lockless reader that "
             "ascends from one before mas_adopt_children() runs goes to the "
             "right neighbour"),
    patches=(Patch(rebalance.mas_spanning_rebalance,
                   fix_rebalance.mas_spanning_rebalance_fixed),),
    c_patches=(CPatch(fix_rebalance.C_OLD, fix_rebalance.C_NEW),),
)

# -- maps-restart-at-last-addr: lock_next_vma() (6.17+) continuing from a stale
#    iterator --------------------------------------------------------------------

MAPS_RESTART_AT_LAST_ADDR = KernelFix(
    name="maps-restart-at-last-addr",
    summary=("lock_next_vma(): after mmap_lock_speculate_try_begin(), restart the "
             "iterator at from_addr (vma_iter_set()) instead of continuing from "
             "where the previous call left it, and verify a NULL from vma_next() "
             "with mmap_lock_speculate_retry() like a VMA ahead of from_addr "
             "(mm/mmap_lock.c; applied by the page_fault scenario's maps reader, "
             "no maple tree change)"),
    patches=(),
    c_patches=(),
)

FIXES: dict[str, KernelFix] = {fix.name: fix for fix in (REWALK_NO_NODE,
                                                         OVERFLOW_STATE_NO_NODE,
                                                         REBALANCE_PARENT_SLOT,
                                                         MAPS_RESTART_AT_LAST_ADDR)}
"""Every candidate fix, by name."""


def get_fix(name: str) -> KernelFix:
    """The fix @name, or a FixError listing the known ones."""
    try:
        return FIXES[name]
    except KeyError:
        raise FixError(f"unknown kernel fix {name!r} (known: "
                       f"{', '.join(sorted(FIXES))})") from None


def parse_fixes(text: str) -> tuple[str, ...]:
    """``NAME[,NAME...]`` as a sorted tuple of known names ("" is none)."""
    names = sorted({n.strip() for n in text.split(",") if n.strip()})
    for name in names:
        get_fix(name)
    return tuple(names)


def patch_c_source(source: str, names: tuple[str, ...]) -> str:
    """lib/maple_tree.c @source with the C side of fixes @names applied.

    Raises:
        FixError: a substitution does not match exactly once.
    """
    for name in names:
        for patch in get_fix(name).c_patches:
            count = source.count(patch.old)
            if count != 1:
                raise FixError(f"kernel fix {name}: its C patch matches {count} "
                               f"times in lib/maple_tree.c (expected once)")
            source = source.replace(patch.old, patch.new)
    return source
