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
