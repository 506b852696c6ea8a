"""The engine: scheduling points, switches, exceptions as findings, the API."""

import greenlet
import pytest

import rcu_harness
from rcu_harness import explore
from rcu_harness.kernel import SimStruct, rcu_read_lock
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.current import NoExecutionError
from rcu_harness.sched.random_walk import RandomStrategy
from rcu_harness.sched.seeds import DataSource


class Cell(SimStruct):
    fields = ("value",)


def busy(h):
    cell = h.static(Cell, value=0)

    def t():
        for i in range(50):
            cell.value = i

    h.spawn("a", t)
    h.spawn("b", t)


class StickyStrategy:
    """Keeps the current thread whenever it can."""

    execution_seed = 0

    def new_execution(self, index):
        return True

    def next_thread(self, runnable, current, yielding=False):
        return current if current in runnable else runnable[0]

    def next_u64(self):
        return 0


def test_no_switch_happens_when_the_strategy_keeps_the_current_thread():
    switches = []
    old = greenlet.settrace(lambda event, args: switches.append(event))
    try:
        ex = run_execution(busy, StickyStrategy(), 0)
    finally:
        greenlet.settrace(old)
    assert ex.violation is None
    assert ex.step >= 100
    # starting and finishing each thread only: never one switch per point
    assert len(switches) <= 8


def test_exception_in_thread_is_a_finding_with_model_traceback():
    def broken_model_function(cell):
        return cell.value / 0

    def program(h):
        cell = h.static(Cell, value=1)
        h.spawn("t", broken_model_function, cell)

    result = explore(program, executions=3)
    f = result.findings[0]
    assert f.kind == "exception"
    assert "ZeroDivisionError" in f.report
    assert "broken_model_function (tests/runtime/test_execution.py:" in f.report
    assert "greenlet" not in f.report
    assert "rcu_harness/runtime" not in f.report


def test_finding_aborts_only_its_execution():
    def program(h):
        def t():
            if h.execution == 0:
                raise RuntimeError("first execution only")

        h.spawn("t", t)

    result = explore(program, executions=5, stop_on_first=False)
    assert result.executions == 5
    assert len(result.findings) == 1


def test_findings_are_deduplicated_by_signature():
    def program(h):
        def t():
            raise RuntimeError("always")

        h.spawn("t", t)

    result = explore(program, executions=10, stop_on_first=False)
    assert len(result.findings) == 1
    assert len(result.findings[0].signature) == 16


def test_replay_hint_format_string_builds_the_command():
    def program(h):
        h.spawn("t", rcu_read_lock)

    f = explore(program, executions=1, seed=5, replay_hint=(
        "python -m rcu_harness replay --scenario x --strategy {strategy} "
        "--seed {base_seed} --execution {execution}")).findings[0]
    assert f.replay_command == ("python -m rcu_harness replay --scenario x "
                                "--strategy aimed-data --seed 5 --execution 0")
    assert f.replay_command in f.report


def test_replay_of_a_finding_reproduces_it():
    def program(h):
        cell = h.static(Cell, value=0)

        def inc():
            cell.value = cell.value + 1

        h.spawn("a", inc)
        h.spawn("b", inc)
        h.at_exit(lambda: None if cell.value == 2 else 1 / 0)

    f = explore(program, executions=100, seed=1).findings[0]
    again = rcu_harness.replay(f.schedule, program=program)
    assert again.finding is not None
    assert again.finding.signature == f.signature
    body = f.report.split("\nExecution ")[0]
    assert again.finding.report.split("\nExecution ")[0] == body


def test_kernel_primitive_outside_an_execution_raises_a_clear_error():
    with pytest.raises(NoExecutionError, match=r"rcu_harness.explore\(\)"):
        rcu_read_lock()


def test_public_surface_is_small():
    assert sorted(rcu_harness.__all__) == sorted([
        "ExploreResult", "Finding", "Harness", "ReadKind", "ReplayResult",
        "Schedule", "__version__", "explore", "replay"])


def test_the_model_preallocation_exception_is_the_prealloc_exhausted_finding():
    from maple import MaplePreallocExhausted
    from rcu_harness.runtime.exceptions import exception_kind
    from rcu_harness.runtime.finding import FindingKind

    class Derived(MaplePreallocExhausted):
        pass

    assert exception_kind(MaplePreallocExhausted("out")) is \
        FindingKind.PREALLOC_EXHAUSTED
    assert exception_kind(Derived("out")) is FindingKind.PREALLOC_EXHAUSTED
    assert exception_kind(ValueError("no")) is FindingKind.EXCEPTION


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("strategy", "params"), [
    ("random", {}), ("pct-site", {"data": "72:1x1"})])
def test_a_draw_in_fewer_than_one_value_is_a_clear_finding(strategy, params):
    # a strategy that chooses values must not hang on it either
    def program(h):
        h.spawn("t", lambda: h.random(-5))

    result = explore(program, strategy=strategy, executions=1, **params)
    assert "ValueError: h.random(n) needs n >= 1 (got -5)" in \
        result.findings[0].report


def test_a_strategy_that_does_not_choose_values_draws_the_generators_unrecorded():
    drawn = []

    def draws(h):
        h.spawn("t", lambda: drawn.extend(h.random(1000) for _ in range(3)))

    strategy = RandomStrategy(7)
    strategy.new_execution(3)
    schedule = run_execution(draws, strategy, 3, record=0).schedule()
    generator = DataSource(strategy.execution_seed)
    assert drawn == [generator.next_u64() % 1000 for _ in range(3)]
    assert schedule.values == ()
