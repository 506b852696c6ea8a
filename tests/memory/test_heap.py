"""The simulated heap: poisoning, KASAN reports, double free, leaks, lockdep-RCU."""

from rcu_harness import explore
from rcu_harness.kernel import (
    SimStruct,
    SpinLock,
    kfree,
    kfree_rcu,
    kmalloc,
    rcu_dereference,
    rcu_read_lock,
    rcu_read_unlock,
    spin_lock,
    spin_unlock,
)


class Node(SimStruct):
    fields = ("next", "value")


def rcu_list(*, free_now: bool, reader_locks: bool = True):
    """Reader walks a 2-element RCU list; writer removes the first element."""

    def program(h):
        lock = SpinLock("list_lock")
        head = h.static(Node, guard=lock)
        first = kmalloc(Node, value=1)
        first.next = kmalloc(Node, value=2)
        head.next = first

        def reader():
            if reader_locks:
                rcu_read_lock()
            p = rcu_dereference(head, "next")
            while p is not None:
                assert p.value in (1, 2)
                p = rcu_dereference(p, "next")
            if reader_locks:
                rcu_read_unlock()

        def writer():
            spin_lock(lock)
            victim = head.next
            head.next = victim.next
            spin_unlock(lock)
            if free_now:
                kfree(victim)
            else:
                kfree_rcu(victim)

        def teardown():
            p = head.next
            while p is not None:
                nxt = p.next
                kfree(p)
                p = nxt

        h.spawn("reader", reader)
        h.spawn("writer", writer)
        h.at_exit(teardown)

    return program


def test_kfree_before_grace_period_gives_kasan_use_after_free_report():
    result = explore(rcu_list(free_now=True), executions=500, seed=1)
    assert [f.kind for f in result.findings] == ["use-after-free"]
    report = result.findings[0].report
    assert "BUG: KASAN: slab-use-after-free in reader" in report
    assert "Read of size 8 at addr ffff8880" in report
    assert "by task reader/1" in report
    assert "Allocated by task setup/-1" in report
    assert "Freed by task writer/2" in report
    assert "which belongs to the cache kmalloc-16 of size 16 (struct Node)" in report
    assert "Interleaving (last" in report
    assert "rcu_harness.replay('" in report


def test_kfree_rcu_removal_is_clean_over_many_executions():
    for strategy in ("random", "pct"):
        result = explore(rcu_list(free_now=False), executions=400, seed=7,
                         strategy=strategy)
        assert result.ok, result.findings[0].report
        assert result.executions == 400


def test_use_after_free_report_names_call_rcu_and_grace_periods():
    def program(h):
        head = h.static(Node)
        obj = kmalloc(Node, value=1)
        head.next = obj

        def reader():
            p = head.next
            rcu_read_lock()
            rcu_read_unlock()
            if p is not None:
                assert p.value == 1  # outside the section: the GP need not wait

        def writer():
            head.next = None
            kfree_rcu(obj)

        h.spawn("reader", reader)
        h.spawn("writer", writer)

    result = explore(program, executions=2000, seed=3)
    assert result.findings, "the late access must be caught"
    report = result.findings[0].report
    assert "Last call_rcu by task writer/2" in report
    assert "gp_seq 0 when queued" in report
    assert "callback after the end of grace period 1" in report
    # the free ran in an RCU callback, outside model code: its frames are shown
    freed = report.split("Freed by task rcu_gp/0", 1)[1].splitlines()[1]
    assert freed.startswith(" invoke (rcu_harness/rcu/"), freed


def test_the_interleaving_ends_with_the_faulting_access_in_its_thread_column():
    report = explore(rcu_list(free_now=True), executions=500, seed=1
                     ).findings[0].report
    interleaving = report.split("Interleaving (last", 1)[1].split("\n\n", 1)[0]
    header, _rule, *rows = interleaving.splitlines()[1:]
    columns = [c.strip() for c in header.split("|")]
    cells = [c.strip() for c in rows[-1].split("|")]
    assert cells[columns.index("reader/1")] == "!! Read next of freed Node"


def test_double_free_is_reported():
    def program(h):
        obj = kmalloc(Node)

        def t():
            kfree(obj)
            kfree(obj)

        h.spawn("t", t)

    result = explore(program, executions=1)
    assert result.findings[0].kind == "double-free"
    assert "BUG: KASAN: double-free in t" in result.findings[0].report


def test_free_of_never_allocated_object_is_invalid_free():
    def program(h):
        h.spawn("t", lambda: kfree(object()))

    result = explore(program, executions=1)
    assert result.findings[0].kind == "invalid-free"


def test_leak_is_reported_with_allocation_site():
    def allocate_and_forget():
        kmalloc(Node, value=3)

    def program(h):
        h.spawn("leaker", allocate_and_forget)

    result = explore(program, executions=1)
    f = result.findings[0]
    assert f.kind == "leak"
    assert "unreferenced object 0xffff8880" in f.report
    assert "allocate_and_forget" in f.report


def test_reader_without_rcu_read_lock_gets_lockdep_splat():
    result = explore(rcu_list(free_now=False, reader_locks=False), executions=5)
    f = result.findings[0]
    assert f.kind == "lockdep-rcu"
    assert "WARNING: suspicious RCU usage" in f.report
    assert "suspicious rcu_dereference_check() usage!" in f.report
    assert "no locks held by reader/1." in f.report


def test_accesses_to_private_objects_are_not_scheduling_points():
    def program(h):
        def t():
            obj = kmalloc(Node)
            for i in range(100):
                obj.value = i
            kfree(obj)

        h.spawn("a", t)
        h.spawn("b", t)

    result = explore(program, executions=1)
    assert result.ok
    assert result.steps < 20


def test_access_to_freed_private_object_is_still_caught():
    def program(h):
        def t():
            obj = kmalloc(Node)
            kfree(obj)
            obj.value = 1

        h.spawn("t", t)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "use-after-free"
    assert "Write of size 8" in f.report
