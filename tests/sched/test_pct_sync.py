"""``pct-sync``: the kind of a point, change points only at sync points, its
calibration and bounds, determinism (traces, replay, blocks, resume) and
that it aims where the slow page_fault windows are."""

from types import SimpleNamespace

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.execution import PENDING_ONLY
from rcu_harness.runtime.pending import Access, MapleAccess, is_sync
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.sched.pct_sync import PctSyncStrategy
from rcu_harness.sched.registry import StrategyParamError, check_bounds, make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
)

UNLOCK = configure(MUTANTS["vma-used-after-rcu-unlock"].scenario,
                   mutant="vma-used-after-rcu-unlock")
FAULT = configure("page_fault", mutant="vma-freed-without-rcu")
SPEC = RunSpec("page_fault", strategy="pct-sync", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})


def _threads(*pending):
    return [SimpleNamespace(pending=p) for p in pending]


def test_a_point_is_sync_unless_it_is_a_maple_word():
    assert is_sync(None)  # an RCU primitive, a yield, an Atomic, a free
    assert is_sync(Access(0x100, "vm_lock_seq", -1, False))  # a VMA field
    assert is_sync(Access(0x100, "lock", -1, True))  # a lock operation
    assert not is_sync(MapleAccess(0x200, "slot", 3, False))
    assert not is_sync(MapleAccess(0x300, "ma_root", -1, True))


class _Spy(PctSyncStrategy):
    """Records the pending access of each thread a decision ran and of each
    thread a change point lowered."""

    def next_thread(self, runnable, current, yielding=False):
        before = len(self._change_points)
        got = super().next_thread(runnable, current, yielding)
        if len(self._change_points) < before:
            self.lowered.append(self._threads[self._lowered[-1]].pending)
        self.ran.append(self._threads[got].pending)
        return got


def test_change_points_fall_only_at_sync_decisions_of_a_fault():
    prog = program(FAULT)
    params = calibrate(prog, "pct-sync", 0)
    kinds, changed = set(), 0
    with applied(FAULT.mutant):
        for index in range(6):
            spy = _Spy(0, depth=6, **params)
            spy.ran, spy.lowered = [], []
            spy.new_execution(index)
            ex = run_execution(prog, spy, index, record=0)
            assert ex.access_hook is PENDING_ONLY
            kinds |= {type(p) for p in spy.ran}
            assert all(is_sync(p) for p in spy.lowered), spy.lowered
            changed += len(spy.lowered)
    assert changed >= 10
    assert {MapleAccess, Access, type(None)} <= kinds  # every kind was decided


def test_sync_steps_counts_fewer_decisions_than_steps_and_is_fixed_by_the_seed():
    prog = program(FAULT)
    sync = calibrate(prog, "pct-sync", 3)
    assert sync == calibrate(prog, "pct-sync", 3)
    steps = calibrate(prog, "pct", 3)["steps"]
    assert 0 < sync["sync_steps"] < steps / 2  # most decisions are node words
    assert calibrate(prog, "pct-sync", 3, strategy_params={"sync_steps": 9}) == {
        "sync_steps": 9}


def test_portfolios_take_sync_steps_only_with_a_pct_sync_member():
    prog = program(FAULT)
    mixed = calibrate(prog, "portfolio", 3,
                      strategy_params={"members": "pct,pct-sync,random"})
    assert mixed["sync_steps"] == calibrate(prog, "pct-sync", 3)["sync_steps"]
    assert mixed["steps"] == calibrate(prog, "pct", 3)["steps"]
    assert "sync_steps" not in calibrate(prog, "portfolio", 3,
                                         strategy_params={"profile": "1:9"})


def test_a_portfolio_execution_is_its_pct_sync_members_execution():
    prog = program(FAULT)
    params = {"members": "pct,pct-sync,random", "steps": 300, "sync_steps": 90}

    def schedule(name, index, **p):
        strategy = make_strategy(name, 2, **p)
        strategy.new_execution(index)
        with applied(FAULT.mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    assert schedule("portfolio", 4, **params) == schedule("pct-sync", 4,
                                                           sync_steps=90)
    assert schedule("portfolio", 3, **params) == schedule("pct", 3, steps=300)


@pytest.mark.parametrize(("params", "message"), [
    ({"sync_steps": "-1"}, "must be a non-negative integer"),
    ({"depth": "0"}, "depth must be between 1 and 1000"),
    ({"steps": "5"}, "has no parameter 'steps'"),
])
def test_bad_parameters_are_one_line_errors(params, message):
    with pytest.raises(PlanError, match=message):
        check_strategy("pct-sync", params)


def test_depth_and_sync_steps_are_bounded_by_the_execution():
    with pytest.raises(StrategyParamError, match="sync_steps=500 exceeds the step"):
        check_bounds("pct-sync", {"sync_steps": 500}, 400)
    with pytest.raises(StrategyParamError, match=r"depth=9 exceeds sync_steps \+ 1"):
        check_bounds("pct-sync", {"sync_steps": 4, "depth": 9}, 400)
    check_bounds("pct-sync", {"sync_steps": 4, "depth": 5}, 400)
    with pytest.raises(ValueError, match="pct-sync sync_steps must be >= 0"):
        PctSyncStrategy(0, sync_steps=-1)


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    plan = resolve(SPEC)
    assert plan.strategy_params["sync_steps"] > 1
    assert plan == resolve(SPEC)
    assert_blocks_split_exactly(plan, ((0, 5), (5, 6), (6, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40, finds=True)


def test_it_stops_a_reader_in_its_one_decision_window():
    """vma-used-after-rcu-unlock: the reader must stop between
    rcu_read_unlock() and the VMA's first load (one decision of about 500;
    mix's median is 49 executions, pct's 18.5).  pct-sync finds it on seed 0
    in 5 (reports/BENCHMARKS.md, *pct-sync*)."""
    from rcu_harness import explore

    with applied(UNLOCK.mutant):
        result = explore(program(UNLOCK), strategy="pct-sync", executions=20, seed=0)
    assert result.findings
    assert result.findings[0].kind == "use-after-free"


def test_without_watched_threads_every_decision_counts():
    strategy = PctSyncStrategy(1, depth=2, sync_steps=3)
    strategy.new_execution(0)
    assert strategy._change_points
    point = strategy._change_points[0]
    for _ in range(point):
        strategy.next_thread([0, 1], 0)
    assert strategy._step == point
    assert not strategy._change_points
    strategy.watch(_threads(MapleAccess(1, "slot", 0, False),
                            MapleAccess(2, "slot", 0, False)))
    strategy.next_thread([0, 1], 0)
    assert strategy._step == point  # a node-word decision is not counted
