"""Mutants that copy a model function stay copies of it, but for their bug.

A model-level mutant is often the model function copied and changed where
the bug is.  Should the model function change (a fix, a refactor), the
copy would drift silently and the mutant would test an older model.  Each
such pair is compared here: both bodies are normalised (``ast.unparse``,
docstrings dropped) and their difference must be exactly the documented
mutation below.  When this fails after a change to the model, carry the
change into the mutant and keep only the bug.  (Variants made by rebinding
the names an original calls, ``with_globals``, run the model's own code
and cannot drift.)
"""

from __future__ import annotations

import ast
import difflib
import inspect
import textwrap

import pytest

from maple import alloc, node, store, topiary, tree, walk, write
from rcu_harness.scenarios import barrier_mutants, mutant_variants, mutants

COPIES = {
    "publish-before-fill": (
        write.mas_wr_node_store, mutants.mas_wr_node_store_publish_early,
        # RCU mode only (outside it, the model's own function runs); the new
        # node is put into the tree before it is filled, then the old one freed
        """
        +if not mt_in_rcu(mas.tree):
        +    _ORIGINAL_NODE_STORE(wr_mas, new_end)
        +    return
        -in_rcu = mt_in_rcu(mas.tree)
        -if in_rcu:
        -    newnode = mas_pop_node(mas)
        -else:
        -    newnode = MapleNode(0, {})
        +newnode = mas_pop_node(mas)
        -dst_pivots = newnode.pivot
        -dst_slots = newnode.slot
        +old_enode = mas.node
        +mas.node = mt_mk_node(newnode, wr_mas.type)
        +mas_put_in_tree(mas, old_enode)
        +dst_pivots, dst_slots = (newnode.pivot, newnode.slot)
        -if in_rcu:
        -    old_enode = mas.node
        -    mas.node = mt_mk_node(newnode, wr_mas.type)
        -    mas_replace_node(mas, old_enode)
        -else:
        -    assert wr_mas.node is not None
        -    node_copy(wr_mas.node, newnode)
        +mas_free(mas, old_enode)
        """),
    "entry-count-short": (
        store.mas_expected_entries, mutants.mas_expected_entries_short,
        # one node per 16 entries: no NULL gaps, no internal nodes, no room
        # for a split; and no clean-up on failure
        """
        -nonleaf_cap = MAPLE_ARANGE64_SLOTS - 2
        -enode = mas.node
        -nr_nodes = max(nr_entries, nr_entries * 2 + 1)
        -if not mt_is_alloc(mas.tree):
        -    nonleaf_cap = MAPLE_RANGE64_SLOTS - 2
        -nr_nodes = -(-nr_nodes // (MAPLE_RANGE64_SLOTS - 2))
        -nr_nodes += -(-nr_nodes // nonleaf_cap)
        -mas_node_count_gfp(mas, nr_nodes + 3, GFP_KERNEL)
        +nr_nodes = -(-nr_entries // MAPLE_RANGE64_SLOTS)
        +mas_node_count_gfp(mas, nr_nodes, GFP_KERNEL)
        -if not mas_is_err(mas):
        -    return 0
        -ret = xa_err(mas.node)
        -mas.node = enode
        -mas_destroy(mas)
        -return ret
        +return xa_err(mas.node) if mas_is_err(mas) else 0
        """),
    "set-in-rcu-unlocked": (
        tree.mt_set_in_rcu, mutants.mt_set_in_rcu_unlocked,
        # the flag store without the tree lock (and the external-lock branch,
        # which stores the same way, folded into it)
        """
        -if mt_external_lock(mt):
        -    port.flags_store(mt, port.flags_load(mt) | MT_FLAGS_USE_RCU)
        -    return
        -port.mtree_lock(mt)
        -port.mtree_unlock(mt)
        """),
    "free-without-grace-period": (
        alloc.ma_free_rcu, mutants.ma_free_rcu_now,
        # kfree at once where call_rcu was due (and no dead-node check)
        """
        -if not ma_dead_node(node):
        -    raise _freed_alive(node)
        -mt.port.call_rcu(node, mt_free_rcu)
        +mt.port.node_free(node)
        """),
    "root-entry-any-index": (
        walk.mas_start, mutant_variants.mas_start_root_any_index,
        # the ``mas->index > 0`` test dropped: the root entry for any index
        # (mas_root reached through its module, as the variant lives outside)
        """
        -    root = mas_root(mas)
        +    root = walk.mas_root(mas)
        -    if mas.index > 0:
        -        return None
        """),
    "destroy-frees-at-once": (
        topiary.mte_destroy_walk, mutant_variants.mte_destroy_walk_at_once,
        # the RCU-mode branch dropped: the nodes are freed at once
        """
        -node = enode[0]
        -if mt_in_rcu(mt):
        -    mt_destroy_walk(enode, mt, False)
        -    mt.port.call_rcu(node, mt_free_walk)
        -else:
        -    mt_destroy_walk(enode, mt, True)
        +mt_destroy_walk(enode, mt, True)
        """),
    "dead-mark-no-wmb": (
        node.mte_set_node_dead, barrier_mutants.mte_set_node_dead_no_wmb,
        # the smp_wmb() after the dead mark dropped
        """
        -node.port.smp_wmb()
        """),
    "dead-node-no-rmb": (
        node.ma_dead_node, barrier_mutants.ma_dead_node_no_rmb,
        # the smp_rmb() before the parent check dropped
        """
        -node.port.smp_rmb()
        """),
    "replace-node-no-release": (
        topiary.mas_put_in_tree, barrier_mutants.mas_put_in_tree_plain_slot,
        # the parent slot stored plainly (WRITE_ONCE), not rcu_assign_pointer()
        """
        -    mt.port.rcu_assign_pointer(mte_parent(enode).slot, offset, enode)
        +    mte_parent(enode).slot[offset] = enode
        """),
    "replace-root-no-release": (
        topiary.mas_put_in_tree, barrier_mutants.mas_put_in_tree_plain_root,
        # ma_root stored without the release of rcu_assign_pointer()
        """
        -    mt.port.root_store(mt, enode)
        +    mt.port.root_store(mt, enode, release=False)
        """),
}


def _body(fn):
    node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    stmts = node.body
    if stmts and isinstance(stmts[0], ast.Expr) and \
            isinstance(stmts[0].value, ast.Constant):
        stmts = stmts[1:]
    return [line for stmt in stmts for line in ast.unparse(stmt).splitlines()]


def _mutation(original, variant):
    diff = difflib.unified_diff(_body(original), _body(variant), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in
            ("---", "+++")]


@pytest.mark.parametrize("name", sorted(COPIES))
def test_a_copied_model_function_differs_only_by_its_documented_bug(name):
    original, variant, documented = COPIES[name]
    assert any(p.original is original and p.replacement is variant
               for p in mutants.MUTANTS[name].patches)
    got = _mutation(original, variant)
    assert got == textwrap.dedent(documented).strip().splitlines(), "\n".join(got)


def test_the_comparison_sees_a_drift():
    def model(x):
        """Model of f()."""
        y = x + 1
        return y

    def copy(x):
        """f() with a bug."""
        y = x + 2
        return y

    assert _mutation(model, copy) == ["-y = x + 1", "+y = x + 2"]
