"""The maple model inside the harness: readers, writers, RCU mode, checks."""

import pytest

maple = pytest.importorskip("maple")
if not hasattr(maple, "mtree_store_range") or not hasattr(maple, "mas_find"):
    pytest.skip("maple model API not available yet", allow_module_level=True)

from maple import (  # noqa: E402
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_LOCK_EXTERN,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_find,
    mas_store,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from rcu_harness import ReadKind, explore  # noqa: E402
from rcu_harness.checks.defaults import default_checkers  # noqa: E402
from rcu_harness.checks.validate import MtValidateCheck  # noqa: E402
from rcu_harness.kernel import (  # noqa: E402
    RwSemaphore,
    down_write,
    rcu_read_lock,
    rcu_read_unlock,
    up_write,
)

N = 20


def reader_writer(*, rcu, writes=6):
    """A reader iterates with mas_find under rcu_read_lock; a writer stores."""

    def program(h):
        flags = MT_FLAGS_ALLOC_RANGE | (MT_FLAGS_USE_RCU if rcu else 0)
        mt = MapleTree(flags, port=h.port)
        init = [(i * 10, i * 10 + 5, 1000 + i) for i in range(N)]
        for index, last, entry in init:
            mtree_store_range(mt, index, last, entry)
        h.initial_contents(mt, init)

        def reader():
            with h.reading(mt, ReadKind.ITERATE) as rd:
                rcu_read_lock()
                mas = MaState(mt, 0, 0)
                while (entry := mas_find(mas, ULONG_MAX)) is not None:
                    rd.saw(mas.index, mas.last, entry)
                rcu_read_unlock()

        def writer():
            for k in range(writes):
                index = (k * 37) % (N * 10)
                with h.writing(mt, index, index + 3, 5000 + k):
                    mtree_store_range(mt, index, index + 3, 5000 + k)

        h.spawn("reader", reader)
        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    return program


def test_reader_iterating_in_rcu_mode_while_writer_stores_is_clean():
    result = explore(reader_writer(rcu=True), executions=60, seed=3)
    assert result.ok, result.findings[0].report
    assert result.counters.get("rcu_grace_periods", 0) > 0


def test_reader_iterating_without_rcu_mode_is_caught():
    result = explore(reader_writer(rcu=False), executions=60, seed=3)
    assert result.findings
    assert result.findings[0].kind in ("use-after-free", "result-inconsistent")


def test_mtree_load_in_rcu_mode_is_clean_with_pct():
    def program(h):
        mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
        for i in range(N):
            mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def reader():
            for i in range(0, N * 10, 7):
                with h.reading(mt, ReadKind.LOAD, i, i) as rd:
                    rd.saw(i, i, mtree_load(mt, i))

        def writer():
            for k in range(4):
                with h.writing(mt, k * 30, k * 30 + 12, 900 + k):
                    mtree_store_range(mt, k * 30, k * 30 + 12, 900 + k)

        h.initial_contents(mt, [(i * 10, i * 10 + 5, i + 1) for i in range(N)])
        h.spawn("reader", reader)
        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    result = explore(program, strategy="pct", executions=40, seed=2)
    assert result.ok, result.findings[0].report


def test_unlocked_store_to_published_maple_node_is_reported():
    def program(h):
        mt = MapleTree(0, port=h.port)
        for i in range(N):
            mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def writer():
            mas = MaState(mt, 3, 3)
            rcu_read_lock()  # loads are fine; the stores need mas_lock()
            mas_store(mas, 77)
            rcu_read_unlock()

        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    f = explore(program, executions=1).findings[0]
    assert f.kind == "writer-lock"
    assert "mt->ma_lock" in f.report


def external_lock_writer(*, take_lock):
    """A tree locked by an rwsem (MT_FLAGS_LOCK_EXTERN, as the mm's tree is
    locked by mmap_lock in modern Linux) and a writer that may forget it."""

    def program(h):
        flags = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU | MT_FLAGS_LOCK_EXTERN
        mt = MapleTree(flags, port=h.port)
        sem = RwSemaphore("mm.mmap_lock")
        h.port.set_external_lock(mt, sem)
        for i in range(N):
            mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def writer():
            if take_lock:
                down_write(sem)
            else:
                rcu_read_lock()  # loads are fine; the stores need the rwsem
            mas_store(MaState(mt, 3, 3), 77)
            if take_lock:
                up_write(sem)
            else:
                rcu_read_unlock()

        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    return program


def test_store_without_the_external_lock_is_reported():
    f = explore(external_lock_writer(take_lock=False), executions=1).findings[0]
    assert f.kind == "writer-lock"
    assert "protecting lock mm.mmap_lock is held by nobody" in f.report


def test_store_under_the_external_lock_held_for_write_is_clean():
    result = explore(external_lock_writer(take_lock=True), executions=5)
    assert result.ok, result.findings[0].report


def test_load_outside_rcu_and_lock_is_a_lockdep_splat():
    def program(h):
        mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
        for i in range(N):
            mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def reader():
            mas = MaState(mt, 0, 0)
            mas_find(mas, ULONG_MAX)  # no rcu_read_lock()

        h.spawn("reader", reader)
        h.at_exit(lambda: mtree_destroy(mt))

    f = explore(program, executions=1).findings[0]
    assert f.kind == "lockdep-rcu"
    assert "no locks held by reader/1." in f.report


def test_rcu_mode_flip_without_the_tree_lock_is_reported():
    def program(h):
        mt = MapleTree(0, port=h.port)
        mtree_store_range(mt, 0, 5, 1)

        def flipper():
            mt.port.flags_store(mt, mt.port.flags_load(mt) | MT_FLAGS_USE_RCU)

        h.spawn("flipper", flipper)
        h.at_exit(lambda: mtree_destroy(mt))

    f = explore(program, executions=1).findings[0]
    assert f.kind in ("rcu-mode-transition", "writer-lock")


def test_rcu_mode_flip_during_another_threads_write_op_is_reported():
    def program(h):
        mt = MapleTree(0, port=h.port)
        mtree_store_range(mt, 0, 5, 1)

        def writer():
            with h.writing(mt, 10, 15, 2):
                mtree_store_range(mt, 10, 15, 2)

        def flipper():
            maple.mt_set_in_rcu(mt)

        h.spawn("writer", writer)
        h.spawn("flipper", flipper)
        h.at_exit(lambda: mtree_destroy(mt))

    result = explore(program, executions=300, seed=1)
    assert result.findings[0].kind == "rcu-mode-transition"
    assert "inside a write operation" in result.findings[0].report


def test_mt_validate_failure_after_a_write_op_is_a_finding():
    def broken_validate(mt):
        raise ValueError("pivot 3 out of range (test)")

    def program(h):
        mt = MapleTree(0, port=h.port)

        def writer():
            with h.writing(mt, 0, 5, 1):
                mtree_store_range(mt, 0, 5, 1)

        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    checkers = [*default_checkers()[:2], lambda: MtValidateCheck(broken_validate)]
    f = explore(program, executions=1, checkers=checkers).findings[0]
    assert f.kind == "mt-validate"
    assert "pivot 3 out of range" in f.message


def test_real_mt_validate_runs_unobserved_after_each_write():
    program = reader_writer(rcu=True, writes=3)
    result = explore(program, executions=5, seed=9)
    assert result.ok


def test_prealloc_exhaustion_is_its_own_finding_kind():
    def program(h):
        def t():
            raise maple.MaplePreallocExhausted("mas_pop_node: no node left")

        h.spawn("t", t)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "prealloc-exhausted"


def test_node_death_and_free_are_recorded_and_accounting_balances():
    seen = {}

    def program(h):
        mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)

        def writer():
            for i in range(30):
                mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def final():
            acc = mt.port.accounting()
            seen["acc"] = acc
            mtree_destroy(mt)

        h.spawn("writer", writer)
        h.at_exit(final)

    result = explore(program, executions=1)
    assert result.ok, result.findings[0].report
    acc = seen["acc"]
    assert acc.total_allocated > acc.allocated > 0
    assert acc.freed == acc.total_allocated - acc.allocated


def test_unobserved_block_creates_no_scheduling_points():
    steps = {}

    def program(h):
        mt = MapleTree(0, port=h.port)
        mtree_store_range(mt, 0, 5, 1)

        def t():
            before = h._ex.step
            with h.port.unobserved():
                for _ in range(10):
                    mtree_load(mt, 3)
            steps["delta"] = h._ex.step - before

        h.spawn("t", t)
        h.at_exit(lambda: mtree_destroy(mt))

    assert explore(program, executions=1).ok
    assert steps["delta"] == 0


def test_a_tree_built_unobserved_is_published_down_to_every_leaf():
    import random

    from maple.node import MapleEnode
    from rcu_harness.memory.heap import PUBLISHED
    from rcu_harness.runner.run import run_execution
    from rcu_harness.sched.registry import make_strategy

    seen = {}

    def program(h):
        mt = MapleTree(MT_FLAGS_ALLOC_RANGE, port=h.port)
        order = list(range(300))
        random.Random(1).shuffle(order)  # splits below the root, not only new roots
        with h.unobserved():
            for i in order:
                mtree_store_range(mt, i * 16 + 1, i * 16 + 9, i)
        stack, nodes = [mt.ma_root], []
        while stack:
            enode = stack.pop()
            nodes.append(enode[0])
            if enode[1] > 1:
                stack += [s for s in enode[0].slot.raw() if type(s) is MapleEnode]
        seen["unpublished"] = sum(1 for n in nodes if not n._w & PUBLISHED)
        seen["nodes"] = len(nodes)

    strategy = make_strategy("random", 0)
    strategy.new_execution(0)
    run_execution(program, strategy, 0)
    assert seen["nodes"] > 20
    assert seen["unpublished"] == 0
