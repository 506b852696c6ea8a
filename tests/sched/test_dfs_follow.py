"""DfsStrategy.follow: a search rebuilt from one execution's decisions goes on
exactly as the uninterrupted search would."""

import pytest

from rcu_harness.kernel import SimStruct
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.sched.errors import NondeterminismError


class Cell(SimStruct):
    fields = ("value",)


def three_threads(h):
    cells = [h.static(Cell, value=0) for _ in range(3)]

    def t(cell):
        for v in range(3):
            cell.value = v

    for i, cell in enumerate(cells):
        h.spawn(f"t{i}", t, cell)


def _paths(dfs, start, count):
    out = []
    for i in range(start, start + count):
        if not dfs.new_execution(i):
            break
        out.append(run_execution(three_threads, dfs, i, record=0).schedule())
    return out


def test_following_an_execution_continues_the_search_where_it_was():
    whole = _paths(DfsStrategy(preemption_bound=2), 0, 40)
    for cut in (1, 7, 23):
        resumed = DfsStrategy(preemption_bound=2)
        resumed.follow(whole[cut - 1].steps)
        assert resumed.new_execution(cut - 1)
        again = run_execution(three_threads, resumed, cut - 1, record=0)
        assert again.schedule() == whole[cut - 1]
        assert _paths(resumed, cut, 40 - cut) == whole[cut:]


def test_following_a_schedule_the_program_cannot_take_is_nondeterminism():
    dfs = DfsStrategy()
    dfs.follow([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    dfs.new_execution(0)
    with pytest.raises(NondeterminismError, match="retracing"):
        run_execution(three_threads, dfs, 0, record=0)
