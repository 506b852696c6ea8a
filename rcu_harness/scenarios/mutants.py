"""Mutants: named, realistic bugs seeded into the model or the scenarios.

Each mutant models one mistake a kernel developer could make in the maple
tree, the RCU machinery or the mm code of the 2021 dup_mmap() patch.  A
mutant is either *scenario-level* (the scenario code asks ``cfg.bug(name)``
and does the wrong thing) or *model-level*: its :class:`Patch` swaps a
model function for a faulty variant, defined here, for the duration of a
run (:func:`rcu_harness.scenarios.catalog.applied`), so ``maple/`` itself
never carries mutant code.  A faulty variant that copies a model function
is kept in step with it by ``tests/scenarios/test_mutant_copies.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import FunctionType, MappingProxyType
from typing import TYPE_CHECKING, Any

from maple import alloc, iterate, node, store, topiary, tree, walk, write
from maple.alloc import mas_free, mas_node_count_gfp, mas_pop_node
from maple.bignode import mas_bulk_rebalance, mas_leaf_set_meta, memcpy
from maple.defs import (
    GFP_KERNEL,
    MA_STATE_BULK,
    MA_STATE_PREALLOC,
    MAPLE_RANGE64_SLOTS,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    maple_leaf_64,
    mt_pivots,
)
from maple.gap import mas_update_gap
from maple.node import mt_mk_node
from maple.state import mas_is_err, xa_err
from maple.topiary import mas_put_in_tree
from maple.tree import mt_in_rcu
from rcu_harness.patches import Patch
from rcu_harness.rcu import gp
from rcu_harness.scenarios import mutant_variants
from rcu_harness.scenarios import vma as vma_model
from rcu_harness.scenarios.barrier_mutants import barrier_mutants
from rcu_harness.scenarios.spec import ScenarioError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


@dataclass(frozen=True, slots=True)
class Mutant:
    """A named seeded bug."""

    name: str
    description: str
    """The kernel mistake it models, in one line."""
    scenarios: tuple[str, ...]
    """Scenarios it applies to; the first is where it is scored."""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Scenario parameters it needs to be reachable (e.g. an error path)."""
    patches: tuple[Patch, ...] = ()

    @property
    def scenario(self) -> str:
        """The scenario the scoreboard runs it in."""
        return self.scenarios[0]


# -- faulty variants of model functions -------------------------------------


def ma_free_rcu_now(mt: Any, node: Any) -> None:
    """ma_free_rcu() that frees at once: kfree() where kfree_rcu() was due."""
    mt.port.node_free(node)


def no_pre_existing_readers(ex: Any) -> dict[int, int]:
    """A grace period that does not wait for the readers already inside."""
    return {}


def mt_set_in_rcu_unlocked(mt: Any) -> None:
    """mt_set_in_rcu() flipping ma_flags without the tree lock."""
    port = mt.port
    if port.flags_load(mt) & MT_FLAGS_USE_RCU:
        return
    port.flags_store(mt, port.flags_load(mt) | MT_FLAGS_USE_RCU)


def never_dead(_node: Any) -> bool:
    """ma_dead_node()/mte_dead_node() of a reader that does not re-check."""
    return False


def mas_wr_node_store_publish_early(wr_mas: Any, new_end: int) -> None:
    """mas_wr_node_store() publishing the new node before filling it (RCU mode)."""
    mas = wr_mas.mas
    if not mt_in_rcu(mas.tree):
        _ORIGINAL_NODE_STORE(wr_mas, new_end)
        return
    offset_end = wr_mas.offset_end
    node_pivots = mt_pivots[wr_mas.type]
    if mas.last == wr_mas.end_piv:
        offset_end += 1
    elif wr_mas.r_max == ULONG_MAX:
        mas_bulk_rebalance(mas, mas.end, wr_mas.type)
    newnode = mas_pop_node(mas)
    newnode.parent = mas.node[0].parent
    old_enode = mas.node
    mas.node = mt_mk_node(newnode, wr_mas.type)
    mas_put_in_tree(mas, old_enode)  # the bug: published while still empty
    dst_pivots, dst_slots = newnode.pivot, newnode.slot
    memcpy(dst_pivots, 0, wr_mas.pivots, 0, mas.offset)
    memcpy(dst_slots, 0, wr_mas.slots, 0, mas.offset)
    port = mas.tree.port
    if wr_mas.r_min < mas.index:
        port.rcu_assign_pointer(dst_slots, mas.offset, wr_mas.content)
        dst_pivots[mas.offset] = mas.index - 1
        mas.offset += 1
    if mas.offset < node_pivots:
        dst_pivots[mas.offset] = mas.last
    port.rcu_assign_pointer(dst_slots, mas.offset, wr_mas.entry)
    if offset_end <= mas.end:
        dst_offset = mas.offset + 1
        copy_size = mas.end - offset_end + 1
        memcpy(dst_slots, dst_offset, wr_mas.slots, offset_end, copy_size)
        memcpy(dst_pivots, dst_offset, wr_mas.pivots, offset_end, copy_size - 1)
        if new_end < node_pivots:
            dst_pivots[new_end] = mas.max
    mas_leaf_set_meta(newnode, maple_leaf_64, new_end)
    mas_free(mas, old_enode)
    mas_update_gap(mas)
    mas.end = new_end


_ORIGINAL_NODE_STORE = write.mas_wr_node_store


def _rcu_blind(fn: Callable[..., Any]) -> FunctionType:
    """@fn with mt_in_rcu() reading as False inside it (and only there)."""
    assert isinstance(fn, FunctionType)
    globs = dict(fn.__globals__)
    globs["mt_in_rcu"] = lambda mt: False
    blind = FunctionType(fn.__code__, globs, fn.__name__, fn.__defaults__,
                         fn.__closure__)
    blind.__doc__ = f"{fn.__name__}() ignoring RCU mode (mutant)"
    blind.__qualname__ = fn.__qualname__
    return blind


mas_wr_store_type_rcu_blind = _rcu_blind(store.mas_wr_store_type)
"""mas_wr_store_type() choosing in-place append and slot stores in RCU mode."""
mas_wr_slot_store_rcu_blind = _rcu_blind(write.mas_wr_slot_store)
"""mas_wr_slot_store() moving two boundaries in place in RCU mode."""


def mas_expected_entries_short(mas: Any, nr_entries: int) -> int:
    """mas_expected_entries() that forgets the NULL gaps between entries, the
    internal nodes and the working room of a split."""
    mas.mas_flags |= MA_STATE_BULK
    nr_nodes = -(-nr_entries // MAPLE_RANGE64_SLOTS)
    mas_node_count_gfp(mas, nr_nodes, GFP_KERNEL)
    mas.mas_flags |= MA_STATE_PREALLOC
    return xa_err(mas.node) if mas_is_err(mas) else 0


# -- the registry --------------------------------------------------------------

_RT = {"layout": "dense", "ops": 16, "readers": 3, "reads": 3}
"""rcu_transitions as the reader-path mutants are scored in."""
READER_MUTANTS = (
    Mutant("fault-skips-vma-recheck",
           "lock_vma_under_rcu() uses the VMA mas_walk() found without re-checking "
           "that its bounds (changed in place by a split) still cover the address",
           ("rcu_transitions",), MappingProxyType({
               **_RT, "read_kind": "fault", "op_set": "mprotect", "ops": 32,
               "reads": 6, "layout": "low"})),
    Mutant("prev-skips-dead-check",
           "mas_prev_slot()/mas_prev_node() use slot values without re-checking "
           "for a dead node (the reverse walk of find_vma_prev(), vma_prev())",
           ("rcu_transitions",), MappingProxyType({**_RT, "read_kind": "reverse"}),
           (Patch(iterate.mas_prev_slot, mutant_variants.mas_prev_slot_trusting,
                  ("maple.iterate",)),)),
    Mutant("vma-find-end-inclusive",
           "vma_find() passes end, not end - 1, to mas_find(): for_each_vma_range() "
           "returns the VMA starting at end",
           ("rcu_transitions",), MappingProxyType({**_RT, "read_kind": "range"})),
    Mutant("maps-resume-without-pause",
           "the /proc/PID/maps walk drops the RCU lock between VMAs without "
           "mas_pause(), resuming from the node it had",
           ("rcu_transitions",), MappingProxyType({**_RT, "read_kind": "maps"})),
    Mutant("expand-without-page-table-lock",
           "expand_downwards()/expand_upwards() store the grown VMA under the mmap "
           "read lock without mm->page_table_lock, racing the other expansion",
           ("stack_expand",)),
    Mutant("destroy-frees-at-once",
           "mtree_destroy() of an RCU-mode tree frees the nodes at once "
           "(mte_destroy_walk() ignoring RCU mode) under readers still inside",
           ("tree_destroy",), MappingProxyType({"read_kind": "walk"}),
           (Patch(topiary.mte_destroy_walk,
                  mutant_variants.mte_destroy_walk_at_once),)),
    Mutant("root-entry-any-index",
           "mas_start() returns a single-entry tree's root entry (index 0) for any "
           "index",
           ("rcu_transitions",), MappingProxyType({
               **_RT, "read_kind": "mt_find", "op_set": "empty", "ops": 8,
               "ops_seed": 11, "reads": 4}),
           (Patch(walk.mas_start, mutant_variants.mas_start_root_any_index,
                  ("maple.walk", "maple.iterate")),)),
)
"""Mutants of the reader kinds, the 2023 design, the empty and single-entry
trees and mtree_destroy() under readers: each needs a behaviour that only the
new reader kinds, owner operations or scenarios have."""

_PF = {"design": "modern"}
_PF_REUSE = {"design": "vma_refcnt", "kernel_fixes": "maps-restart-at-last-addr"}
"""vma_refcnt with the candidate fix of the known /proc/PID/maps finding
(proc-maps-stale-iterator), so that a run finds the mutant, not it."""
_PF_RACE = {"faulters": 3, "faults": 6, "maps_readers": 0, "forks": 0,
            "other_ops": 0, "ops": 14}
"""page_fault with more faults and no maps reader, fork or other process."""
VMA_MUTANTS = (
    Mutant("dup-mmap-skips-parent-vma-lock",
           "dup_mmap() copies (and write-protects for COW) the parent's VMAs "
           "without vma_start_write(): page faults under the VMA lock race the "
           "copy (the bug fb49c455323f fixed)",
           ("page_fault",), MappingProxyType(_PF)),
    Mutant("vma-start-read-skips-seq-recheck",
           "vma_start_read() does not re-check vm_lock_seq after taking the lock, "
           "so a writer that write-locked the VMA in between is missed",
           ("page_fault",), MappingProxyType({**_PF, **_PF_RACE})),
    Mutant("mprotect-skips-vma-start-write",
           "mprotect_fixup() splits the VMA and resets its flags without "
           "vma_start_write(): faults under the VMA lock see it change",
           ("page_fault",), MappingProxyType(_PF)),
    Mutant("vma-reuse-skips-mm-check",
           "vma_start_read() (6.15+) does not re-check vm_mm: a VMA freed and "
           "reused by another mm within the walk's grace period is used as the "
           "fault's own",
           ("page_fault",), MappingProxyType({
               **_PF_REUSE, "op_set": "unmap", "vmas": 4, "ops": 4,
               "other_ops": 4, "faults": 6, "maps_readers": 0, "forks": 0})),
    Mutant("mm-lock-seq-bump-before-tree-update",
           "the writer bumps mm_lock_seq (vma_end_write_all()) before it edits "
           "the VMA and updates the tree, releasing the VMA write locks too early",
           ("page_fault",), MappingProxyType(_PF)),
    Mutant("fault-skips-detached-check",
           "lock_vma_under_rcu() (6.12) does not check vma->detached after "
           "vma_start_read(): a VMA munmap() removed is used",
           ("page_fault",), MappingProxyType({**_PF, **_PF_RACE})),
    Mutant("maps-skips-gap-check",
           "lock_next_vma() does not verify, when the VMA it locked starts past "
           "the last position, that no VMA was installed in front of it: "
           "/proc/PID/maps shows a hole",
           ("page_fault",), MappingProxyType({**_PF_REUSE, "maps_reads": 3,
                                              "faulters": 1, "ops": 14})),
    Mutant("vma-writer-skips-reader-drain",
           "__vma_enter_locked() (6.15+) sets VMA_LOCK_OFFSET but does not wait "
           "for the readers inside to drop their references",
           ("page_fault",), MappingProxyType(_PF_REUSE),
           (Patch(vma_model.__vma_enter_locked,
                  mutant_variants.vma_enter_locked_no_drain),)),
    Mutant("vma-freed-without-rcu",
           "vm_area_free() (6.12) frees the VMA at once instead of through "
           "call_rcu(), under lock_vma_under_rcu()'s RCU walk",
           ("page_fault",), MappingProxyType({**_PF, **_PF_RACE}),
           (Patch(vma_model.vm_area_free, mutant_variants.vm_area_free_at_once),)),
)
"""Mutants of per-VMA locks (the ``page_fault`` scenario): the write side,
the read side's re-checks, VMA reuse and freeing."""

_READERS = ("maple.walk", "maple.iterate")


def _m(name: str, description: str, scenarios: tuple[str, ...],
       params: Mapping[str, Any] | None = None,
       patches: tuple[Patch, ...] = ()) -> Mutant:
    return Mutant(name, description, scenarios, MappingProxyType(dict(params or {})),
                  patches)


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    _m("free-without-grace-period",
       "in RCU mode a replaced node is freed at once (kfree, not call_rcu)",
       ("rcu_transitions", "dup_mmap"),
       patches=(Patch(alloc.ma_free_rcu, ma_free_rcu_now),)),
    _m("gp-ignores-readers",
       "a grace period ends without waiting for readers already in rcu_read_lock()",
       ("rcu_transitions", "dup_mmap"),
       patches=(Patch(gp.pre_existing_readers, no_pre_existing_readers),)),
    _m("reader-without-rcu-lock",
       "a lockless reader walks the tree without rcu_read_lock()",
       ("rcu_transitions", "dup_mmap")),
    _m("vma-used-after-rcu-unlock",
       "a caller uses the VMA mtree_load() returned after the read-side section "
       "mtree_load() took for its walk has ended",
       ("rcu_transitions",), params={"read_kind": "lookup", "reads": 4}),
    _m("mmget-not-zero-no-rcu",
       "mmget_not_zero() takes the reference without mt_set_in_rcu()",
       ("rcu_transitions", "mmput_race"),
       params={"ops": 16, "read_kind": "iterate", "reads": 3}),
    _m("set-in-rcu-unlocked",
       "mt_set_in_rcu() flips ma_flags without the tree lock, racing writers",
       ("rcu_transitions",),
       patches=(Patch(tree.mt_set_in_rcu, mt_set_in_rcu_unlocked),)),
    _m("mmput-clears-rcu-early",
       "mmput() leaves RCU mode although other users still hold the mm",
       ("rcu_transitions",)),
    _m("reader-skips-dead-check",
       "a reader uses slot values without re-checking ma_dead_node() after the read",
       ("rcu_transitions",),
       patches=(Patch(node.ma_dead_node, never_dead, _READERS),
                Patch(node.mte_dead_node, never_dead, _READERS))),
    _m("publish-before-fill",
       "mas_wr_node_store() publishes the new node before copying the data into it",
       ("rcu_transitions",),
       patches=(Patch(write.mas_wr_node_store, mas_wr_node_store_publish_early),)),
    _m("resume-without-pause",
       "dup_mmap() drops the RCU lock inside mas_for_each() and resumes without "
       "mas_pause() while the parent's tree can change (no mmap_lock held)",
       ("dup_mmap",)),
    _m("rcu-lock-across-sleep",
       "dup_mmap() keeps rcu_read_lock() across anon_vma_fork(), which may sleep",
       ("dup_mmap",)),
    _m("in-place-write-in-rcu",
       "an append or a two-boundary slot store edits a live node in RCU mode",
       ("rcu_transitions",),
       params={"read_kind": "iterate", "readers": 3, "ops": 16, "reads": 3,
               "layout": "low"},
       patches=(Patch(store.mas_wr_store_type, mas_wr_store_type_rcu_blind),
                Patch(write.mas_wr_slot_store, mas_wr_slot_store_rcu_blind))),
    _m("entry-count-short",
       "mas_entry_count() underestimates the nodes a bulk load needs",
       ("dup_mmap",), patches=(Patch(store.mas_expected_entries,
                                     mas_expected_entries_short),)),
    _m("error-path-skips-destroy",
       "dup_mmap()'s error path leaves through loop_out without mas_destroy() "
       "(the preallocated nodes leak)",
       ("dup_mmap",), params={"fatal_signal_at": 3}),
    *READER_MUTANTS,
    *VMA_MUTANTS,
    *barrier_mutants(Mutant, Patch),
)}


def get_mutant(name: str) -> Mutant:
    """The mutant @name, or a ScenarioError listing the known ones."""
    try:
        return MUTANTS[name]
    except KeyError:
        raise ScenarioError(f"unknown mutant {name!r} (known: "
                            f"{', '.join(sorted(MUTANTS))})") from None


_modules_used = (iterate, walk)
