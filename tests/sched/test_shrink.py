"""Shrinking: the same failure with the fewest preemptions, deterministically."""

import itertools

import pytest

from rcu_harness import explore
from rcu_harness.kernel import SimStruct
from rcu_harness.runner.replay import replay
from rcu_harness.runner.run import run_execution
from rcu_harness.runner.shrink import delay_thread, merge_next, segments, shrink
from rcu_harness.runtime.finding import signature
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.sched.schedule import Schedule, preemptions


class Cell(SimStruct):
    fields = ("value",)


def lost_update(h):
    """Two increments race (needs one preemption); three noisy threads."""
    counter = h.static(Cell, value=0)
    noise = [h.static(Cell, value=0) for _ in range(3)]

    def inc():
        v = counter.value
        counter.value = v + 1

    def busy(cell):
        for v in range(12):
            cell.value = v

    for i, cell in enumerate(noise):
        h.spawn(f"noise{i}", busy, cell)
    h.spawn("a", inc)
    h.spawn("b", inc)
    h.at_exit(lambda: None if counter.value == 2 else 1 / 0)


def _run(strategy):
    return run_execution(lost_update, strategy, 0, record=0)


@pytest.fixture(scope="module")
def failing():
    result = explore(lost_update, strategy="random", executions=200, seed=3)
    assert result.findings
    return result.findings[0]


def test_shrinking_removes_the_noise_preemptions(failing):
    original = Schedule.decode(failing.schedule)
    result = shrink(_run, original, max_runs=400)
    assert result.preemptions_before > 5
    assert result.preemptions_after <= 1
    assert result.signature == failing.signature
    assert not result.budget_spent


def test_the_shrunk_schedule_replays_strictly_to_the_same_finding(failing):
    result = shrink(_run, Schedule.decode(failing.schedule), max_runs=400)
    again = replay(result.schedule, program=lost_update)
    assert again.finding is not None
    assert again.finding.signature == failing.signature


def test_shrinking_is_deterministic(failing):
    original = Schedule.decode(failing.schedule)
    assert shrink(_run, original, max_runs=400) == shrink(_run, original,
                                                          max_runs=400)


def test_shrinking_stays_within_its_run_budget(failing):
    result = shrink(_run, Schedule.decode(failing.schedule), max_runs=5)
    assert result.runs == 5
    assert result.budget_spent
    assert result.preemptions_after <= result.preemptions_before


def test_a_schedule_that_does_not_fail_cannot_be_shrunk():
    pct = make_strategy("pct", 0, steps=50)
    runs = (_run(pct) for i in range(20) if pct.new_execution(i))
    passing = next(ex for ex in runs if ex.violation is None)
    with pytest.raises(ValueError, match="does not fail"):
        shrink(_run, passing.schedule())


def test_the_logging_replay_counts_preemptions_of_a_recorded_schedule(failing):
    strategy = ReplayStrategy(Schedule.decode(failing.schedule), log=True)
    strategy.new_execution(0)
    ex = _run(strategy)
    v = ex.violation
    assert signature(str(v.kind), v.key) == failing.signature
    assert strategy.remaining == 0
    assert preemptions(strategy.decisions) > 0


def test_segment_moves():
    segs = [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2)]
    assert merge_next(segs, 0) == [(1, 5), (2, 1), (3, 1), (2, 2)]
    assert merge_next(segs, 1) == [(1, 2), (2, 3), (1, 3), (3, 1)]
    assert merge_next(segs, 3) is None
    assert delay_thread(segs, 1) == [(2, 1), (3, 1), (2, 2), (1, 5)]


def test_segments_group_runs_of_the_same_choice(failing):
    strategy = ReplayStrategy(Schedule.decode(failing.schedule), log=True)
    strategy.new_execution(0)
    _run(strategy)
    segs = segments(strategy.decisions)
    assert sum(n for _, n in segs) == len(strategy.decisions)
    assert all(a[0] != b[0] for a, b in itertools.pairwise(segs))
