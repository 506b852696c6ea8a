"""Deadlock and livelock are findings; an idle rcu_gp thread and a thread
starved by the strategy are not."""

from functools import partial

from rcu_harness import explore, replay
from rcu_harness.kernel import (
    SimStruct,
    SpinLock,
    call_rcu,
    kfree,
    kmalloc,
    schedule,
    spin_lock,
    spin_unlock,
)
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.trace.events import decode_all, events_digest


class Flag(SimStruct):
    fields = ("value",)


def abba(h):
    a, b = SpinLock("A"), SpinLock("B")

    def t1():
        spin_lock(a)
        spin_lock(b)
        spin_unlock(b)
        spin_unlock(a)

    def t2():
        spin_lock(b)
        spin_lock(a)
        spin_unlock(a)
        spin_unlock(b)

    h.spawn("t1", t1)
    h.spawn("t2", t2)


def test_abba_spinlocks_report_deadlock():
    result = explore(abba, executions=200, seed=2)
    f = result.findings[0]
    assert f.kind == "deadlock"
    assert "t1/1 waits for spin_lock(B) held by t2/2" in f.report
    assert "t2/2 waits for spin_lock(A) held by t1/1" in f.report


def test_same_order_locking_is_clean():
    def program(h):
        a, b = SpinLock("A"), SpinLock("B")

        def t():
            spin_lock(a)
            spin_lock(b)
            spin_unlock(b)
            spin_unlock(a)

        h.spawn("t1", t)
        h.spawn("t2", t)

    assert explore(program, executions=300, seed=2).ok


def test_recursive_spin_lock_is_a_deadlock():
    def program(h):
        a = SpinLock("A")

        def t():
            spin_lock(a)
            spin_lock(a)

        h.spawn("t", t)

    assert explore(program, executions=1).findings[0].kind == "deadlock"


def test_two_threads_spinning_on_each_other_report_livelock():
    def program(h):
        mine, theirs = h.static(Flag, value=1), h.static(Flag, value=1)

        def polite(me, other):
            while other.value:
                me.value = 0
                me.value = 1

        h.spawn("a", polite, mine, theirs)
        h.spawn("b", polite, theirs, mine)

    f = explore(program, executions=1, max_steps=2000).findings[0]
    assert f.kind == "livelock"
    assert "more than 2000 scheduling steps" in f.report


def test_idle_rcu_gp_thread_is_not_a_deadlock():
    def program(h):
        obj = kmalloc(Flag)
        h.spawn("t", call_rcu, obj, kfree)

    result = explore(program, executions=50)
    assert result.ok


def test_exiting_with_a_spinlock_held_is_reported():
    def program(h):
        h.spawn("t", spin_lock, SpinLock("L"))

    assert explore(program, executions=1).findings[0].kind == "lock-misuse"


def busy_wait(h, *, yields):
    """A waiter polls a flag that a writer sets after some work; the waiter
    either yields in its loop (a retry loop) or not (a plain busy loop)."""
    flag = h.static(Flag, value=0)
    work = h.static(Flag, value=0)

    def waiter():
        while not flag.value:
            if yields:
                schedule()

    def writer():
        for i in range(20):
            work.value = i
        flag.value = 1

    h.spawn("waiter", waiter)
    h.spawn("writer", writer)


def test_a_yielding_spinner_never_starves_the_thread_it_waits_for():
    for strategy in ("pct", "random", "mix", "dfs"):
        result = explore(partial(busy_wait, yields=True), strategy=strategy,
                         executions=50, seed=4, max_steps=400, stop_on_first=False)
        assert result.ok, (strategy, result.findings[:1])
        assert "unfair_starvation" not in result.counters, strategy


def test_starvation_by_the_strategy_is_counted_not_reported_as_livelock():
    # pct gives the busy waiter the higher priority in some executions and,
    # without a yield, never runs the writer: the fair continuation does.
    result = explore(partial(busy_wait, yields=False), strategy="pct",
                     executions=20, seed=1, max_steps=300, stop_on_first=False)
    assert result.ok
    assert result.counters["unfair_starvation"] >= 1


def test_a_starved_execution_replays_identically_with_its_step_bound():
    program = partial(busy_wait, yields=False)
    strategy = make_strategy("pct", 1, steps=30)
    for i in range(20):
        strategy.new_execution(i)
        ex = run_execution(program, strategy, i, max_steps=300)
        if ex.counters.get("unfair_starvation"):
            break
    else:
        raise AssertionError("no execution was starved")
    again = replay(ex.schedule(), program=program, max_steps=300)
    assert again.counters["unfair_starvation"] == 1
    assert again.steps == ex.step
    assert again.events_digest == events_digest(decode_all(ex.events))


def test_a_livelock_is_a_finding_only_after_the_fair_continuation():
    def program(h):
        mine, theirs = h.static(Flag, value=1), h.static(Flag, value=1)

        def polite(me, other):
            while other.value:
                me.value = 0
                me.value = 1

        h.spawn("a", polite, mine, theirs)
        h.spawn("b", polite, theirs, mine)

    result = explore(program, executions=1, max_steps=500)
    f = result.findings[0]
    assert f.kind == "livelock"
    assert f.step == 1001  # 500 steps, then 500 more round-robin, then over
    assert "and 500 more under a fair round-robin" in f.report


def test_a_calibration_probe_that_livelocks_counts_as_the_step_bound():
    # Seed 13's random probe of this mutant spins a reader on a dead node
    # past the bound, through the fair continuation (twice the bound's
    # decisions): the run calibrates to the bound and finds the bug.
    cfg = configure(MUTANTS["reader-skips-dead-check"].scenario, None,
                    mutant="reader-skips-dead-check")
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(program(cfg), "aimed", 13, max_steps=5000)
        assert params["steps"] == 5000
        result = explore(program(cfg), executions=20, seed=13, max_steps=5000)
    assert result.findings
