"""Deadlock and livelock are findings; an idle rcu_gp thread is neither."""

from rcu_harness import explore
from rcu_harness.kernel import (
    SimStruct,
    SpinLock,
    call_rcu,
    kfree,
    kmalloc,
    spin_lock,
    spin_unlock,
)


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
