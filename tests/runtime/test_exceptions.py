"""What a lockless reader walks into after stale loads (weak memory) is a
kernel-style finding naming the loads behind it, never a Python error of
the model: a NULL node pointer is a null-ptr-deref, the tree a root's
parent word points at, taken for a node, is not-a-node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maple import MT_FLAGS_ALLOC_RANGE, MapleTree, mtree_store_range
from maple.alloc import ma_free_rcu
from maple.node import MapleMetadata
from maple.walk import mte_set_pivot
from rcu_harness import explore
from rcu_harness.runtime.exceptions import kasan_wild_bug_type, metadata_entry
from tests.cli.helpers import stress_json

pytestmark = pytest.mark.timeout(300)


def _finding(capsys, tmp_path, mutant, seed, executions, strategy="aimed-stale"):
    code, out = stress_json(capsys, tmp_path, "--mutant", mutant, "--strategy",
                            strategy, "--seed", str(seed), "--executions",
                            str(executions))
    assert code == 1
    [finding] = out["findings"]
    trace = json.loads(Path(finding["trace"]).read_text())
    return finding, trace["finding"]["report"]


def test_an_ancestor_seen_before_its_root_word_is_the_tree_taken_for_a_node(
        capsys, tmp_path):
    """dead-mark-no-wmb, aimed-stale seed 20 (was "AttributeError in
    mt_mk_node: 'MapleTree' object has no attribute 'type'")."""
    finding, report = _finding(capsys, tmp_path, "dead-mark-no-wmb", 20, 4)
    assert finding["kind"] == "not-a-node"
    assert finding["message"].startswith(
        "maple node pointer to a struct maple_tree in ma_dead_node <- mas_ascend")
    assert "read of maple_node.parent (ma_lock and ma_flags)" in finding["message"]
    assert "which mte_parent() returns for a root" in report
    assert "last loads of the parent word that gave the pointer" in report
    assert "= 0x0 in ma_is_root (read the initial value; the store at step" in report
    assert "Traceback" not in report


def test_a_parent_word_read_before_the_parents_initialisation_is_a_null_deref(
        capsys, tmp_path):
    """dead-mark-no-wmb, aimed-stale seed 25 (was "KeyError in mte_parent: 0")."""
    finding, report = _finding(capsys, tmp_path, "dead-mark-no-wmb", 25, 16)
    assert finding["kind"] == "null-ptr-deref"
    assert "in ma_dead_node <- mas_ascend <- mas_next_node" in finding["message"]
    assert "last stale load of a node pointer that read NULL" in report
    assert "last loads of that parent word (newest first)" in report
    assert "= 0x0 in mte_parent (read the store at step" in report
    assert "was not yet visible)" in report


def test_a_slot_read_before_the_new_roots_contents_is_a_null_deref(capsys,
                                                                   tmp_path):
    """replace-root-no-release, aimed-stale seed 24 (was "TypeError in
    mtree_range_walk: 'NoneType' object is not subscriptable")."""
    finding, report = _finding(capsys, tmp_path, "replace-root-no-release", 24, 1)
    assert finding["kind"] == "null-ptr-deref"
    assert "in mtree_range_walk" in finding["message"]
    assert "ld slot[0] of " in report
    assert "= NULL in mtree_range_walk (read the initial value; the store at step" \
        in report


def test_a_full_nodes_last_slot_read_as_metadata_is_a_metadata_misread(capsys,
                                                                       tmp_path):
    """replace-root-no-release, aimed-stale seed 25 (was "MapleCorruption in
    _meta_word: ... metadata word holds <Vma ...>", an exception)."""
    finding, report = _finding(capsys, tmp_path, "replace-root-no-release", 25, 19)
    assert finding["kind"] == "metadata-misread"
    assert "in _meta_word <- ma_meta_end <- ma_data_end <- mtree_range_walk" \
        in finding["message"]
    assert "the kernel takes its low bytes as data end 0x0 and gap offset 0x18" \
        in report
    assert "ld pivot[14] of " in report
    assert "= 0x0 in ma_data_end (read an earlier store of step" in report


def test_the_parent_type_of_an_ancestor_seen_as_a_root_late_is_a_warning(capsys,
                                                                         tmp_path):
    """dead-mark-no-wmb, aimed-stale seed 1: not a root (0, stale), then the
    root word in mas_parent_type(), whose WARN_ON() fires."""
    finding, report = _finding(capsys, tmp_path, "dead-mark-no-wmb", 1, 4)
    assert finding["kind"] == "warning"
    assert finding["message"].startswith(
        "WARNING in mas_parent_type <- mas_ascend <- mas_next_node")
    assert "WARN_ON(p_type & MAPLE_PARENT_ROOT) in mas_parent_type" in report
    assert "= 0x0 in ma_is_root (read the initial value; the store at step" in report


def test_a_metadata_word_returned_as_an_entry_and_dereferenced_is_kasans_report(
        capsys, tmp_path):
    """resume-without-pause, rff seed 4: dup_mmap()'s iteration resumes with
    the data end of a node the parent rewrote in place, runs past it into
    the last slot and takes the metadata word for a VMA (was "AttributeError
    in dup_mmap_2021: 'MapleMetadata' object has no attribute 'vm_flags'")."""
    finding, report = _finding(capsys, tmp_path, "resume-without-pause", 4, 1,
                               strategy="rff")
    assert finding["kind"] == "metadata-as-entry"
    assert finding["message"] == (
        "KASAN: null-ptr-deref in dup_mmap_2021 <- fork_thread: a node's metadata "
        "word 0xd taken for an entry, read of vm_flags at 0x1d")
    assert "Read of size 8 at addr 000000000000001d by task fork/1" in report
    assert "(Vma.vm_flags at offset 16)" in report
    assert "= MapleMetadata(0xd,0x0) in mas_next_slot\n" in report
    assert "slot 15 is past the data end 13 the word records; the node at " \
        "0xffff888000001c00 is now maple_node (maple_leaf_64), live" in report
    assert "Traceback" not in report


def test_a_lockless_reader_handed_a_metadata_word_faults_where_it_uses_the_vma(
        capsys, tmp_path):
    """replace-node-no-release, aimed-rcu seed 0: a reader's stale walk
    returns a leaf's metadata word; its use of the entry as a VMA faults at
    the word's value (was the result checker's "returned ... ->
    MapleMetadata(0xb,0x0), present in no possibly-current version")."""
    finding, report = _finding(capsys, tmp_path, "replace-node-no-release", 0,
                               10, strategy="aimed-rcu")
    assert finding["kind"] == "metadata-as-entry"
    assert finding["message"].startswith(
        "KASAN: null-ptr-deref in touch_vma <- lookup <- read_once")
    assert "Read of size 8 at addr 000000000000000b by task reader2/4" in report
    assert "(Vma.vm_start at offset 0)" in report
    assert "= MapleMetadata(0xb,0x0) in mtree_lookup_walk" in report


def _raised(obj, name):
    try:
        getattr(obj, name)
    except AttributeError as exc:
        return exc
    raise AssertionError(f"{obj!r}.{name} did not raise")


def test_only_a_field_looked_up_on_a_metadata_word_is_a_dereference_of_it():
    meta = MapleMetadata(3, 1)
    assert metadata_entry(_raised(meta, "vm_start")) is meta
    assert metadata_entry(_raised(object(), "vm_start")) is None
    assert metadata_entry(TypeError("'MapleMetadata' object is not subscriptable")) \
        is None
    assert getattr(meta, "vm_start", None) is None  # no magic on the word


def test_kasan_names_a_bad_address_by_where_it_falls():
    assert kasan_wild_bug_type(0x1D) == "null-ptr-deref"
    assert kasan_wild_bug_type(0x1000) == "user-memory-access"
    assert kasan_wild_bug_type(0xFFFF_0000_0000_0000) == "wild-memory-access"


def _model_failure(body):
    """The finding of a thread that runs @body(tree) on a small tree."""
    def program(h):
        h.spawn("t", body, _tree())

    [finding] = explore(program, executions=1).findings
    return finding


def _tree():
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    for i in range(1, 40):
        mtree_store_range(mt, i * 10, i * 10 + 5, i)
    return mt


def test_a_node_freed_while_not_dead_is_the_warning_of_ma_free_rcu():
    """replace-node-no-release on OS threads once ended in "AssertionError in
    ma_free_rcu": the kernel's WARN_ON() there is a WARNING splat."""
    finding = _model_failure(lambda mt: ma_free_rcu(mt, mt.ma_root[0]))
    assert finding.kind == "warning"
    assert finding.message.startswith(
        "WARNING in ma_free_rcu <- <lambda>: WARN_ON(node->parent != "
        "ma_parent_ptr(node)) (a node freed that is not dead)")
    assert "is not marked dead (its parent word does not point at itself)" \
        in finding.report
    assert "---[ end trace ]---" in finding.report


def test_a_bug_on_of_the_model_is_the_kernels_oops():
    finding = _model_failure(lambda mt: mte_set_pivot(mt.ma_root[0].slot[0], 15, 1))
    assert finding.kind == "bug"
    assert finding.message == ("kernel BUG in mte_set_pivot <- <lambda>: "
                               "BUG_ON(piv >= mt_pivots[type])")
    assert "kernel BUG at lib/maple_tree.c: BUG_ON(piv >= mt_pivots[type]) in " \
        "mte_set_pivot" in finding.report
    assert "task t/1 at step 0: pivot 15" in finding.report
