"""Bounded DFS: exhausts small programs and finds every distinct interleaving."""

from rcu_harness import explore
from rcu_harness.kernel import SimStruct
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.trace.events import EventKind, decode_all


class Cell(SimStruct):
    fields = ("value",)


def two_by_two(h):
    a, b = h.static(Cell, value=0), h.static(Cell, value=0)

    def t(cell):
        cell.value = 1
        cell.value = 2

    h.spawn("a", t, a)
    h.spawn("b", t, b)


def _orders(bound):
    dfs = DfsStrategy(preemption_bound=bound)
    orders = []
    while dfs.new_execution(0):
        ex = run_execution(two_by_two, dfs, 0)
        orders.append(tuple(e.thread for e in decode_all(ex.events)
                            if e.kind is EventKind.STORE))
    assert dfs.exhausted
    return orders


def test_dfs_exhausts_tiny_program_and_finds_all_distinct_interleavings():
    orders = _orders(bound=10)
    assert len(set(orders)) == 6  # C(4, 2) interleavings of 2 + 2 stores
    assert len(orders) == len(set(orders)), "no interleaving explored twice"


def test_dfs_preemption_bound_zero_runs_threads_to_completion():
    assert set(_orders(bound=0)) == {(1, 1, 2, 2), (2, 2, 1, 1)}


def test_dfs_preemption_bound_one_allows_a_single_preemption():
    orders = set(_orders(bound=1))
    assert (1, 2, 2, 1) in orders
    assert (1, 2, 1, 2) not in orders


def test_explore_reports_exhaustion():
    result = explore(two_by_two, strategy="dfs", executions=1000)
    assert result.exhausted
    assert result.ok
    assert result.executions < 1000
