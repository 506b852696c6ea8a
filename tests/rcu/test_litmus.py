"""RCU litmus tests: what a grace period waits for, and what it does not."""

from rcu_harness import explore
from rcu_harness.kernel import (
    SimStruct,
    call_rcu,
    kfree,
    kmalloc,
    rcu_barrier,
    rcu_read_lock,
    rcu_read_unlock,
    schedule,
    synchronize_rcu,
)
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.trace.events import EventKind, decode_all


class Obj(SimStruct):
    fields = ("value",)


def early_reader_program(h):
    """A reader enters its section, then the writer queues the free."""
    holder = h.static(Obj)
    obj = kmalloc(Obj, value=1)
    holder.value = obj
    entered = h.static(Obj, value=0)

    def reader():
        rcu_read_lock()
        p = holder.value
        entered.value = 1
        p.value  # noqa: B018 - the load is the test
        p.value  # noqa: B018
        rcu_read_unlock()

    def writer():
        while entered.value != 1:
            schedule()
        holder.value = None
        call_rcu(obj, kfree)

    h.spawn("reader", reader)
    h.spawn("writer", writer)


def test_reader_that_entered_before_call_rcu_never_sees_the_free():
    result = explore(early_reader_program, strategy="dfs", executions=100_000,
                     preemption_bound=3, max_steps=400)
    assert result.ok, result.findings[0].report
    assert result.exhausted
    assert result.executions > 10


def late_reader_program(h):
    """call_rcu() first; a reader entering afterwards is not waited for."""
    obj = kmalloc(Obj, value=1)
    queued = h.static(Obj, value=0)

    def writer():
        call_rcu(obj, kfree)
        queued.value = 1

    def late_reader():
        while queued.value != 1:
            schedule()
        rcu_read_lock()
        queued.value  # noqa: B018
        rcu_read_unlock()

    h.spawn("writer", writer)
    h.spawn("late_reader", late_reader)


def _gp_ends_inside_late_section(events) -> bool:
    inside = False
    for e in events:
        if e.thread == 2 and e.kind is EventKind.RCU_LOCK:
            inside = True
        elif e.thread == 2 and e.kind is EventKind.RCU_UNLOCK:
            inside = False
        elif e.kind is EventKind.GP_END and inside:
            return True
    return False


def test_grace_period_does_not_wait_for_reader_that_entered_after_call_rcu():
    dfs = DfsStrategy(preemption_bound=3)
    found = False
    while dfs.new_execution(0) and not found:
        ex = run_execution(late_reader_program, dfs, 0, max_steps=400)
        assert ex.violation is None
        found = _gp_ends_inside_late_section(decode_all(ex.events))
    assert found, "some interleaving must end the grace period mid-section"


def test_synchronize_rcu_waits_for_preexisting_reader():
    order = []

    def program(h):
        order.clear()  # one execution's order (a pct run calibrates first)
        flag = h.static(Obj, value=0)

        def reader():
            rcu_read_lock()
            flag.value = 1
            order.append("reader-in")
            schedule_free_load = flag.value
            order.append("reader-out")
            rcu_read_unlock()
            assert schedule_free_load == 1

        def updater():
            while flag.value != 1:
                schedule()
            synchronize_rcu()
            order.append("sync-done")

        h.spawn("reader", reader)
        h.spawn("updater", updater)

    for seed in range(30):
        assert explore(program, executions=1, seed=seed).ok
        assert order.index("reader-out") < order.index("sync-done")


def test_rcu_barrier_waits_until_all_queued_callbacks_ran():
    ran = []

    def program(h):
        ran.clear()  # one execution's callbacks (a pct run calibrates first)
        objs = [kmalloc(Obj) for _ in range(3)]

        def cb(obj):
            ran.append(obj.addr)
            kfree(obj)

        def t():
            for o in objs:
                call_rcu(o, cb)
            rcu_barrier()
            assert len(ran) == 3

        h.spawn("t", t)

    for seed in range(20):
        result = explore(program, executions=1, seed=seed)
        assert result.ok, result.findings[0].report


def test_sleep_inside_read_side_section_is_reported():
    def program(h):
        def t():
            rcu_read_lock()
            schedule()
            rcu_read_unlock()

        h.spawn("t", t)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "sleep-in-rcu"
    assert "BUG: sleeping function called from invalid context at t" in f.report
    assert "RCU nest depth: 1, expected: 0" in f.report


def test_synchronize_rcu_inside_read_side_section_is_reported():
    def program(h):
        def t():
            rcu_read_lock()
            synchronize_rcu()

        h.spawn("t", t)

    assert explore(program, executions=1).findings[0].kind == "sleep-in-rcu"


def test_unbalanced_rcu_read_unlock_is_reported():
    def program(h):
        h.spawn("t", rcu_read_unlock)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "rcu-unbalanced"
    assert "WARNING: bad unlock balance detected!" in f.report


def test_thread_exiting_inside_read_side_section_is_reported():
    def program(h):
        h.spawn("t", rcu_read_lock)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "exit-in-rcu"


def test_grace_periods_are_numbered_and_counted():
    def program(h):
        def t():
            for _ in range(3):
                synchronize_rcu()

        h.spawn("t", t)

    result = explore(program, executions=1)
    assert result.ok
    assert result.counters["rcu_grace_periods"] == 3
