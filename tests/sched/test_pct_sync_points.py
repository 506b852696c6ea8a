"""``pct-sync``'s ``points``: change points drawn among the decisions of one
kind (``access``: a non-maple memory access, ``field``: one that is not a
lock operation either), its calibration, bounds, determinism (traces,
replay, blocks, resume) and that it aims at the slow windows."""

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.pending import Access, MapleAccess
from rcu_harness.scenarios import applied, configure, program
from rcu_harness.sched.pct_sync import PctSyncStrategy, counted
from rcu_harness.sched.registry import make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
)
from tests.sched.test_pct_sync import FAULT, UNLOCK, _Spy
from tests.sched.test_strategy_contract import (
    assert_runs_are_byte_identical_and_replay,
)

FIELD = Access(0x100, "vm_lock_seq", -1, False)
RMW = Access(0x100, "vm_refcnt", -1, True)
LOCK = Access(0x180, "lock", -1, True)
NODE = MapleAccess(0x200, "slot", 3, False)
SPEC = RunSpec("page_fault", strategy="pct-sync", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6},
               strategy_params={"points": "field"})


@pytest.mark.parametrize(("points", "expected"), [
    ("sync", (True, True, True, True, False)),
    ("access", (False, True, True, True, False)),
    ("field", (False, True, True, False, False)),
])
def test_each_kind_counts_its_decisions(points, expected):
    strategy = PctSyncStrategy(0, points=points)
    got = tuple(counted(p, strategy._at_none, strategy._at_locks)
                for p in (None, FIELD, RMW, LOCK, NODE))
    assert got == expected


@pytest.mark.parametrize("points", ["access", "field"])
def test_change_points_fall_only_at_decisions_of_the_kind(points):
    prog = program(FAULT)
    params = calibrate(prog, "pct-sync", 0, strategy_params={"points": points})
    changed = 0
    with applied(FAULT.mutant):
        for index in range(6):
            spy = _Spy(0, depth=6, **params)
            spy.ran, spy.lowered = [], []
            spy.new_execution(index)
            run_execution(prog, spy, index, record=0)
            assert all(counted(p, False, points == "access") for p in spy.lowered)
            changed += len(spy.lowered)
    assert changed >= 10


def test_the_calibration_counts_the_kind_and_is_fixed_by_the_seed():
    prog = program(FAULT)
    steps = {p: calibrate(prog, "pct-sync", 3, strategy_params={"points": p})
             ["sync_steps"] for p in ("sync", "access", "field")}
    assert 0 < steps["field"] < steps["access"] < steps["sync"]
    assert steps["field"] == calibrate(prog, "pct-sync", 3, strategy_params={
        "points": "field"})["sync_steps"]
    mixed = calibrate(prog, "portfolio", 3, strategy_params={
        "members": "pct,pct-sync,random", "points": "field"})
    assert mixed["sync_steps"] == steps["field"]


def test_the_default_is_sync_and_a_portfolio_member_takes_points():
    prog = program(FAULT)

    def schedule(name, index, **p):
        strategy = make_strategy(name, 2, **p)
        strategy.new_execution(index)
        with applied(FAULT.mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    assert schedule("pct-sync", 1, sync_steps=90) == schedule(
        "pct-sync", 1, sync_steps=90, points="sync")
    assert schedule("portfolio", 5, members="pct,pct-sync", sync_steps=40,
                    points="field") == schedule("pct-sync", 5, sync_steps=40,
                                                points="field")


def test_a_bad_kind_is_a_one_line_error():
    with pytest.raises(PlanError, match="points must be one of sync, access, field"):
        check_strategy("pct-sync", {"points": "locks"})


@pytest.mark.parametrize("points", [None, "access", "field"])
def test_maple_traces_are_byte_identical_for_a_seed_and_replay_exactly(points):
    """Each kind, and the default (None: ``sync``)."""
    prog = program(configure("rcu_transitions", mutant="publish-before-fill"))
    own = {"points": points} if points else None
    params = calibrate(prog, "pct-sync", 7, strategy_params=own)

    def run(index):
        strategy = make_strategy("pct-sync", 7, **params)
        strategy.new_execution(index)
        return run_execution(prog, strategy, index, record=2)

    assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    plan = resolve(SPEC)
    assert plan.strategy_params["points"] == "field"
    assert_blocks_split_exactly(plan, ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 32, finds=True)


def test_field_stops_a_reader_in_its_one_decision_window():
    """vma-used-after-rcu-unlock with points=field: found on seed 0 in 2
    executions (pct-sync's default kind: 5; reports/BENCHMARKS.md, *Aiming
    the stall*)."""
    from rcu_harness import explore

    with applied(UNLOCK.mutant):
        result = explore(program(UNLOCK), strategy="pct-sync", executions=5,
                         seed=0, points="field")
    assert result.findings
    assert result.findings[0].kind == "use-after-free"
