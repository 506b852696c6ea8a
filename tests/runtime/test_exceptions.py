"""What a lockless reader walks into after stale loads (weak memory) is a
kernel-style finding naming the loads behind it, never a Python error of
the model: a NULL node pointer is a null-ptr-deref, the tree a root's
parent word points at, taken for a node, is not-a-node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import stress_json

pytestmark = pytest.mark.timeout(300)


def _finding(capsys, tmp_path, mutant, seed, executions):
    code, out = stress_json(capsys, tmp_path, "--mutant", mutant, "--strategy",
                            "aimed-stale", "--seed", str(seed), "--executions",
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
