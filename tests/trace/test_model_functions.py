"""Every access an execution records with model functions (record=2) names
the model or scenario function that made it, never a harness function:
the fixed-depth frame reads of the access paths land on the caller of
the word array, the field or the tree word, slices included (a slice's
words are named by the function that loaded or stored the slice:
``memcpy()``, ``node_copy()``)."""

from __future__ import annotations

import pytest

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy


def _harness(filename: str) -> bool:
    return "rcu_harness/" in filename and "/scenarios/" not in filename


@pytest.mark.parametrize("strategy_name", ["mix", "pct-site"])
@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_every_recorded_access_names_a_model_function(scenario, strategy_name):
    setup = program(configure(scenario))
    strategy = make_strategy(strategy_name, 0, **calibrate(setup, strategy_name, 0))
    named = []
    for i in range(2):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=2)
        named += [raw[7] for raw in ex.events if raw[7] is not None]
    assert named
    assert [(c.co_name, c.co_filename) for c in named if _harness(c.co_filename)] == []


def test_a_slice_copy_names_the_function_that_copied():
    setup = program(configure("dup_mmap", {"design": "2021"}))
    strategy = make_strategy("mix", 0, **calibrate(setup, "mix", 0))
    names = set()
    for i in range(3):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=2)
        names |= {raw[7].co_name for raw in ex.events if raw[7] is not None}
    assert {"memcpy", "node_copy"} <= names
