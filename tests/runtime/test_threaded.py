"""OS-thread mode: clean on the correct model, finds obvious bugs, never hangs."""

import random
import sys
import threading

import pytest

from rcu_harness.errors import HarnessUsageError
from rcu_harness.kernel import (
    SimStruct,
    SpinLock,
    kfree,
    kfree_rcu,
    kmalloc,
    rcu_barrier,
    rcu_read_lock,
    rcu_read_unlock,
    schedule,
    spin_lock,
    spin_unlock,
    synchronize_rcu,
)
from rcu_harness.runner.threaded import (
    MIN_SWITCH_INTERVAL,
    NOT_REPLAYABLE,
    run_threaded,
    run_threaded_execution,
    switch_interval,
)
from rcu_harness.runtime.current import current
from rcu_harness.scenarios import applied, configure, program
from rcu_harness.sched.seeds import derive

pytestmark = pytest.mark.timeout(90)


class Box(SimStruct):
    fields = ("ptr", "value")


def _sim_threads_alive():
    return [t for t in threading.enumerate() if t.name.startswith("sim-")]


def replace_and_free(h, *, free):
    """A reader follows a published pointer while a writer replaces the
    object and frees the old one with @free."""
    head = h.static(Box)
    head.ptr = kmalloc(Box, value=0)
    objects = []

    def reader():
        for _ in range(200):
            rcu_read_lock()
            p = head.ptr
            p.value  # noqa: B018 - the load is the test
            p.value  # noqa: B018
            rcu_read_unlock()

    def writer():
        for i in range(1, 50):
            new = kmalloc(Box, value=i)
            old = head.ptr
            head.ptr = new
            free(old)
        objects.append(head.ptr)

    h.spawn("reader", reader)
    h.spawn("writer", writer)
    h.at_exit(lambda: kfree(objects[0]))


def kfree_at_once(h):
    replace_and_free(h, free=kfree)


def kfree_after_grace_period(h):
    replace_and_free(h, free=kfree_rcu)


def synchronize_then_kfree(h):
    def free(old):
        synchronize_rcu()
        kfree(old)

    replace_and_free(h, free=free)


def barrier_then_done(h):
    def free(old):
        kfree_rcu(old)
        rcu_barrier()

    replace_and_free(h, free=free)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
@pytest.mark.parametrize("design", ["2021", "modern"])
def test_correct_scenario_runs_clean_on_os_threads(scenario, design):
    cfg = configure(scenario, {"design": design})
    result = run_threaded(program(cfg), duration=2.0, seed=1, stop_on_first=False)
    assert not result.findings, result.findings[0].report
    assert result.executions >= 2
    assert result.abandoned == 0


@pytest.mark.parametrize("prog", [kfree_after_grace_period, synchronize_then_kfree,
                                  barrier_then_done])
def test_grace_periods_really_wait_for_readers(prog):
    result = run_threaded(prog, duration=1.5, seed=2)
    assert result.ok, result.findings[0].report
    assert result.counters.get("rcu_grace_periods", 0) > 0


def test_kfree_before_grace_period_is_found_and_not_replayable():
    result = run_threaded(kfree_at_once, duration=30, seed=3)
    assert result.findings, f"not found in {result.executions} executions"
    finding = result.findings[0]
    assert finding.kind == "use-after-free"
    assert finding.replay_command == NOT_REPLAYABLE
    assert finding.report.endswith(NOT_REPLAYABLE)
    assert finding.schedule == ""
    assert result.first_finding_after is not None


def test_free_without_grace_period_mutant_is_found():
    cfg = configure("rcu_transitions", mutant="free-without-grace-period")
    with applied(cfg.mutant):
        result = run_threaded(program(cfg), duration=30, seed=4)
    assert result.findings, f"not found in {result.executions} executions"
    assert result.findings[0].kind == "use-after-free"


def abba(h):
    """Each thread takes its first lock, waits until the other has its own,
    then takes the other's: always an ABBA deadlock."""
    a, b = SpinLock("a"), SpinLock("b")
    ready = h.static(Box, ptr=0, value=0)

    def one(first, second, mine, theirs):
        spin_lock(first)
        setattr(ready, mine, 1)
        while getattr(ready, theirs) == 0:
            pass  # each load is a scheduling point
        spin_lock(second)
        spin_unlock(second)
        spin_unlock(first)

    h.spawn("ab", one, a, b, "ptr", "value")
    h.spawn("ba", one, b, a, "value", "ptr")


def test_deadlock_is_a_finding_after_a_timeout_not_a_hang():
    result = run_threaded(abba, duration=5, seed=5, deadlock_after=0.2)
    assert [f.kind for f in result.findings] == ["deadlock"]
    assert "spin_lock(a)" in result.findings[0].report
    assert result.abandoned == 0
    assert not _sim_threads_alive()


def spinner(h):
    flag = h.static(Box, value=0)

    def spin():
        while flag.value == 0:
            schedule()

    h.spawn("spin", spin)


def test_livelock_by_step_bound_and_by_wall_time():
    by_steps = run_threaded(spinner, duration=5, max_steps=5000)
    assert [f.kind for f in by_steps.findings] == ["livelock"]
    assert "step bound 5000" in by_steps.findings[0].message
    by_time = run_threaded(spinner, duration=5, timeout=0.5)
    assert [f.kind for f in by_time.findings] == ["livelock"]
    assert "spin" in by_time.findings[0].report
    assert not _sim_threads_alive()


def test_threads_unwind_after_a_finding():
    result = run_threaded(kfree_at_once, duration=30, seed=6)
    assert result.findings
    assert result.abandoned == 0
    assert not _sim_threads_alive()


def test_switch_interval_is_minimal_during_the_run_and_restored_after():
    before = sys.getswitchinterval()
    seen = []

    def probe(h):
        h.spawn("probe", lambda: seen.append(sys.getswitchinterval()))

    run_threaded(probe, duration=0.1, max_executions=1)
    assert seen == [pytest.approx(MIN_SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before


def test_switch_interval_is_restored_when_the_run_raises():
    before = sys.getswitchinterval()

    def blocks_in_setup(h):
        current().block("nothing")  # a harness usage error, not a finding

    with pytest.raises(HarnessUsageError):
        run_threaded(blocks_in_setup, duration=1)
    assert sys.getswitchinterval() == before
    with switch_interval(1e-3):
        assert sys.getswitchinterval() == pytest.approx(1e-3)
    assert sys.getswitchinterval() == before


def test_exception_in_a_thread_is_a_finding():
    def broken(h):
        def boom():
            raise ValueError("model bug")

        h.spawn("boom", boom)

    result = run_threaded(broken, duration=2)
    assert [f.kind for f in result.findings] == ["exception"]
    assert "ValueError: model bug" in result.findings[0].report


def test_draws_on_os_threads_are_the_generators_values_never_recorded():
    drawn = []

    def draws(h):
        h.spawn("t", lambda: drawn.extend(h.random(1000) for _ in range(3)))

    ex, _ = run_threaded_execution(draws, 2, seed=5)
    generator = random.Random(derive(5, 2, "threaded"))
    assert drawn == [generator.getrandbits(64) % 1000 for _ in range(3)]
    assert ex.values == []
