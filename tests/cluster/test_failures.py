"""Failures on a cluster, as for the local pool: a worker killed mid-unit has
its units run again (nothing lost, nothing counted twice), also when it dies
holding a finished unit's result (the unit is submitted again, a bounded
number of times); a lost scheduler stops the run like Ctrl-C, keeps what
finished, and ``--resume`` finishes it on another executor with identical
results; ``local:N`` workers survive a Ctrl-C to the process group and exit
with a SIGKILLed coordinator."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from rcu_harness.campaign import cluster as cluster_mod
from rcu_harness.campaign.coordinator import CampaignError, Interrupt, StopReason
from rcu_harness.campaign.executor import InlineExecutor, WorkerError
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import start_run
from rcu_harness.campaign.worker import WorkUnit, run_unit
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import run
from tests.cluster.procs import DaskProcs
from tests.cluster.runs import UAF, committed, content, start, stress, summary, workers

pytestmark = pytest.mark.timeout(300)

LONG = (*UAF, "--executions", "320")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The long run with two local processes (equal to one: tests/cli)."""
    code, out, err = stress(tmp_path_factory.mktemp("ref"), *LONG, "--jobs", "2")
    assert code == 1, err
    return out


@pytest.fixture
def procs(tmp_path):
    procs = DaskProcs(tmp_path / "dask")
    try:
        yield procs
    finally:
        procs.close()


def _busy_worker(procs, pids):
    """A worker running one of the campaign's units now."""
    with procs.client() as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for addr, keys in sorted(client.processing().items()):
                if any(str(k).startswith("rcu-unit-") for k in keys):
                    return addr, pids[addr]
            time.sleep(0.02)
    pytest.fail("no worker was running a unit")


def test_a_worker_killed_mid_unit_has_its_units_run_again(tmp_path, procs, reference):
    procs.scheduler()
    procs.worker("w1")
    procs.worker("w2")
    pids = procs.wait_for_workers(2)
    coordinator = start(tmp_path / "runs", *LONG, "--scheduler", procs.address)
    try:
        committed(tmp_path / "runs", 32)
        victim, pid = _busy_worker(procs, pids)
        os.kill(pid, signal.SIGKILL)
        assert coordinator.poll() is None, "the run ended before the kill"
        stdout, stderr = coordinator.communicate(timeout=240)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("complete", "executions"), (
        out["notes"], stderr)
    assert summary(out) == summary(reference)
    assert content(out["run_dir"]) == content(reference["run_dir"])
    tallies = workers(out["run_dir"])
    assert sum(t["executions"] for t in tallies.values()) == 320
    survivor = next(a for a in pids if a != victim)
    assert tallies[survivor]["executions"] > tallies.get(victim, {}).get(
        "executions", 0), "the survivor ran the victim's units"


def test_losing_the_scheduler_stops_like_ctrl_c_and_resume_finishes_the_run(
        tmp_path, procs, reference):
    procs.scheduler()
    procs.worker("w1")
    procs.worker("w2")
    procs.wait_for_workers(2)
    coordinator = start(tmp_path / "runs", *LONG, "--scheduler", procs.address)
    try:
        run_dir = committed(tmp_path / "runs", 32)
        procs.kill(procs.scheduler_proc)
        stdout, stderr = coordinator.communicate(timeout=120)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr  # findings so far, as after Ctrl-C
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("interrupted", "cluster-lost")
    assert 32 <= out["executions"] < 320
    assert any("--resume" in note for note in out["notes"])
    rows, _ = content(run_dir)
    assert [r[0] for r in rows] == list(range(out["executions"]))

    done = run("stress", "--resume", run_dir, "--jobs", "1", "--json", "--quiet",
               "--no-report", timeout=240)
    assert done.returncode == 1, done.stderr
    again = json.loads(done.stdout)
    assert (again["status"], again["executions"]) == ("complete", 320)
    assert again["session_executions"] == 320 - out["executions"]
    assert content(run_dir) == content(reference["run_dir"])


def _children(pid):
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] not in (b"Z", b"X"):
                kids.append(int(entry.name))
    return kids


def _gone(pids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if Path(f"/proc/{p}").exists()
                 and b"Z" not in Path(f"/proc/{p}/stat").read_bytes().rsplit(
                     b")", 1)[1].split()[:1]]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def test_local_workers_ignore_ctrl_c_and_exit_with_their_coordinator(tmp_path):
    slow = (*UAF, "--executions", "100000", "--time", "0")
    coordinator = start(tmp_path / "a", *slow, "--scheduler", "local:2")
    try:
        committed(tmp_path / "a", 32)
        kids = _children(coordinator.pid)
        for pid in [coordinator.pid, *kids]:
            os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        stdout, stderr = coordinator.communicate(timeout=120)
    finally:
        coordinator.kill()
        coordinator.communicate()
    assert coordinator.returncode == 1, stderr
    assert "Traceback" not in stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped"]) == ("interrupted", "interrupted")
    assert sum(t["executions"] for t in workers(out["run_dir"]).values()) == out[
        "executions"]
    assert not _gone(kids)

    coordinator = start(tmp_path / "b", *slow, "--scheduler", "local:2")
    try:
        committed(tmp_path / "b", 16)
        kids = _children(coordinator.pid)
        assert len(kids) >= 2
        coordinator.kill()
        coordinator.communicate(timeout=30)
    finally:
        coordinator.kill()
    assert not _gone(kids), "local workers outlived their coordinator"


# -- a unit whose result does not arrive ---------------------------------------------

def _until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen in time")
        time.sleep(0.01)


SMALL = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))


@pytest.mark.parametrize("bundle", [1, 2])
def test_a_unit_whose_worker_died_holding_its_result_runs_again(
        tmp_path, procs, monkeypatch, bundle):
    """The window of the old flake, forced: the unit (or bundle) finished on
    its only worker, which is killed before the coordinator fetched the
    result, so Dask reports the task's future ``lost`` (not the scheduler)."""
    procs.scheduler()
    procs.worker("w1")
    ((victim, pid),) = procs.wait_for_workers(1).items()
    gate, held = threading.Event(), []
    done = cluster_mod.DaskExecutor._done

    def hold_first(self, units, futures, task, tries):
        if not held:
            held.append(task)
            gate.wait(120)
        done(self, units, futures, task, tries)

    monkeypatch.setattr(cluster_mod.DaskExecutor, "_done", hold_first)
    with cluster_mod.Cluster(procs.address) as cluster:
        units = [WorkUnit(SMALL, 4 * k, 4 * k + 4) for k in range(bundle)]
        try:
            futures = cluster.executor(SMALL, 1).submit_many(units)
            _until(lambda: held, "the unit finishing")
            os.kill(pid, signal.SIGKILL)
            _until(lambda: held[0].status == "lost", "Dask reporting the result lost")
        finally:
            gate.set()  # with no worker left, the callback sees the future lost
        procs.worker("w2")
        results = [f.result(timeout=120) for f in futures]
    for unit, result in zip(units, results, strict=True):
        assert result.worker.startswith("tcp://127.0.0.1:")
        assert result.worker != victim
        assert _records(result) == _records(run_unit(unit))


def _records(result):
    """A unit result's executions, less the wall-clock figures."""
    return [(r.idx, r.seed, r.steps, r.signature, r.counters)
            for r in result.executions]


UAF_PLAN = resolve(RunSpec("rcu_transitions", strategy="random",
                           mutant="free-without-grace-period", keep_going=True,
                           params={"vmas": 4}))
BUDGET = Budget(96)


class FakeTask:
    """A Dask future as the executor sees it, ending as scripted: ``finished``
    (the units run here when the result is fetched), ``fetch`` (finished, but
    fetching the result fails), ``lost`` (its worker died holding the result),
    ``cancelled``, ``killed`` (Dask's KilledWorker), ``disconnect`` (the
    client lost the scheduler, which cancels every future), ``second-fails``
    (finished, the task's second unit failed on its worker)."""

    def __init__(self, client, ending, run):
        self.client, self.ending, self.run = client, ending, run
        self.status = {"fetch": "finished", "killed": "error",
                       "disconnect": "cancelled",
                       "second-fails": "finished"}.get(ending, ending)
        self.released = False

    def add_done_callback(self, fn):
        if self.ending == "disconnect":
            self.client.status = "connecting"
        fn(self)

    def result(self, timeout=None):
        if self.ending == "fetch":
            raise OSError("Timed out trying to connect to tcp://10.0.0.7:4000")
        results = self.run()
        if self.ending == "second-fails":
            results[1] = WorkerError("worker tcp://10.0.0.7:4000 (host lab7) "
                                     "failed on executions 48..63: boom")
        return results

    def exception(self, timeout=None):
        return KilledWorker("Attempted to run task 'rcu-unit-32-0' on 4 different "
                            "workers, but all those workers died while running it.")

    def release(self):
        self.released = True


class KilledWorker(Exception):
    """Dask's, by name."""


class FakeClient:
    """Hands out :class:`FakeTask` s, ending as @script says per task (keyed
    by its first unit's start; a list, one ending per submission; then
    ``finished``); ``submitted`` lists the tasks' units' starts."""

    def __init__(self, script):
        self.script = {start: list(endings) for start, endings in script.items()}
        self.status = "running"
        self.submitted: list[tuple[int, ...]] = []
        self.tasks: list[FakeTask] = []

    def submit(self, fn, units, expect, *, pure, key):
        if self.status != "running":
            raise OSError("not connected")
        assert key.startswith(f"rcu-unit-{units[0].start}-")
        self.submitted.append(tuple(u.start for u in units))
        endings = self.script.get(units[0].start, [])
        task = FakeTask(self, endings.pop(0) if endings else "finished",
                        lambda: fn(units, expect))
        self.tasks.append(task)
        return task

    def nthreads(self):
        return {"tcp://10.0.0.7:4000": 1, "tcp://10.0.0.8:4000": 1}


class FakeCluster:
    address = "tcp://10.0.0.1:8786"

    def __init__(self, script):
        self.client = FakeClient(script)
        self.expect = cluster_mod.identity()


def _run(tmp_path, executor):
    return start_run(UAF_PLAN, BUDGET, out=tmp_path, jobs=2, progress=NoProgress(),
                     interrupt=Interrupt(), executor_for=lambda p, j: executor)


@pytest.fixture(scope="module")
def inline(tmp_path_factory):
    """The 96 executions run in this process."""
    return _run(tmp_path_factory.mktemp("inline"), InlineExecutor())


TASKS = {1: [(s,) for s in range(0, 96, 16)],
         2: [(0, 16), (32, 48), (64, 80)],
         4: [(0, 16, 32, 48), (64, 80)]}
"""The tasks of the 96 executions (6 units) per bundle size, two workers:
bundles of consecutive units, the last one cut short by the end of the run."""


@pytest.mark.parametrize("ending", ["lost", "fetch", "cancelled"])
@pytest.mark.parametrize(("bundle", "first", "second"), [(1, 32, 48), (4, 0, 64)])
def test_a_unit_whose_result_does_not_arrive_runs_again_with_the_same_findings(
        tmp_path, inline, ending, bundle, first, second):
    fake = FakeCluster({first: [ending],
                        second: [ending] * cluster_mod.UNIT_RETRIES})
    done = _run(tmp_path, cluster_mod.DaskExecutor(fake, None, bundle))
    assert done.outcome.stopped is StopReason.EXECUTIONS
    assert done.outcome.session == 96
    assert done.summary.findings, "the run has findings to compare"
    assert content(done.run_dir) == content(inline.run_dir)
    client = fake.client
    tasks = TASKS[bundle]
    firsts = [t[0] for t in client.submitted]
    assert firsts.count(first) == 2
    assert firsts.count(second) == 1 + cluster_mod.UNIT_RETRIES
    assert sorted(set(client.submitted)) == tasks
    assert [t.released for t in client.tasks if t.ending == ending] == [True] * (
        1 + cluster_mod.UNIT_RETRIES)


@pytest.mark.parametrize(("bundle", "what"), [
    (1, "unit of executions 32..47"),
    (2, "bundle of 2 units (executions 32..63)")])
def test_a_unit_whose_result_never_arrives_ends_the_run_in_one_line_naming_it(
        tmp_path, bundle, what):
    fake = FakeCluster({32: ["lost"] * (cluster_mod.UNIT_RETRIES + 1)})
    with pytest.raises(CampaignError) as caught:
        _run(tmp_path, cluster_mod.DaskExecutor(fake, None, bundle))
    assert str(caught.value) == (
        f"{what} was submitted 4 times and its result never "
        "arrived (last time its worker died holding its result); check the "
        "workers and their logs")
    (run_dir,) = tmp_path.iterdir()
    store = RunStore.open(run_dir)
    assert store.meta()["status"] == "failed"
    assert [r.idx for r in store.executions()] == list(range(32))
    store.close()


@pytest.mark.parametrize(("bundle", "what"), [
    (1, r"unit of executions 32\.\.47"),
    (2, r"bundle of 2 units \(executions 32\.\.63\)")])
def test_a_unit_that_killed_its_workers_ends_the_run_naming_it(tmp_path, bundle,
                                                                what):
    fake = FakeCluster({32: ["killed"]})
    with pytest.raises(CampaignError, match=rf"^{what} failed "
                       r"on the cluster: KilledWorker: Attempted to run task "):
        _run(tmp_path, cluster_mod.DaskExecutor(fake, None, bundle))
    assert [t[0] for t in fake.client.submitted].count(32) == 1


def test_a_failed_unit_in_a_bundle_ends_the_run_keeping_the_units_before_it(
        tmp_path):
    """Units 32..47 and 48..63 share a task; the second failed on its
    worker: the first's executions are committed, the error names the unit."""
    fake = FakeCluster({32: ["second-fails"]})
    with pytest.raises(CampaignError) as caught:
        _run(tmp_path, cluster_mod.DaskExecutor(fake, None, 2))
    assert str(caught.value) == ("worker tcp://10.0.0.7:4000 (host lab7) failed on "
                                 "executions 48..63: boom")
    (run_dir,) = tmp_path.iterdir()
    store = RunStore.open(run_dir)
    assert store.meta()["status"] == "failed"
    assert [r.idx for r in store.executions()] == list(range(48))
    store.close()


@pytest.mark.parametrize("bundle", [1, 2])
def test_a_unit_cancelled_with_the_scheduler_gone_stops_the_run_as_cluster_lost(
        tmp_path, bundle):
    fake = FakeCluster({32: ["disconnect"]})
    done = _run(tmp_path, cluster_mod.DaskExecutor(fake, None, bundle))
    assert done.outcome.stopped is StopReason.LOST
    assert done.outcome.detail == ("lost the Dask scheduler tcp://10.0.0.1:8786: "
                                   "client connecting")
    assert 32 <= done.outcome.session < 96
    assert [t[0] for t in fake.client.submitted].count(32) == 1
    rows, _ = content(done.run_dir)
    assert [r[0] for r in rows] == list(range(done.outcome.session))
