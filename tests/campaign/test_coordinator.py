"""The coordinator: results in index order whatever the executor does; budgets,
interrupts and resume."""

import threading
from concurrent.futures import Future
from dataclasses import replace

import pytest

from rcu_harness.campaign.coordinator import CampaignError, Interrupt, StopReason
from rcu_harness.campaign.executor import InlineExecutor, WorkerError
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import resume_run, start_run
from rcu_harness.campaign.summary import combine
from rcu_harness.campaign.worker import run_unit
from rcu_harness.store.runstore import RunStore

UAF = RunSpec("rcu_transitions", strategy="random",
              mutant="free-without-grace-period", keep_going=True)


class ReversingExecutor:
    """Computes each unit at once but completes the futures later, newest
    first, from another thread: the out-of-order finishing of a pool."""

    def __init__(self, workers=3):
        self.workers = workers
        self.inflight = 2 * workers
        self.held = []
        self.lock = threading.Lock()

    def _release(self):
        with self.lock:
            held, self.held = self.held, []
        for future, result in reversed(held):
            if future.set_running_or_notify_cancel():  # the coordinator may
                future.set_result(result)              # have dropped it

    def submit(self, unit):
        future = Future()
        with self.lock:
            self.held.append((future, run_unit(unit)))
        threading.Timer(0.02, self._release).start()
        return future

    def shutdown(self, *, cancel):
        self._release()


class BundlingExecutor(ReversingExecutor):
    """Takes up to 3 consecutive units per task, as a cluster's executor does
    (two bundles per worker in flight), completing their futures later,
    newest first; ``tasks`` lists each task's units (start, stop)."""

    bundle = 3

    def __init__(self, workers=2):
        super().__init__(workers)
        self.inflight = 2 * self.bundle * workers
        self.tasks = []

    def submit_many(self, units):
        self.tasks.append([(u.start, u.stop) for u in units])
        return [super(BundlingExecutor, self).submit(u) for u in units]

    def submit(self, unit):
        raise AssertionError("a bundling executor's units go to submit_many")


class ForgetfulExecutor(InlineExecutor):
    """Drops the reports workers send (an executor that breaks block order)."""

    def submit(self, unit):
        future = super().submit(unit)
        return _done(replace(future.result(), findings=()))


def _done(value):
    future = Future()
    future.set_result(value)
    return future


class StopAt:
    """A progress sink that interrupts the run after @n executions."""

    def __init__(self, interrupt, n):
        self.interrupt, self.n = interrupt, n

    def update(self, snap):
        if snap.executions >= self.n:
            self.interrupt.count = 1

    def note(self, text):
        pass

    def close(self):
        pass


def _run(tmp_path, spec, budget, executor=InlineExecutor, name="run"):
    return start_run(resolve(spec), budget, out=tmp_path / name, jobs=2,
                     progress=NoProgress(), interrupt=Interrupt(),
                     executor_for=lambda plan, jobs: executor())


def _content(run_dir):
    store = RunStore.open(run_dir)
    rows = [(r.idx, r.seed, r.steps, r.finding, dict(r.counters))
            for r in store.executions()]
    findings = [(f.signature, f.kind, f.message, f.first_execution, f.count,
                 f.replay, (run_dir / f.trace).read_text()) for f in store.findings()]
    store.close()
    return rows, findings


@pytest.mark.parametrize("executor", [ReversingExecutor, ForgetfulExecutor,
                                      BundlingExecutor])
def test_results_do_not_depend_on_the_order_executors_finish_in(tmp_path, executor):
    budget = Budget(40)
    inline = _run(tmp_path, UAF, budget, name="a")
    other = _run(tmp_path, UAF, budget, executor, name="b")
    assert _content(other.run_dir) == _content(inline.run_dir)
    assert len(_content(inline.run_dir)[1]) >= 3


@pytest.mark.parametrize("executor", [ReversingExecutor, BundlingExecutor])
def test_the_first_finding_ends_the_run_at_the_same_execution_in_any_order(
        tmp_path, executor):
    spec = replace(UAF, keep_going=False)
    inline = _run(tmp_path, spec, Budget(40), name="a")
    other = _run(tmp_path, spec, Budget(40), executor, name="b")
    assert inline.outcome.stopped is StopReason.FINDING
    assert _content(other.run_dir) == _content(inline.run_dir)
    rows, findings = _content(inline.run_dir)
    assert rows[-1][3] is not None
    assert all(r[3] is None for r in rows[:-1])
    assert len(findings) == 1


def test_a_bundling_executor_gets_whole_bundles_of_consecutive_units(tmp_path):
    """100 executions: 7 units, 12 in flight (two bundles of 3 per worker):
    bundles of 3 consecutive units, the last cut short by the budget."""
    executor = BundlingExecutor()
    inline = _run(tmp_path, UAF, Budget(100), name="a")
    other = _run(tmp_path, UAF, Budget(100), lambda: executor, name="b")
    assert _content(other.run_dir) == _content(inline.run_dir)
    units = [(s, s + 16) for s in range(0, 96, 16)] + [(96, 100)]
    assert executor.tasks == [units[0:3], units[3:6], units[6:]]
    assert sum(t["units"] for t in other.summary.workers.values()) == 7


def test_a_bundle_waits_for_a_whole_bundle_of_room(tmp_path):
    """5 units in flight at most (``--jobs 5`` on a cluster): bundles of 3
    units; a finished unit frees no room for a bundle of one."""
    class Capped(BundlingExecutor):
        def __init__(self):
            super().__init__()
            self.inflight = 5

    executor = Capped()
    other = _run(tmp_path, UAF, Budget(160), lambda: executor, name="b")
    assert other.summary.executions == 160
    assert [len(t) for t in executor.tasks] == [3, 3, 3, 1]


class FailingThirdUnit(InlineExecutor):
    """Four units in flight, each done when submitted; the third (executions
    32..47) fails on its worker, so the coordinator finds it failed beside
    the two finished units before it."""

    inflight = 4

    def submit(self, unit):
        if unit.start != 32:
            return super().submit(unit)
        future = Future()
        future.set_exception(WorkerError("worker tcp://10.0.0.7:4000 (host lab7) "
                                         "failed on executions 32..47: boom"))
        return future


def test_a_failed_unit_ends_the_run_after_the_units_before_it_are_committed(
        tmp_path):
    with pytest.raises(CampaignError, match=r"^worker tcp://10\.0\.0\.7:4000 "
                       r"\(host lab7\) failed on executions 32\.\.47: boom$"):
        _run(tmp_path, UAF, Budget(96), FailingThirdUnit)
    (run_dir,) = (tmp_path / "run").iterdir()
    store = RunStore.open(run_dir)
    assert store.meta()["status"] == "failed"
    assert [r.idx for r in store.executions()] == list(range(32))
    store.close()


def test_the_executions_budget_ends_a_clean_run(tmp_path):
    result = _run(tmp_path, RunSpec("mmput_race", params={"vmas": 4}), Budget(20))
    assert result.outcome.stopped is StopReason.EXECUTIONS
    assert result.summary.executions == 20
    assert result.summary.findings == ()
    assert result.summary.status == "complete"


def test_the_time_budget_ends_a_run_with_what_it_did(tmp_path):
    result = _run(tmp_path, RunSpec("mmput_race", params={"vmas": 4}),
                  Budget(10**9, seconds=1))
    assert result.outcome.stopped is StopReason.TIME
    assert 0 < result.summary.executions < 10**9


def test_an_interrupted_run_resumes_without_repeating_executions(tmp_path):
    interrupt = Interrupt()
    first = start_run(resolve(UAF), Budget(60), out=tmp_path / "r", jobs=1,
                      progress=StopAt(interrupt, 20), interrupt=interrupt)
    assert first.outcome.stopped is StopReason.INTERRUPTED
    assert first.summary.status == "interrupted"
    done = first.summary.executions
    assert 20 <= done < 60
    second = resume_run(first.run_dir, jobs=1, executions=None, seconds=None,
                        progress=NoProgress(), interrupt=Interrupt())
    assert second.outcome.session == 60 - done
    assert second.summary.executions == 60
    whole = _run(tmp_path, UAF, Budget(60), name="whole")
    assert _content(second.run_dir) == _content(whole.run_dir)


def test_an_interrupted_dfs_run_resumes_where_it_stopped(tmp_path):
    spec = RunSpec("mmput_race", strategy="dfs", params={"vmas": 3})
    interrupt = Interrupt()
    first = start_run(resolve(spec), Budget(300), out=tmp_path / "r", jobs=1,
                      progress=StopAt(interrupt, 100), interrupt=interrupt)
    assert first.summary.executions < 300
    second = resume_run(first.run_dir, jobs=2, executions=None, seconds=None,
                        progress=NoProgress(), interrupt=Interrupt())
    whole = _run(tmp_path, spec, Budget(300), name="whole")
    assert _content(second.run_dir) == _content(whole.run_dir)


def test_a_run_ended_by_its_finding_has_nothing_to_resume(tmp_path):
    first = _run(tmp_path, replace(UAF, keep_going=False), Budget(40))
    again = resume_run(first.run_dir, jobs=1, executions=None, seconds=None,
                       progress=NoProgress(), interrupt=Interrupt())
    assert again.outcome.session == 0
    assert "nothing to resume" in again.summary.notes[0]


def test_resuming_with_a_larger_budget_extends_a_finished_run(tmp_path):
    first = _run(tmp_path, RunSpec("mmput_race", params={"vmas": 4}), Budget(10))
    again = resume_run(first.run_dir, jobs=1, executions=25, seconds=None,
                       progress=NoProgress(), interrupt=Interrupt())
    assert (again.outcome.session, again.summary.executions) == (15, 25)


def test_a_job_summary_sums_its_runs(tmp_path):
    a = _run(tmp_path, RunSpec("mmput_race", params={"vmas": 4}), Budget(5), name="a")
    b = _run(tmp_path, UAF, Budget(5), name="b")
    out = combine([a.summary, b.summary], "job")
    assert out["executions"] == 10
    assert out["steps"] == a.summary.steps + b.summary.steps
    assert [r["run_dir"] for r in out["runs"]] == [a.summary.run_dir,
                                                    b.summary.run_dir]
    assert len(out["findings"]) == len(b.summary.findings)
    assert all(f["run_dir"] == b.summary.run_dir for f in out["findings"])
