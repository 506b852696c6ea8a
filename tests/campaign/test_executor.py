"""Local worker processes give exactly what the coordinating process would."""

from rcu_harness.campaign.executor import (
    InlineExecutor,
    ProcessExecutor,
    make_executor,
    start_method,
)
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import resolve
from rcu_harness.campaign.worker import WorkUnit

UAF = RunSpec("rcu_transitions", strategy="pct", mutant="free-without-grace-period",
              keep_going=True)


def _comparable(result):
    rows = [(e.idx, e.seed, e.steps, e.signature, e.counters, sorted(e.samples))
            for e in result.executions]
    return rows, [(d.finding, d.events_digest) for d in result.findings]


def test_worker_processes_return_what_an_inline_run_returns():
    plan = resolve(UAF)
    units = [WorkUnit(plan, 0, 6), WorkUnit(plan, 6, 12)]
    pool = ProcessExecutor(2)
    try:
        remote = [pool.submit(u) for u in units]
        remote_results = [f.result(timeout=60) for f in remote]
    finally:
        pool.shutdown(cancel=False)
    local = [InlineExecutor().submit(u).result() for u in units]
    assert [_comparable(r) for r in remote_results] == [_comparable(r) for r in local]
    assert any(r.findings for r in local)


def test_jobs_choose_the_executor():
    assert isinstance(make_executor(1), InlineExecutor)
    pool = make_executor(2)
    assert isinstance(pool, ProcessExecutor)
    assert (pool.workers, pool.method) == (2, start_method())
    pool.shutdown(cancel=True)


def test_a_failing_unit_is_delivered_as_the_future_s_exception():
    plan = resolve(RunSpec("mmput_race", strategy="dfs", params={"vmas": 3}))
    bad = WorkUnit(plan, 5, 6, after="not-a-schedule")
    future = InlineExecutor().submit(bad)
    assert future.exception() is not None


def test_a_killed_but_unreaped_process_is_not_alive():
    import subprocess
    import sys

    from rcu_harness.campaign.executor import alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert alive(child.pid)
        child.kill()
        for _ in range(100):
            if not alive(child.pid):
                break
            import time
            time.sleep(0.05)
        assert not alive(child.pid), "a zombie counts as dead"
    finally:
        child.kill()
        child.wait()
    assert not alive(child.pid)
