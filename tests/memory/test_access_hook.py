"""The access seam (rcu_harness.memory.access): a hook sees every observed
access, its pending access is what the thread then does, and the values it
returns are what the model reads; with a hook that changes nothing, the
traces are those of the hook-free fast path byte for byte."""

from maple import (
    MT_FLAGS_USE_RCU,
    MapleTree,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.observer import Observer
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
from rcu_harness.memory.access import Access, HookedSimMapleNode
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.current import SLOT
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.trace.events import EventKind, decode_all, events_digest


class Recorder:
    """Sequential consistency, counting what it saw."""

    last_read = None
    wants_pending = True
    passive = False

    def __init__(self, change=None):
        self.loads = 0
        self.stores = 0
        self.change = change

    def load(self, ex, obj, word, index, value):
        self.loads += 1
        return self.change(word, value) if self.change else value

    def store(self, ex, obj, word, index, value):
        self.stores += 1


def installing(hook):
    class Install(Observer):
        def execution_start(self, ex):
            ex.access_hook = hook

    return (*default_checkers(), Install)


def run(scenario, index, *, hook=None, strategy=None):
    setup = program(configure(scenario))
    strategy = strategy or make_strategy("mix", 0, **calibrate(setup, "mix", 0))
    strategy.new_execution(index)
    checkers = installing(hook) if hook is not None else None
    return run_execution(setup, strategy, index, record=2, checkers=checkers)


def test_a_hook_that_changes_nothing_leaves_traces_byte_identical():
    for scenario in ("dup_mmap", "rcu_transitions", "mmput_race"):
        for index in (0, 1):
            plain = run(scenario, index)
            hook = Recorder()
            hooked = run(scenario, index, hook=hook)
            assert hooked.decisions == plain.decisions
            assert events_digest(decode_all(hooked.events)) == \
                events_digest(decode_all(plain.events))
            assert hook.loads > 100
            assert hook.stores > 10


def test_without_a_hook_nodes_are_the_plain_classes():
    ex = run("mmput_race", 0)
    nodes = [r.obj for r in ex.heap.records.values() if r.type_name == "maple_node"]
    assert nodes
    assert not any(isinstance(n, HookedSimMapleNode) for n in nodes)
    assert all(t.pending is None for t in ex.threads)


class PendingProbe:
    """A random walk that notes, at each decision, every runnable thread's
    pending access (what a POS or RFF strategy would ask for)."""

    def __init__(self):
        self.inner = make_strategy("random", 3)
        self.execution_seed = self.inner.execution_seed
        self.seen = []

    def new_execution(self, index):
        self.inner.new_execution(index)
        self.execution_seed = self.inner.execution_seed
        return True

    def next_thread(self, runnable, current, yielding=False):
        ex = SLOT.ex
        self.seen.append((ex.step, {tid: ex.threads[tid].pending for tid in runnable
                                    if tid != current}))
        return self.inner.next_thread(runnable, current, yielding)

    def next_u64(self):
        return self.inner.next_u64()


def test_the_pending_access_of_a_suspended_thread_is_its_next_access():
    probe = PendingProbe()
    ex = run("rcu_transitions", 0, hook=Recorder(), strategy=probe)
    locks = (EventKind.LOCK, EventKind.UNLOCK)
    accesses = [e for e in decode_all(ex.events)
                if e.kind in (EventKind.LOAD, EventKind.STORE, *locks)]
    checked = locked = 0
    for step, pendings in probe.seen:
        for tid, pending in pendings.items():
            if pending is None:
                continue
            assert isinstance(pending, Access)
            nxt = next(e for e in accesses if e.thread == tid and e.step >= step)
            if nxt.kind in locks:  # a lock operation: a store to its lock word
                assert (nxt.addr, pending.word, pending.store) == \
                    (pending.addr, "lock", True)
                locked += 1
                continue
            assert (nxt.addr, nxt.where.split("[")[0], nxt.kind is EventKind.STORE) \
                == (pending.addr, pending.word, pending.store)
            assert pending.index == nxt.index
            checked += 1
    assert checked > 100
    assert locked > 10


def test_the_model_reads_what_the_hook_returns():
    found = []

    def program_(h):
        mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
        for i in range(12):
            mtree_store_range(mt, i * 10, i * 10 + 5, f"e{i}")

        def reader():
            rcu_read_lock()
            found.append(mtree_load(mt, 42))
            rcu_read_unlock()

        h.spawn("reader", reader)
        h.at_exit(lambda: mtree_destroy(mt))

    def stale(word, value):  # the slot holding e4 reads another entry
        return "e-stale" if word == "slot" and value == "e4" else value

    def empty(word, value):  # ma_root reads as NULL: an empty tree
        return None if word == "ma_root" else value

    for hook in (Recorder(), Recorder(stale), Recorder(empty)):
        strategy = make_strategy("random", 0)
        strategy.new_execution(0)
        run_execution(program_, strategy, 0, checkers=installing(hook))
    assert found == ["e4", "e-stale", None]
