"""field_rmw() under lkmm: its conditional first read, and the per-VMA lock
designs (page_fault) clean under lkmm, their mutants still found."""

from __future__ import annotations

import pytest

from rcu_harness import explore
from rcu_harness.kernel import SimStruct
from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.simstruct import field_rmw
from rcu_harness.scenarios import MUTANTS, configure
from rcu_harness.scenarios.run import explore_scenario

pytestmark = pytest.mark.timeout(300)


class Ref(SimStruct):
    fields = ("v",)


def _outcomes(conditional: bool) -> set[tuple[int, int]]:
    """T0 sets the count, then a flag; T1 reads the flag, then takes a
    reference with refcount_inc_not_zero(): (flag seen, old count)."""
    seen: set[tuple[int, int]] = set()

    def program(h):
        count, flag = h.static(Ref, v=0), h.static(Ref, v=0)

        def writer():
            count.v = 1
            flag.v = 1

        def getter():
            f = flag.v
            old = field_rmw(count, "v", lambda c: c + 1 if c else c,
                            RmwOrder.RELAXED, conditional=conditional)
            seen.add((f, old))

        h.spawn("writer", writer)
        h.spawn("getter", getter)

    result = explore(program, strategy="dfs", executions=10_000,
                     preemption_bound=100, memory_model="lkmm")
    assert result.ok
    return seen


def test_a_conditional_rmw_may_fail_on_a_stale_read_an_rmw_reads_the_newest():
    # Without ordering the getter may see the flag and still read the count
    # 0 in its atomic_read() (the inc-not-zero fails there, writing nothing);
    # an unconditional RMW reads the newest store, 1, once the flag is set.
    assert _outcomes(True) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert _outcomes(False) == {(0, 0), (0, 1), (1, 1)}


@pytest.mark.parametrize("design", ["modern", "vma_refcnt"])
def test_page_fault_is_clean_under_lkmm(design):
    params = {"design": design, "memory_model": "lkmm"}
    if design == "vma_refcnt":  # the known finding proc-maps-stale-iterator
        params["kernel_fixes"] = "maps-restart-at-last-addr"
    result = explore_scenario(configure("page_fault", params), executions=30, seed=3)
    assert result.ok, result.findings[0].report


@pytest.mark.parametrize("mutant", ["dup-mmap-skips-parent-vma-lock",
                                    "mprotect-skips-vma-start-write",
                                    "mm-lock-seq-bump-before-tree-update"])
def test_per_vma_lock_mutants_are_found_under_lkmm(mutant):
    cfg = configure(MUTANTS[mutant].scenario, {"memory_model": "lkmm"}, mutant)
    found = explore_scenario(cfg, executions=20, seed=0)
    assert found.findings, mutant
    assert found.findings[0].kind == "vma-lock"


def _mp_outcomes(release: bool) -> set[tuple[int, int]]:
    """vma_mark_attached() / vma_start_read() in miniature: data, then the
    count set (refcount_set_release() or a relaxed RMW); a reader takes a
    reference with the acquire inc-not-zero and reads the data."""
    from rcu_harness.memory.simstruct import field_set_release

    seen: set[tuple[int, int]] = set()

    def program(h):
        count, data = h.static(Ref, v=0), h.static(Ref, v=0)

        def attach():
            data.v = 1
            if release:
                field_set_release(count, "v", 1)
            else:
                field_rmw(count, "v", lambda c: 1, RmwOrder.RELAXED)

        def reader():
            old = field_rmw(count, "v", lambda c: c + 1 if c else c,
                            RmwOrder.ACQUIRE, conditional=True)
            seen.add((old, data.v))

        h.spawn("attach", attach)
        h.spawn("reader", reader)

    assert explore(program, strategy="dfs", executions=10_000,
                   preemption_bound=100, memory_model="lkmm").ok
    return seen


def test_a_release_set_and_an_acquire_inc_not_zero_pass_a_message():
    assert _mp_outcomes(True) == {(0, 0), (0, 1), (1, 1)}
    assert _mp_outcomes(False) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_without_the_rcuwait_barriers_a_writer_misses_its_wake_up(monkeypatch):
    # rcuwait_wait_event()'s set_current_state() (A) and rcuwait_wake_up()'s
    # smp_mb() (B): without them the last reader's vma_refcount_put() reads a
    # stale NULL task and the writer sleeps for ever (docs/weak-memory.md)
    from rcu_harness.scenarios import vma

    params = {"design": "vma_refcnt", "memory_model": "lkmm",
              "kernel_fixes": "maps-restart-at-last-addr"}
    monkeypatch.setattr(vma, "smp_mb", lambda: None)
    found = explore_scenario(configure("page_fault", params), executions=20, seed=3)
    assert found.findings  # at execution 0
    assert found.findings[0].kind == "deadlock"
    assert "vma_writer_wait" in found.findings[0].report


def test_a_maps_reader_may_show_the_tree_its_view_still_has():
    """aimed-rcu's execution 13 of seed 0 (vma_refcnt with the candidate fix
    maps-restart-at-last-addr, lkmm): lock_next_vma() reads mm_lock_seq odd
    and, on both walks, the node from before the owner stored a VMA into the
    gap it then shows.  LKMM allows that (herd7: maps-seq-odd-rewalk in
    stress/litmus/), the reader's view still lacking every store of the
    owner's mmap_lock cycle; the gap was empty in the tree that view had, so
    the hole check, judging from the reader's horizon, passes it."""
    params = {"design": "vma_refcnt", "memory_model": "lkmm",
              "kernel_fixes": "maps-restart-at-last-addr"}
    result = explore_scenario(configure("page_fault", params), strategy="aimed-rcu",
                              executions=14, seed=0)
    assert result.executions == 14
    assert result.ok, result.findings[0].report
