"""Reads-from coverage: measured without changing executions, stored per
pair with its first execution, the same whatever the executor, the number of
workers or a resume; ``until_saturated`` stops where the rule says."""

import pytest

from rcu_harness.campaign.coordinator import Interrupt, StopReason
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.saturation import MIN_EXECUTIONS, Coverage
from rcu_harness.campaign.session import resume_run, start_run
from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.reads_from import ReadsFromCoverage
from rcu_harness.memory.reads_from import UNOBSERVED
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.store.runstore import RunStore
from rcu_harness.trace.events import decode_all, events_digest
from tests.campaign.test_coordinator import (
    BundlingExecutor,
    ReversingExecutor,
    StopAt,
    _content,
    _run,
)

COVERED = RunSpec("rcu_transitions", strategy="pos", coverage=True)


def _pairs(run_dir):
    store = RunStore.open(run_dir)
    try:
        return store.reads_from()
    finally:
        store.close()


def _pairs_measured_without_effect(cfg, name, seed, index):
    """Execution @index of strategy @name run plain and with reads-from
    coverage: the same schedule and events; the pairs measured."""
    prog = program(cfg)

    def run(checkers):
        strategy = make_strategy(name, seed)
        strategy.new_execution(index)
        return run_execution(prog, strategy, index, checkers=checkers)

    plain = run(None)
    measured = run((*default_checkers(), ReadsFromCoverage))
    assert measured.schedule() == plain.schedule()
    assert events_digest(decode_all(measured.events)) == events_digest(
        decode_all(plain.events))
    return measured.context["reads_from"]


@pytest.mark.parametrize("name", ["random", "pos"])
def test_measuring_changes_nothing_the_execution_does(name):
    pairs = _pairs_measured_without_effect(configure("rcu_transitions"), name, 4, 2)
    words = {w for w, _, _ in pairs}
    assert {"slot", "pivot", "ma_root"} <= words
    writers = {wr for _, wr, _ in pairs}
    assert UNOBSERVED in writers
    assert any(wr.startswith("mas_") for wr in writers), writers
    assert all(":" in rd for _, _, rd in pairs)


def test_lock_hand_overs_and_refcount_rmws_are_pairs_measured_without_effect():
    """Under sc a lock acquisition reads from the release before it and a
    field_rmw() (vm_refcnt of the 6.15 design) is a load and a store: both
    are pairs, and measuring them changes nothing the execution does."""
    pairs = _pairs_measured_without_effect(
        configure("page_fault", {"design": "vma_refcnt"}), "random", 1, 0)
    locks = {(wr, rd) for w, wr, rd in pairs if w == "lock"}
    assert any(wr.startswith("mmap_write_unlock") and rd.startswith("mmap_")
               for wr, rd in locks), locks
    refs = {(wr, rd) for w, wr, rd in pairs if w == "vm_refcnt"}
    assert any(wr != UNOBSERVED for wr, _ in refs), refs


def test_coverage_keeps_the_first_execution_and_counts_below_a_bound():
    c = Coverage([("a", 5), ("b", 1)])
    c.add("a", 3)
    c.add("b", 9)
    assert c.first == {"a": 3, "b": 1}
    assert (c.upto(1), c.upto(2), c.upto(4)) == (0, 1, 2)


def test_saturation_needs_a_quiet_second_half_and_a_minimum():
    n = MIN_EXECUTIONS
    early = Coverage((f"p{i}", i % 10) for i in range(200))
    assert not early.saturated(n - 1)
    assert early.saturated(n)
    late = Coverage([*((f"p{i}", 0) for i in range(98)), ("x", n - 1), ("y", n - 2)])
    assert not late.saturated(n)
    assert late.saturated(4 * n)
    assert Coverage().saturated(n)


def test_a_covered_run_stores_its_pairs_independent_of_executor_order(tmp_path):
    inline = _run(tmp_path, COVERED, Budget(48), name="a")
    other = _run(tmp_path, COVERED, Budget(48), ReversingExecutor, name="b")
    pairs = _pairs(inline.run_dir)
    assert len(pairs) > 50
    assert pairs == _pairs(other.run_dir)
    assert min(first for _, first, _ in pairs) == 0
    assert all(1 <= n <= 48 for _, _, n in pairs)
    assert _content(inline.run_dir) == _content(other.run_dir)


def test_an_uncovered_run_stores_no_pairs(tmp_path):
    plain = _run(tmp_path, RunSpec("rcu_transitions", strategy="pos"), Budget(16))
    assert _pairs(plain.run_dir) == []


def test_an_interrupted_covered_run_resumes_to_the_same_pairs(tmp_path):
    interrupt = Interrupt()
    first = start_run(resolve(COVERED), Budget(64), out=tmp_path / "r", jobs=1,
                      progress=StopAt(interrupt, 20), interrupt=interrupt)
    assert first.outcome.stopped is StopReason.INTERRUPTED
    second = resume_run(first.run_dir, jobs=2, executions=None, seconds=None,
                        progress=NoProgress(), interrupt=Interrupt())
    whole = _run(tmp_path, COVERED, Budget(64), name="whole")
    assert _pairs(second.run_dir) == _pairs(whole.run_dir)
    assert _content(second.run_dir) == _content(whole.run_dir)


@pytest.mark.parametrize("executor", [ReversingExecutor, BundlingExecutor])
def test_until_saturated_stops_at_the_same_execution_for_any_workers(tmp_path,
                                                                    executor):
    # random saturates at the first block end past 100 (112 executions);
    # pos, with lock hand-overs among its pairs, at 144 (BENCHMARKS)
    spec = RunSpec("rcu_transitions", strategy="random", until_saturated=True)
    plan = resolve(spec)
    assert plan.coverage
    one = _run(tmp_path, spec, Budget(2000), name="one")
    two = _run(tmp_path, spec, Budget(2000), executor, name="two")
    assert one.outcome.stopped is StopReason.SATURATED
    assert one.summary.executions == two.summary.executions < 2000
    pairs = _pairs(one.run_dir)
    assert pairs == _pairs(two.run_dir)
    c = Coverage((p, first) for p, first, _ in pairs)
    assert c.saturated(one.summary.executions)
    again = resume_run(one.run_dir, jobs=1, executions=None, seconds=None,
                       progress=NoProgress(), interrupt=Interrupt())
    assert again.outcome.session == 0


def test_the_report_shows_the_saturation_curve(tmp_path):
    from rcu_harness.report.html import report_html
    from rcu_harness.report.json_out import report_dict
    from rcu_harness.report.model import load_run
    from rcu_harness.report.tables import reads_from_table, saturation_points

    run = _run(tmp_path, COVERED, Budget(48))
    r = load_run(run.run_dir)
    table = reads_from_table(r)
    assert table is not None
    assert [row[0] for row in table.rows] == ["1", "2", "5", "10", "20", "48"]
    data = report_dict(r)["reads_from"]
    assert data["curve"][-1] == [48, len(_pairs(run.run_dir))]
    counts = [c for _, c in data["curve"]]
    assert counts == sorted(counts)
    assert "Reads-from saturation curve" in report_html(r)
    assert saturation_points(0) == []
    plain = load_run(_run(tmp_path, RunSpec("rcu_transitions", strategy="pos"),
                          Budget(16), name="plain").run_dir)
    assert reads_from_table(plain) is None
    assert report_dict(plain)["reads_from"] == {"pairs": [], "curve": []}


def test_a_weak_memory_models_choice_of_store_names_the_write_site():
    """A memory model hook in front of which the coverage hook sits says
    which store a load read (``last_read``: step and thread, as lkmm does);
    the pair then names that store's site, not the last store's."""
    from types import SimpleNamespace

    from rcu_harness.memory.reads_from import ReadsFromHook

    class OldestStore:
        def __init__(self):
            self.last_read = None
            self.stores = []

        def store(self, ex, obj, word, index, value):
            self.stores.append((ex.step, ex.cur_tid))

        def load(self, ex, obj, word, index, value):
            step, thread = self.stores[0]
            self.last_read = SimpleNamespace(step=step, thread=thread)
            return "old"

    def first_store(hook, ex, node):
        hook.store(ex, node, "slot", 0, "old")

    def second_store(hook, ex, node):
        hook.store(ex, node, "slot", 0, "new")

    def reader(hook, ex, node):
        return hook.load(ex, node, "slot", 0, "new")

    node = SimpleNamespace(addr=0x100)
    hook = ReadsFromHook(OldestStore())
    first_store(hook, SimpleNamespace(step=3, cur_tid=1), node)
    second_store(hook, SimpleNamespace(step=7, cur_tid=2), node)
    assert reader(hook, SimpleNamespace(step=9, cur_tid=3), node) == "old"
    ((word, writer, read_site),) = hook.pairs
    assert word == "slot"
    assert writer.startswith("first_store:")
    assert read_site.startswith("reader:")
