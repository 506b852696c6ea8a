"""No state carried between executions of one process changes a trace: the
same executions run in another order, or after a mutant's run, in the same
process, give the same bytes (the caches of the speed work, such as the
shared one-frame call chains and mt_validate()'s fast pass, must not)."""

from __future__ import annotations

import hashlib

import pytest

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.sched.registry import make_strategy
from rcu_harness.trace.events import decode_all, events_digest


def _traces(scenario: str, order: list[int]) -> dict[int, tuple[str, str]]:
    setup = program(configure(scenario))
    params = calibrate(setup, "mix", 0)
    out = {}
    for i in order:
        strategy = make_strategy("mix", 0, **params)
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=2)
        out[i] = (events_digest(decode_all(ex.events)),
                  hashlib.blake2b(ex.schedule().encode().encode()).hexdigest())
    return out


@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_executions_in_another_order_give_the_same_traces(scenario):
    first = _traces(scenario, [0, 1])
    explore_scenario("rcu_transitions", mutant="in-place-write-in-rcu",
                     executions=2, seed=0)
    assert _traces(scenario, [1, 0]) == first
