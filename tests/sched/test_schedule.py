"""Schedules are data: compact versioned encoding, strict replay."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcu_harness import explore, replay
from rcu_harness.kernel import SimStruct
from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.random_walk import RandomStrategy
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.sched.schedule import (
    RANDOM,
    Schedule,
    ScheduleDecodeError,
    preemptions,
)


@given(seed=st.integers(0, 2**64 - 1),
       steps=st.lists(st.integers(-1, 300), max_size=400))
def test_schedule_encoding_roundtrips(seed, steps):
    s = Schedule(seed, tuple(steps))
    text = s.encode()
    assert Schedule.decode(text) == s
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789-_")


@given(seed=st.integers(0, 2**64 - 1),
       steps=st.lists(st.integers(-4, 300), max_size=200),
       value=st.integers(0, 2**64 - 1))
def test_a_schedule_with_chosen_values_roundtrips_as_version_3(seed, steps, value):
    steps = [*steps, RANDOM]
    values = tuple(value // (i + 1) for i, s in enumerate(steps) if s == RANDOM)
    s = Schedule(seed, tuple(steps), values)
    raw = base64.urlsafe_b64decode(s.encode() + "==")
    assert raw[2] == 3
    assert Schedule.decode(s.encode()) == s


def test_schedules_without_chosen_values_keep_their_old_text():
    # recorded before chosen values existed: version 1, and 2 with a read choice
    assert Schedule(5, (0, RANDOM, 1)).encode() == "UkgBAAUDAQAC"
    assert Schedule.decode("UkgBAAUDAQAC") == Schedule(5, (0, RANDOM, 1))
    assert base64.urlsafe_b64decode(Schedule(5, (0, -3)).encode() + "==")[2] == 2


def test_a_version_3_schedule_with_values_for_other_draws_is_refused():
    # seed 5, steps (0, RANDOM), values (3, 4): made by hand, since a
    # Schedule refuses them
    raw = b"RH\x03\x00" + bytes([5, 2, 0, 1, 2, 3, 4])
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(ScheduleDecodeError, match="2 values for 1 random draws"):
        Schedule.decode(text)


def test_a_schedule_with_values_for_other_draws_is_refused_when_made():
    with pytest.raises(ValueError, match="1 values for 2 random draws"):
        Schedule(4, (RANDOM, RANDOM), (7,))
    with pytest.raises(ValueError, match="2 values for 1 random draws"):
        Schedule(4, (0, RANDOM), (7, 3))


def test_a_schedule_with_a_negative_value_is_refused_when_made():
    # a negative value has no varint: encoding it would never end
    with pytest.raises(ValueError, match="value -1 of draw 1 is negative"):
        Schedule(4, (RANDOM, RANDOM), (3, -1))


def test_replay_returns_the_recorded_values_instead_of_the_seeds():
    values = []

    def program(h):
        h.spawn("t", lambda: values.extend([h.random(1000), h.random(1000)]))

    result = replay(Schedule(4, (RANDOM, RANDOM), (7, 993)), program=program)
    assert values == [7, 993]
    assert result.schedule.values == (7, 993)


def test_long_repetitive_schedules_are_compressed():
    s = Schedule(1, tuple([1, 2] * 5000))
    assert len(s.encode()) < 200


def test_decode_rejects_other_versions_and_garbage():
    good = base64.urlsafe_b64decode(Schedule(1, (1,)).encode() + "==")
    bad_version = base64.urlsafe_b64encode(good[:2] + bytes([9]) + good[3:])
    with pytest.raises(ScheduleDecodeError, match="version 9"):
        Schedule.decode(bad_version.decode())
    with pytest.raises(ScheduleDecodeError, match="magic"):
        Schedule.decode("AAAAAAAA")


def test_replay_divergence_names_decision_expected_and_runnable():
    strategy = ReplayStrategy(Schedule(0, (5,)))
    strategy.new_execution(0)
    with pytest.raises(ReplayDivergence,
                       match=r"decision 0: expected thread 5, runnable threads "
                             r"are \[1, 2\]"):
        strategy.next_thread([1, 2], 1)


def test_replay_of_a_different_program_diverges():
    class Cell(SimStruct):
        fields = ("v",)

    def program(h):
        c = h.static(Cell, v=0)

        def t():
            c.v = 1
            c.v = 2

        h.spawn("a", t)
        h.spawn("b", t)

    schedule = Schedule(0, (1, 1, 1, 1, 1, 1, 1, 1, 1))
    with pytest.raises(ReplayDivergence):
        replay(schedule, program=program)


def test_random_draws_are_recorded_and_replayed():
    values = []

    def program(h):
        h.spawn("t", lambda: values.append(h.random(1000)))

    result = explore(program, executions=1, seed=4,
                     replay_hint="{schedule}")
    assert result.ok
    assert values
    first = values[-1]
    # a schedule with one random draw replays the same value
    rec = Schedule(RandomStrategy(4).execution_seed, (RANDOM,))
    strategy = RandomStrategy(4)
    strategy.new_execution(0)
    values.clear()
    replay(Schedule(strategy.execution_seed, (RANDOM,)), program=program)
    assert values == [first]
    assert rec.decisions == 0


def test_a_logging_replay_counts_decisions_and_preemptions():
    walk = RandomStrategy(1)
    steps = tuple(walk.next_thread([1, 2], 1) for _ in range(100))
    strict = ReplayStrategy(Schedule(7, steps), log=True)
    strict.new_execution(0)
    for _ in range(100):
        strict.next_thread([1, 2], 1)
    assert len(strict.decisions) == 100
    assert preemptions(strict.decisions) == sum(1 for s in steps if s != 1)
    assert 20 < preemptions(strict.decisions) < 80
