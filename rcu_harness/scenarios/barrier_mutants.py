"""Barrier mutants: each removes or weakens one barrier of the RCU paths.

lib/maple_tree.c orders what RCU readers see with three barriers and the
release of ``rcu_assign_pointer()``:

* ``mte_set_node_dead()``: ``smp_wmb()`` after the dead mark, so that
  whatever the writer stores into the dead node afterwards (the
  ``rcu_head`` of ``call_rcu()``, the dead-node bookkeeping of the destroy
  walk, over the pivots) is seen only after the mark;
* ``ma_dead_node()`` and ``mte_dead_node()``: ``smp_rmb()`` before the
  parent check, so that a reader that read such a word also sees the mark;
* ``mas_put_in_tree()``: ``rcu_assign_pointer()`` of the new node into its
  parent's slot or into ``ma_root``, so that a reader that finds the node
  also sees what was written into it.

The per-VMA locks of 6.15+ order a VMA's fields after the reference a
lockless reader takes with the acquire of
``__refcount_inc_not_zero_limited_acquire()`` in ``vma_start_read()``,
which pairs with the release of ``refcount_set_release()`` when a reused
VMA is attached and of ``__vma_exit_locked()`` when a writer unlocks it;
``vma-start-read-refcount-relaxed`` takes the reference with a relaxed
``refcount_inc_not_zero()`` (the read-side flag of
:mod:`rcu_harness.scenarios.vma_read`, in page_fault).

Under sequential consistency none of them matters, so every mutant here is
invisible to ``sc`` and found only with ``--memory-model lkmm``
(``memory_model = lkmm`` is part of each mutant's parameters; the
scoreboard also runs them with ``sc`` to show it misses them).  Each
variant is the modelled function with only the barrier gone; ``maple/``
never carries mutant code.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import maple.node as maple_node
from maple import topiary
from maple.node import mte_is_root, mte_parent, mte_parent_slot, mte_set_node_dead
from maple.walk import mas_set_height, mas_tree_parent

if TYPE_CHECKING:
    from maple.node import MapleEnode, MapleNode
    from maple.state import MaState

_ADDR_MASK = ~0xFF


def mte_set_node_dead_no_wmb(enode: MapleEnode) -> None:
    """mte_set_node_dead() without its smp_wmb() (mutant)."""
    node = enode[0]
    node.parent = node.addr


def ma_dead_node_no_rmb(node: MapleNode) -> bool:
    """ma_dead_node() without its smp_rmb() (mutant)."""
    return (node.parent & _ADDR_MASK) == node.addr


def mas_put_in_tree_plain_slot(mas: MaState, old_enode: MapleEnode) -> None:
    """mas_put_in_tree() storing the new node into its parent's slot with
    WRITE_ONCE() instead of rcu_assign_pointer() (mutant)."""
    mt = mas.tree
    enode = mas.node
    if mte_is_root(enode):
        enode[0].parent = mas_tree_parent(mas)
        mt.port.root_store(mt, enode)
        mas_set_height(mas)
    else:
        offset = mte_parent_slot(enode)
        mte_parent(enode).slot[offset] = enode
    mte_set_node_dead(old_enode)


def mas_put_in_tree_plain_root(mas: MaState, old_enode: MapleEnode) -> None:
    """mas_put_in_tree() storing a new root node into ma_root with
    WRITE_ONCE() instead of rcu_assign_pointer() (mutant)."""
    mt = mas.tree
    enode = mas.node
    if mte_is_root(enode):
        enode[0].parent = mas_tree_parent(mas)
        mt.port.root_store(mt, enode, release=False)
        mas_set_height(mas)
    else:
        offset = mte_parent_slot(enode)
        mt.port.rcu_assign_pointer(mte_parent(enode).slot, offset, enode)
    mte_set_node_dead(old_enode)


LKMM = {"memory_model": "lkmm"}
_RT = {**LKMM, "layout": "dense", "ops": 16, "readers": 3, "reads": 3}
_READERS = ("maple.walk", "maple.iterate")
_PF_REFCNT = {**LKMM, "design": "vma_refcnt",
              "kernel_fixes": "maps-restart-at-last-addr", "op_set": "unmap",
              "vmas": 4, "ops": 4, "other_ops": 4, "faults": 6, "maps_readers": 0,
              "forks": 0}
"""page_fault in the 6.15+ design as vma-reuse-skips-mm-check runs it (VMAs
unmapped and reused by another mm under the faults)."""


def barrier_mutants(mutant: Any, patch: Any) -> tuple[Any, ...]:
    """The barrier mutants, built with the registry's Mutant and Patch."""
    return (
        mutant("dead-mark-no-wmb",
               "mte_set_node_dead() without smp_wmb(): the rcu_head call_rcu() "
               "writes over a dead node's pivots may be seen before the dead mark",
               ("rcu_transitions",), MappingProxyType(_RT),
               (patch(maple_node.mte_set_node_dead, mte_set_node_dead_no_wmb),)),
        mutant("dead-node-no-rmb",
               "ma_dead_node() without smp_rmb(): a reader may check the parent "
               "word before the node words it read, and miss the dead mark",
               ("rcu_transitions",), MappingProxyType(_RT),
               (patch(maple_node.ma_dead_node, ma_dead_node_no_rmb, _READERS),)),
        mutant("replace-node-no-release",
               "mas_put_in_tree() publishes a new non-root node with WRITE_ONCE(), "
               "not rcu_assign_pointer(): a reader may find it before its contents",
               ("rcu_transitions",), MappingProxyType(_RT),
               (patch(topiary.mas_put_in_tree, mas_put_in_tree_plain_slot),)),
        mutant("replace-root-no-release",
               "mas_put_in_tree() publishes a new root node with WRITE_ONCE(), not "
               "rcu_assign_pointer(): a reader may find it before its contents",
               ("rcu_transitions",), MappingProxyType(_RT),
               (patch(topiary.mas_put_in_tree, mas_put_in_tree_plain_root),)),
        mutant("vma-start-read-refcount-relaxed",
               "vma_start_read() (6.15+) takes its reference with a relaxed "
               "refcount_inc_not_zero(), not the acquire of "
               "__refcount_inc_not_zero_limited_acquire(): the VMA's fields read "
               "after it may be older than the count (a write-locked or reused "
               "VMA is used)",
               ("page_fault",), MappingProxyType(_PF_REFCNT)),
    )
