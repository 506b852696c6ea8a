"""Every strategy passes the same contract (hypothesis provider-conformance style)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcu_harness import explore, replay
from rcu_harness.kernel import SimStruct, schedule
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.protocol import Guided, Profiled, Sequential, Watching
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from rcu_harness.trace.events import decode_all, events_digest

NAMES = ("random", "pct", "dfs", "mix", "pos", "surw", "portfolio", "rff",
         "pct-sync", "random-sync", "aimed", "aimed-surw", "pct-site",
         "aimed-site", "pct-relay", "aimed-relay", "aimed-stale",
         "aimed-pct", "aimed-rcu", "aimed-class", "aimed-conflict", "aimed-data")
ONE_STALL_BEFORE_A_FIELD = ("pct-site", "pct-relay")
"""Strategies whose one stall falls before a field's first visit when it is
drawn among sites: a window between two accesses of one field by one thread
(the lost update's load and store) is not theirs (docs/search.md,
*pct-site*; pct-relay's relay needs a store to a field the stalled thread
loaded, and it stalled before its load); on a program of one field, as
here, calibration gives them pct-site's fallback (a stall at a drawn sync
decision), which finds it."""


class Cell(SimStruct):
    fields = ("value",)


def counter_program(h):
    """Three threads increment a shared cell non-atomically, draw random values."""
    cell = h.static(Cell, value=0)

    def worker(n):
        for _ in range(n):
            v = cell.value
            if h.random(4) == 0:
                schedule()
            cell.value = v + 1

    for i in range(3):
        h.spawn(f"w{i}", worker, 3)


runnable_sets = st.lists(st.integers(0, 7), min_size=2, max_size=6, unique=True).map(
    sorted)

def assert_runs_are_byte_identical_and_replay(prog, run, indices) -> None:
    """@run(index) twice gives the same events and schedule, and replaying
    that schedule gives the same events again."""
    for index in indices:
        a, b = run(index), run(index)
        digest = events_digest(decode_all(a.events))
        assert digest == events_digest(decode_all(b.events))
        assert a.schedule() == b.schedule()
        assert replay(a.schedule().encode(), program=prog).events_digest == digest



@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), calls=st.lists(
    st.tuples(runnable_sets, st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_strategy_always_returns_a_member_of_runnable(name, seed, calls):
    strategy = make_strategy(name, seed)
    assert strategy.new_execution(0)
    for runnable, keep_current, yielding in calls:
        current = runnable[0] if keep_current else None
        assert strategy.next_thread(runnable, current, yielding) in runnable
        assert 0 <= strategy.next_u64() < 2**64


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), calls=st.lists(runnable_sets, min_size=1,
                                                  max_size=40))
def test_strategy_never_keeps_a_yielding_thread_when_another_can_run(name, seed,
                                                                      calls):
    strategy = make_strategy(name, seed)
    assert strategy.new_execution(0)
    for runnable in calls:
        spinner = runnable[-1]
        assert strategy.next_thread(runnable, spinner, True) != spinner


@pytest.mark.parametrize("name", NAMES)
def test_strategy_is_deterministic_for_a_seed(name):
    def digests(seed):
        strategy = make_strategy(name, seed)
        out = []
        for i in range(5):
            if not strategy.new_execution(i):
                break
            ex = run_execution(counter_program, strategy, i)
            out.append(events_digest(decode_all(ex.events)))
        return out

    assert digests(11) == digests(11)


@pytest.mark.parametrize("name", NAMES)
def test_replay_of_recorded_schedule_reproduces_identical_event_digest(name):
    strategy = make_strategy(name, 5)
    for i in range(4):
        assert strategy.new_execution(i)
        ex = run_execution(counter_program, strategy, i)
        digest = events_digest(decode_all(ex.events))
        again = replay(ex.schedule().encode(), program=counter_program)
        assert again.events_digest == digest
        assert again.schedule == ex.schedule()


def test_random_strategy_explores_different_interleavings_per_execution():
    strategy = make_strategy("random", 1)
    seen = set()
    for i in range(20):
        strategy.new_execution(i)
        seen.add(run_execution(counter_program, strategy, i).schedule().steps)
    assert len(seen) > 10


def test_execution_seed_depends_only_on_base_seed_and_index():
    a, b = make_strategy("random", 9), make_strategy("random", 9)
    a.new_execution(7)
    for i in (3, 1, 7):
        b.new_execution(i)
    assert a.execution_seed == b.execution_seed
    assert [a.next_u64() for _ in range(3)] == [b.next_u64() for _ in range(3)]


def test_lost_update_is_found_by_every_strategy_that_can_stop_inside_an_rmw():
    def program(h):
        cell = h.static(Cell, value=0)

        def inc():
            v = cell.value
            cell.value = v + 1

        h.spawn("a", inc)
        h.spawn("b", inc)

        def final():
            assert cell.value == 2, "lost update"

        h.at_exit(final)

    for name in NAMES:
        result = explore(program, strategy=name, executions=200, seed=3)
        assert result.findings, name
        assert "lost update" in result.findings[0].report
    for name in ONE_STALL_BEFORE_A_FIELD:  # a given site count: no fallback
        result = explore(program, strategy=name, executions=200, seed=3, sites=1)
        assert not result.findings, name  # its stall precedes both loads


@pytest.mark.parametrize("name", NAMES)
def test_the_registry_states_each_strategys_capabilities_truly(name):
    kind = STRATEGIES[name]
    strategy = kind.make(0)
    assert kind.sequential == isinstance(strategy, Sequential)
    assert kind.calibrated == ("steps" in kind.options())
    assert kind.sync_calibrated == ("sync_steps" in kind.options())
    assert kind.site_calibrated == ("sites" in kind.options())
    assert kind.profiled == ("profile" in kind.options()) == isinstance(strategy,
                                                                       Profiled)
    assert kind.watching == isinstance(strategy, Watching)
    assert kind.guided == isinstance(strategy, Guided)
    assert isinstance(strategy, Sequential) or not hasattr(strategy, "follow")
