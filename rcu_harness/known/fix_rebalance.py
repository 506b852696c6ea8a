"""Candidate fix ``rebalance-parent-slot``: the model side.

mas_spanning_rebalance() builds the node that ends the rebalance (the new
root when the loop breaks at the root's limits) from the big node
``mast->bn``, in which mast_combine_cp_left() has put the untouched slots
left of the rebuilt subtree first, so ``left`` sits at ``l_mas.offset``, not
at 0.  The kernel still passes ``slot`` (0 unless changed, and nothing on
that path changes it) to mas_set_parent() for ``left``, ``middle`` and
``right``; the node is published by mas_topiary_replace() ->
mas_put_in_tree() with those children claiming the wrong slot of a *live*
parent, until mas_adopt_children() rewrites their parent words.  A lockless
reader in such a child that ascends meanwhile (mas_prev_node(),
mas_next_node()) trusts the slot: nothing in it is dead, so no check fires,
and a reverse walk underflows at "slot 0" with entries left of it unseen.

:func:`mas_spanning_rebalance_fixed` is :func:`maple.rebalance.
mas_spanning_rebalance` with the one line of the C patch
(``slot = l_mas.offset;``); ``tests/known/test_fix_rebalance.py`` checks that
the two functions' source differs by exactly that line.
"""

from __future__ import annotations

from maple.alloc import mas_pop_node
from maple.bignode import mab_mas_cp, mab_set_b_end
from maple.defs import ULONG_MAX, ma_none, mt_min_slots, mt_slots
from maple.node import mt_mk_node, mte_is_root
from maple.state import MaState, mas_is_root_limits
from maple.subtree import (
    MapleSubtreeState,
    mas_mab_to_node,
    mast_ascend,
    mast_combine_cp_left,
    mast_combine_cp_right,
    mast_cp_to_nodes,
    mast_overflow,
    mast_set_split_parents,
    mast_spanning_rebalance,
    mast_sufficient,
)
from maple.topiary import mas_wmb_replace
from maple.walk import mas_set_parent, mas_tree_parent, mtree_range_walk

C_OLD = ("\tmab_mas_cp(mast->bn, 0, mt_slots[mast->bn->type] - 1, &l_mas, true);\n"
         "\tmas_set_parent(mas, left, l_mas.node, slot);\n")
"""The C text the fix changes (once in lib/maple_tree.c)."""
C_NEW = ("\tmab_mas_cp(mast->bn, 0, mt_slots[mast->bn->type] - 1, &l_mas, true);\n"
         "\tslot = l_mas.offset;\t/* where mab_set_b_end() put left */\n"
         "\tmas_set_parent(mas, left, l_mas.node, slot);\n")
"""The fixed C text."""
MODEL_LINE = "slot = l_mas.offset  # the fix: where mab_set_b_end() put left"
"""The one line the fixed model function adds (checked by a test)."""


def mas_spanning_rebalance_fixed(mas: MaState, mast: MapleSubtreeState,
                                 count: int) -> None:
    """Model of mas_spanning_rebalance(), fixed: children get their real slot."""
    slot = 0
    left = middle = right = None
    l_mas = MaState(mas.tree, mas.index, mas.index)
    r_mas = MaState(mas.tree, mas.index, mas.last)
    m_mas = MaState(mas.tree, mas.index, mas.index)
    mast.l = l_mas
    mast.m = m_mas
    mast.r = r_mas
    l_mas.status = r_mas.status = m_mas.status = ma_none

    # Check if this is not root and has sufficient data.
    if (mast.orig_l.min != 0 or mast.orig_r.max != ULONG_MAX) and \
            mast.bn.b_end <= mt_min_slots[mast.bn.type]:
        mast_spanning_rebalance(mast)

    l_mas.depth = 0
    new_root = False
    while count:
        count -= 1
        mast.bn.b_end -= 1
        mast.bn.type = mast.orig_l.node[1]
        split, left, right, middle, mid_split = mas_mab_to_node(mas, mast.bn)
        mast_set_split_parents(mast, left, middle, right, split, mid_split)
        mast_cp_to_nodes(mast, left, middle, right, split, mid_split)

        # Copy data from next level in the tree to mast->bn from next iteration.
        mast.bn.clear()
        mast.bn.type = left[1]
        l_mas.depth += 1

        # Root already stored in l->node.
        if mas_is_root_limits(mast.l):
            new_root = True
            break

        mast_ascend(mast)
        mast_combine_cp_left(mast)
        l_mas.offset = mast.bn.b_end
        mab_set_b_end(mast.bn, l_mas, left)
        mab_set_b_end(mast.bn, m_mas, middle)
        mab_set_b_end(mast.bn, r_mas, right)

        # Copy anything necessary out of the right node.
        mast_combine_cp_right(mast)
        mast.orig_l.last = mast.orig_l.max

        if mast_sufficient(mast):
            continue
        if mast_overflow(mast):
            continue
        # May be a new root stored in mast->bn.
        if mas_is_root_limits(mast.orig_l):
            break
        mast_spanning_rebalance(mast)
        # rebalancing from other nodes may require another loop.
        if not count:
            count += 1

    if not new_root:
        l_mas.node = mt_mk_node(mas_pop_node(mas), mast.orig_l.node[1])
        l_mas.depth += 1
        mab_mas_cp(mast.bn, 0, mt_slots[mast.bn.type] - 1, l_mas, True)
        slot = l_mas.offset  # the fix: where mab_set_b_end() put left
        assert left is not None
        mas_set_parent(mas, left, l_mas.node, slot)
        if middle is not None:
            slot += 1
            mas_set_parent(mas, middle, l_mas.node, slot)
        if right is not None:
            slot += 1
            mas_set_parent(mas, right, l_mas.node, slot)

    if new_root or mas_is_root_limits(mast.l):
        mast.l.node[0].parent = mas_tree_parent(mas)
        while not mte_is_root(mast.orig_l.node):
            mast_ascend(mast)
    else:
        l_mas.node[0].parent = mast.orig_l.node[0].parent

    old_enode = mast.orig_l.node
    mas.depth = l_mas.depth
    mas.node = l_mas.node
    mas.min = l_mas.min
    mas.max = l_mas.max
    mas.offset = l_mas.offset
    mas_wmb_replace(mas, old_enode)
    mtree_range_walk(mas)
