"""Bad input on a cluster: a malformed address, an unreachable scheduler, one
without workers, a worker of another version or code, a worker that cannot
load the scenario, a multi-threaded worker: one line on stderr naming the
problem (and the worker), exit 2, nothing written, a stored run untouched."""

import re
import socket
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest

from rcu_harness.campaign import cluster as cluster_mod
from rcu_harness.campaign.coordinator import CampaignError, Interrupt
from rcu_harness.campaign.executor import InlineExecutor, WorkerError
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import start_run
from rcu_harness.campaign.worker import WorkUnit
from rcu_harness.store.runstore import RunStore
from tests.cli.helpers import cli
from tests.cluster.procs import DaskProcs
from tests.cluster.runs import stress

SMALL = ("--scenario", "mmput_race", "--set", "vmas=2", "--executions", "4")


def _refused(capsys, tmp_path, *argv, match):
    out_dir = tmp_path / "out"
    where = () if "--resume" in argv else ("--out", out_dir)
    code, out, err = cli(capsys, "stress", *argv, *where, "--quiet")
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("rcu-harness: error: "), err
    assert "Traceback" not in err
    assert match in err, err
    assert not out_dir.exists() or not any(out_dir.iterdir())
    return err


@pytest.mark.parametrize("address", ["nowhere", "local:0", "local:two",
                                     "tcp://127.0.0.1", "http://127.0.0.1:8786",
                                     "tcp://127.0.0.1:99999", "tcp://:8786"])
def test_a_malformed_scheduler_is_refused(capsys, tmp_path, address):
    _refused(capsys, tmp_path, *SMALL, "--scheduler", address,
             match=f"--scheduler takes tcp://HOST:PORT or local:N (got '{address}')")


def test_a_malformed_scheduler_in_a_job_file_is_refused(capsys, tmp_path):
    job = tmp_path / "job.toml"
    job.write_text('scheduler = "lab1"\n[[run]]\nscenario = "mmput_race"\n')
    _refused(capsys, tmp_path, job, match=f"{job}: scheduler takes tcp://HOST:PORT")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_mod, "CONNECT_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    _refused(capsys, tmp_path, *SMALL, "--scheduler", address,
             match=f"cannot reach the Dask scheduler at {address}")


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A scheduler whose workers the tests start (and stop) themselves."""
    procs = DaskProcs(tmp_path_factory.mktemp("dask"))
    try:
        procs.scheduler()
        yield procs
    finally:
        procs.close()


@pytest.fixture
def worker(bare, tmp_path):
    """Start one worker on @bare (with a preload script's text, or options)."""
    started = []

    def start(preload="", *options):
        args = list(options)
        if preload:
            script = tmp_path / "preload_for_test.py"
            script.write_text(preload)
            args += ["--preload", str(script)]
        started.append(bare.worker(f"w{len(started)}", *args))
        return bare.wait_for_workers(1)

    yield start
    for proc in started:
        bare.kill(proc)
    bare.wait_for_workers(0)


def test_a_scheduler_without_workers_is_refused(capsys, tmp_path, bare, monkeypatch):
    monkeypatch.setattr(cluster_mod, "CONNECT_SECONDS", 1.0)
    bare.wait_for_workers(0)
    _refused(capsys, tmp_path, *SMALL, "--scheduler", bare.address,
             match=f"the Dask scheduler at {bare.address} has no workers")


OTHER_VERSION = ("import rcu_harness.version\n"
                 "rcu_harness.version.__version__ = '0.0.0-other'\n")
OTHER_CODE = ("import rcu_harness.campaign.cluster as c\n"
              "c.code_digest = lambda: 'f' * 32\n")
NO_PROGRAM = ("import sys\n"
              "sys.modules['tests.programs.sessions'] = None\n")
"""A worker without the user's program module (the scenarios come with
rcu-harness itself: a worker without one of them cannot run it at all)."""


def test_a_worker_of_another_version_is_refused_and_a_stored_run_kept(
        capsys, tmp_path, bare, worker):
    code, first, _ = stress(tmp_path / "runs", *SMALL, "--jobs", "1")
    assert code == 0
    run_dir = Path(first["run_dir"])
    before = RunStore.open(run_dir)
    meta, rows = before.meta(), before.executions()
    before.close()
    worker(OTHER_VERSION)
    err = _refused(capsys, tmp_path, *SMALL, "--scheduler", bare.address,
                   match="runs rcu-harness 0.0.0-other, this coordinator 0.1.0")
    assert "worker tcp://127.0.0.1:" in err
    _refused(capsys, tmp_path, "--resume", run_dir, "--executions", "8",
             "--scheduler", bare.address, match="runs rcu-harness 0.0.0-other")
    after = RunStore.open(run_dir)
    assert (after.meta(), after.executions()) == (meta, rows)
    after.close()


def test_a_worker_with_other_code_is_refused(capsys, tmp_path, bare, worker):
    worker(OTHER_CODE)
    _refused(capsys, tmp_path, *SMALL, "--scheduler", bare.address,
             match="runs other rcu-harness code than this coordinator")


def test_a_worker_that_cannot_load_the_program_is_named(capsys, tmp_path, bare,
                                                        worker):
    worker(NO_PROGRAM)
    err = _refused(capsys, tmp_path, "--program", "tests.programs.sessions:program",
                   "--executions", "4", "--scheduler", bare.address,
                   match="cannot load scenario tests.programs.sessions:program: "
                   "ScenarioError: program tests.programs.sessions:program: "
                   "cannot import tests.programs.sessions")
    assert err.startswith("rcu-harness: error: worker tcp://127.0.0.1:"), err


def test_a_multi_threaded_worker_is_refused(capsys, tmp_path, bare, worker):
    bare.worker("threads", "--nthreads", "2")
    try:
        bare.wait_for_workers(1)
        _refused(capsys, tmp_path, *SMALL, "--scheduler", bare.address,
                 match="has 2 threads")
    finally:
        bare.kill(bare.procs[-1])
        bare.wait_for_workers(0)


# -- a worker that joins later is checked by every unit it runs ----------------------

PLAN = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))


def test_a_unit_refuses_to_run_on_a_worker_of_another_version():
    other = replace(cluster_mod.identity(), version="9.9")
    with pytest.raises(WorkerError, match=r"^worker .* runs rcu-harness 0\.1\.0, "
                       r"this coordinator 9\.9; install the same version"):
        cluster_mod.run_bundle((WorkUnit(PLAN, 0, 2),), other)


def test_a_unit_that_fails_names_its_worker_and_executions():
    bad = WorkUnit(resolve(RunSpec("mmput_race", strategy="dfs",
                                   params={"vmas": 2})), 5, 9, after="garbage")
    (got,) = cluster_mod.run_bundle((bad,), cluster_mod.identity())
    assert isinstance(got, WorkerError)
    assert re.match(r"^worker .* failed on executions 5\.\.8: ", str(got))


class FailingExecutor(InlineExecutor):
    """Runs two units, then every unit fails on a worker."""

    def __init__(self):
        self.n = 0

    def submit(self, unit):
        self.n += 1
        if self.n <= 2:
            return super().submit(unit)
        future = Future()
        future.set_exception(WorkerError("worker tcp://10.0.0.7:4000 (host lab7) "
                                         "failed on executions 32..47: boom"))
        return future


def test_a_failed_unit_ends_the_run_in_one_line_keeping_what_finished(tmp_path):
    with pytest.raises(CampaignError) as caught:
        start_run(PLAN, Budget(100), out=tmp_path, jobs=2, progress=NoProgress(),
                  interrupt=Interrupt(), executor_for=lambda p, j: FailingExecutor())
    assert str(caught.value) == ("worker tcp://10.0.0.7:4000 (host lab7) failed on "
                                 "executions 32..47: boom")
    (run_dir,) = tmp_path.iterdir()
    store = RunStore.open(run_dir)
    assert store.meta()["status"] == "failed"
    assert [r.idx for r in store.executions()] == list(range(32))
    store.close()
