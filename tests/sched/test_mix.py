"""``mix`` runs pct's even executions and random's odd ones, unchanged."""

from rcu_harness.runner.run import run_execution
from rcu_harness.sched.registry import make_strategy
from tests.sched.test_strategy_contract import counter_program


def schedule_of(name, index, **params):
    strategy = make_strategy(name, 7, **params)
    strategy.new_execution(index)
    return run_execution(counter_program, strategy, index, record=0).schedule()


def test_even_executions_are_pcts_and_odd_ones_randoms():
    for index in range(6):
        mixed = schedule_of("mix", index, steps=40)
        if index % 2:
            assert mixed == schedule_of("random", index)
        else:
            assert mixed == schedule_of("pct", index, steps=40)
        assert mixed != schedule_of("random" if index % 2 == 0 else "pct", index,
                                    **({} if index % 2 == 0 else {"steps": 40}))


def test_a_mix_execution_does_not_depend_on_the_ones_before():
    alone = schedule_of("mix", 5, steps=40)
    strategy = make_strategy("mix", 7, steps=40)
    for index in range(6):
        strategy.new_execution(index)
        ex = run_execution(counter_program, strategy, index, record=0)
    assert ex.schedule() == alone
