"""``random-sync``: switches only at points of its kind, determinism
(traces, replay, blocks, resume), a portfolio member, bad parameters, and
that it finds the two-stall bug PCT's discipline cannot."""

from types import SimpleNamespace

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.execution import PENDING_ONLY
from rcu_harness.runtime.pending import Access, MapleAccess
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.sched.pct_sync import counted
from rcu_harness.sched.random_sync import RandomSyncStrategy
from rcu_harness.sched.registry import make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
)
from tests.sched.test_strategy_contract import (
    assert_runs_are_byte_identical_and_replay,
)

SEQ = configure(MUTANTS["vma-start-read-skips-seq-recheck"].scenario,
                mutant="vma-start-read-skips-seq-recheck")
SPEC = RunSpec("page_fault", strategy="random-sync", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})
NODE = MapleAccess(0x200, "slot", 3, False)
FIELD = Access(0x100, "vm_lock_seq", -1, False)
LOCK = Access(0x180, "lock", -1, True)


def _threads(*pending):
    return [SimpleNamespace(pending=p) for p in pending]


@pytest.mark.parametrize(("points", "switching"), [
    ("sync", (True, True, True, False)),
    ("access", (False, True, True, False)),
    ("field", (False, True, False, False)),
])
def test_the_current_thread_keeps_running_unless_its_point_is_of_the_kind(
        points, switching):
    for pending, may_switch in zip((None, FIELD, LOCK, NODE), switching, strict=True):
        strategy = RandomSyncStrategy(5, points=points)
        strategy.new_execution(0)
        strategy.watch(_threads(pending, NODE, NODE))
        chosen = {strategy.next_thread([0, 1, 2], 0) for _ in range(40)}
        assert (chosen != {0}) is may_switch, (pending, chosen)


def test_a_yielding_blocked_or_unwatched_thread_gives_way():
    strategy = RandomSyncStrategy(1)
    strategy.new_execution(0)
    strategy.watch(_threads(NODE, NODE))
    assert strategy.next_thread([0, 1], 0, yielding=True) == 1
    assert strategy.next_thread([1], 0) == 1  # 0 blocked or finished
    unwatched = RandomSyncStrategy(1)
    unwatched.new_execution(0)
    assert {unwatched.next_thread([0, 1], 0) for _ in range(40)} == {0, 1}


def test_switches_fall_only_at_points_of_the_kind_in_a_fault():
    class Spy(RandomSyncStrategy):
        def next_thread(self, runnable, current, yielding=False):
            got = super().next_thread(runnable, current, yielding)
            if current in runnable and got != current and not yielding:
                self.switched.append(self._threads[current].pending)
            return got

    prog = program(configure("page_fault", mutant="vma-freed-without-rcu"))
    with applied("vma-freed-without-rcu"):
        for index in range(3):
            spy = Spy(0, points="field")
            spy.switched = []
            spy.new_execution(index)
            ex = run_execution(prog, spy, index, record=0)
            assert ex.access_hook is PENDING_ONLY
            assert spy.switched
            assert all(counted(p, False, False) for p in spy.switched)


def test_a_bad_kind_is_a_one_line_error():
    with pytest.raises(PlanError, match="random-sync points must be one of"):
        check_strategy("random-sync", {"points": "nodes"})


def test_a_portfolio_execution_is_its_random_sync_members_execution():
    prog = program(SEQ)

    def schedule(name, index, **p):
        strategy = make_strategy(name, 2, **p)
        strategy.new_execution(index)
        with applied(SEQ.mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    assert schedule("portfolio", 3, members="pct,random-sync", steps=300,
                    sync_points="field") == schedule("random-sync", 3,
                                                     points="field")


def test_maple_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    prog = program(configure("rcu_transitions", mutant="publish-before-fill"))

    def run(index):
        strategy = make_strategy("random-sync", 7)
        strategy.new_execution(index)
        return run_execution(prog, strategy, index, record=2)

    assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    plan = resolve(SPEC)
    assert_blocks_split_exactly(plan, ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 32, finds=False)


def test_it_finds_the_two_stall_seq_recheck_bug():
    """vma-start-read-skips-seq-recheck: fault, writer, fault, writer
    (docs/search.md, *random-sync*); seed 0 finds it in its fourth execution,
    where mix's median is 582 and pct, pct-sync find it in none of 2,000."""
    from rcu_harness import explore

    with applied(SEQ.mutant):
        result = explore(program(SEQ), strategy="random-sync", executions=4, seed=0)
    assert result.findings
    assert result.findings[0].kind == "vma-lock"
