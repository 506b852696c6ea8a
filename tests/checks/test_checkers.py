"""Each generic checker fires on a small buggy program and is quiet on the fixed one."""

import pytest

from rcu_harness import ReadKind, explore
from rcu_harness.checks.intervalmap import IntervalMap
from rcu_harness.checks.results import ResultCheck
from rcu_harness.errors import HarnessUsageError
from rcu_harness.kernel import (
    Atomic,
    RwSemaphore,
    SimStruct,
    SpinLock,
    atomic_dec_and_test,
    atomic_inc_not_zero,
    down_read,
    down_write,
    kmalloc,
    rcu_read_lock,
    rcu_read_unlock,
    spin_lock,
    spin_unlock,
    up_read,
    up_write,
)
from rcu_harness.runtime.records import ReadRecord, WriteOp, WriteRecord


class Cell(SimStruct):
    fields = ("value",)


class Mm:
    def __init__(self, users):
        self.mm_users = Atomic(users, "mm_users")


def guarded_cell(*, take_lock):
    def program(h):
        lock = SpinLock("cell_lock")
        cell = h.static(Cell, guard=lock, value=0)

        def writer():
            if take_lock:
                spin_lock(lock)
            cell.value = 1
            if take_lock:
                spin_unlock(lock)

        h.spawn("writer", writer)

    return program


def test_unlocked_store_to_guarded_published_object_is_reported():
    f = explore(guarded_cell(take_lock=False), executions=1).findings[0]
    assert f.kind == "writer-lock"
    assert "protecting lock cell_lock is held by nobody" in f.report


def test_locked_store_to_guarded_published_object_is_clean():
    assert explore(guarded_cell(take_lock=True), executions=20).ok


def mm_reader(*, take_reference, drop_early=False):
    def program(h):
        mm = Mm(1)

        def reader():
            got = atomic_inc_not_zero(mm.mm_users) if take_reference else True
            if not got:
                return
            h.reader_enter(mm)
            rcu_read_lock()
            if drop_early:
                atomic_dec_and_test(mm.mm_users)
            rcu_read_unlock()
            h.reader_exit(mm)
            if take_reference and not drop_early:
                atomic_dec_and_test(mm.mm_users)

        def owner():
            atomic_dec_and_test(mm.mm_users)

        h.spawn("reader", reader)
        h.spawn("owner", owner, refs=(mm.mm_users,))

    return program


def test_lockless_reader_without_mm_reference_is_reported():
    f = explore(mm_reader(take_reference=False), executions=5).findings[0]
    assert f.kind == "mm-ref"
    assert "starts a lockless read without holding mm_users" in f.report


def test_reader_holding_mm_users_reference_is_clean():
    assert explore(mm_reader(take_reference=True), executions=200, seed=4).ok


def test_dropping_the_reference_inside_the_read_is_reported():
    result = explore(mm_reader(take_reference=True, drop_early=True),
                     executions=200, seed=4)
    assert result.findings[0].kind == "mm-ref"
    assert "drops its mm reference" in result.findings[0].message


def test_rwsem_readers_share_and_writer_excludes():
    def program(h):
        sem = RwSemaphore("mmap_lock")
        cell = h.static(Cell, value=0)

        def reader():
            down_read(sem)
            assert cell.value in (0, 2)
            up_read(sem)

        def writer():
            down_write(sem)
            cell.value = 1
            cell.value = 2
            up_write(sem)

        h.spawn("r1", reader)
        h.spawn("r2", reader)
        h.spawn("w", writer)

    assert explore(program, executions=300, seed=1).ok


def test_down_read_inside_rcu_section_is_sleep_in_rcu():
    def program(h):
        sem = RwSemaphore("mmap_lock")

        def t():
            rcu_read_lock()
            down_read(sem)

        h.spawn("t", t)

    assert explore(program, executions=1).findings[0].kind == "sleep-in-rcu"


def test_counters_are_reported_not_failed():
    def program(h):
        h.spawn("t", lambda: h.count("reader_restart", 2))

    result = explore(program, executions=3)
    assert result.ok
    assert result.counters["reader_restart"] == 6


# -- result consistency ------------------------------------------------------


class _Ex:
    def __init__(self):
        self.failed = []
        self.step = 0

    def fail(self, v):
        self.failed.append(v)


class _T:
    label = "t/1"


def _history(*writes):
    check, ex = ResultCheck(), _Ex()
    init = WriteRecord("mt", WriteOp.STORE, 0, 9, "A", "setup", -1, -1)
    check.write_begin(ex, _T(), init)
    for w in writes:
        check.write_begin(ex, _T(), w)
    return check, ex


def _read(check, ex, kind, begin, end, results, first=0, limit=99):
    rec = ReadRecord("mt", kind, first, limit, "t/1", begin, end, list(results))
    check.read_end(ex, _T(), rec)
    return ex.failed


def test_result_from_a_version_current_during_the_read_is_accepted():
    w = WriteRecord("mt", WriteOp.STORE, 0, 9, "B", "w", 10, 20)
    check, ex = _history(w)
    assert not _read(check, ex, ReadKind.FIND, 15, 16, [(0, 9, "A")])
    assert not _read(check, ex, ReadKind.FIND, 15, 16, [(0, 9, "B")])
    assert not _read(check, ex, ReadKind.LOAD, 1, 5, [(3, 3, "A")])


def test_result_from_a_version_gone_before_the_read_is_rejected():
    w = WriteRecord("mt", WriteOp.STORE, 0, 9, "B", "w", 10, 20)
    check, ex = _history(w)
    failed = _read(check, ex, ReadKind.FIND, 25, 30, [(0, 9, "A")])
    assert failed
    assert failed[0].kind == "result-inconsistent"


def test_a_copy_is_possibly_current_as_a_whole_from_its_begin():
    copy = WriteRecord("mt", WriteOp.COPY, 0, 99, None, "w", 10, 20,
                       entries=((0, 4, "C"), (5, 9, "D")))
    check, ex = _history(copy)
    assert not _read(check, ex, ReadKind.ITERATE, 12, 13, [(0, 4, "C"), (5, 9, "D")])
    assert not _read(check, ex, ReadKind.ITERATE, 12, 13, [(0, 9, "A")])
    assert _read(check, ex, ReadKind.FIND, 1, 5, [(5, 9, "D")])  # before the copy
    failed = _read(check, ex, ReadKind.FIND, 25, 30, [(0, 9, "A")])  # replaced
    assert failed[-1].kind == "result-inconsistent"


def test_a_copy_of_overlapping_ranges_is_a_usage_error():
    def program(h):
        def writer():
            with h.copying("mt", [(0, 9, "A"), (5, 19, "B")]):
                pass

        h.spawn("w", writer)

    with pytest.raises(HarnessUsageError, match="overlap at 0x5"):
        explore(program, executions=1)


def test_entry_never_present_is_rejected():
    check, ex = _history()
    assert _read(check, ex, ReadKind.FIND, 1, 2, [(0, 4, "A")])


def test_iteration_that_misses_a_stable_entry_is_rejected():
    w = WriteRecord("mt", WriteOp.STORE, 20, 29, "C", "w", 1, 2)
    check, ex = _history(w)
    failed = _read(check, ex, ReadKind.ITERATE, 5, 9, [(0, 9, "A")])
    assert "missed" in failed[0].message


def test_iteration_must_ascend():
    w = WriteRecord("mt", WriteOp.STORE, 20, 29, "C", "w", 1, 2)
    check, ex = _history(w)
    failed = _read(check, ex, ReadKind.ITERATE, 5, 9, [(20, 29, "C"), (0, 9, "A")])
    assert "not ascending" in failed[0].message


def test_interval_map_store_splits_overlapped_ranges():
    m = IntervalMap().store(0, 9, "A").store(3, 4, "B")
    assert m.ranges == ((0, 2, "A"), (3, 4, "B"), (5, 9, "A"))
    assert m.store(0, 9, None).ranges == ()
    assert m.lookup(4) == "B"
    assert m.lookup(10) is None


def test_an_entry_no_write_ever_stored_gets_a_hint_to_declare_the_contents():
    check, ex = _history()
    (failed,) = _read(check, ex, ReadKind.LOAD, 1, 2, [(3, 3, "Z")])
    assert "no recorded write ever stored 'Z'" in failed.body
    assert "h.initial_contents(mt" in failed.body
    check, ex = _history(WriteRecord("mt", WriteOp.STORE, 0, 9, "B", "w", 10, 20))
    (failed,) = _read(check, ex, ReadKind.FIND, 25, 30, [(0, 9, "A")])
    assert "hint" not in failed.body  # a real stale read: "A" was stored


def _leaky(*, in_setup):
    def program(h):
        kept = h.static(Cell, value=None)

        def thread():
            kept.value = kmalloc(Cell, value=1)

        if in_setup:
            kmalloc(Cell, value=0)
        else:
            h.spawn("t", thread)

    return program


def test_a_leak_of_what_setup_allocated_gets_a_hint_to_tear_down():
    (found,) = explore(_leaky(in_setup=True), executions=1).findings
    assert found.kind == "leak"
    assert "register a teardown with h.at_exit(fn)" in found.report
    (found,) = explore(_leaky(in_setup=False), executions=1).findings
    assert found.kind == "leak"
    assert "hint" not in found.report
