"""Bundles: a cluster task runs several consecutive units (``BUNDLE``), and
each unit still comes back on its own: its result, or its own error naming
the unit, beside the others' results; a time budget ends a bundle's later
units, and a bundle that waited in a worker's queue, at the budget's end,
not one unit's budget later.  (Same records as one process with bundles:
tests/cluster/test_equivalence.py, whose runs use the default bundles;
resubmission and loss of a bundle: tests/cluster/test_failures.py.)"""

import uuid

import pytest

from rcu_harness.campaign import cluster as cluster_mod
from rcu_harness.campaign.executor import WorkerError
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import resolve
from rcu_harness.campaign.worker import WorkUnit, run_unit
from tests.cluster.runs import stress, workers

pytestmark = pytest.mark.timeout(300)

PLAN = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))
BAD = WorkUnit(resolve(RunSpec("mmput_race", strategy="dfs", params={"vmas": 2})),
               5, 9, after="garbage")
"""A unit that fails on any worker (its schedule to resume from is garbage)."""
SLOW = resolve(RunSpec("rcu_transitions", strategy="random", params={"vmas": 64}))
"""About 10 ms an execution (160 ms a unit) on the project's VM."""


def _records(result):
    return [(r.idx, r.seed, r.steps, r.signature, r.counters)
            for r in result.executions]


def _check_failing_bundle(got, units):
    assert len(got) == 3
    assert isinstance(got[1], WorkerError)
    assert str(got[1]).startswith("worker ")
    assert " failed on executions 5..8: " in str(got[1])
    for k in (0, 2):
        assert _records(got[k]) == _records(run_unit(units[k]))


def test_a_failing_unit_keeps_the_other_units_of_its_bundle():
    units = (WorkUnit(PLAN, 0, 2), BAD, WorkUnit(PLAN, 2, 4))
    _check_failing_bundle(cluster_mod.run_bundle(units, cluster_mod.identity()),
                          units)


def test_a_bundle_of_a_worker_of_another_version_fails_whole():
    other = cluster_mod.identity().__class__("9.9", "x", "lab7")
    with pytest.raises(WorkerError, match=r"runs rcu-harness 0\.1\.0, this "
                       r"coordinator 9\.9"):
        cluster_mod.run_bundle((WorkUnit(PLAN, 0, 2),), other)


def test_a_bundles_later_units_get_no_time_of_their_own():
    """Each unit carries the budget left at hand-out (0.05 s): the first
    unit uses it up, so the later ones start nothing; a bundle of the same
    run that waited in the queue gets nothing either, whatever it carries."""
    run = f"test-{uuid.uuid4().hex}"
    units = tuple(WorkUnit(SLOW, 16 * k, 16 * k + 16, run=run, seconds=0.05)
                  for k in range(3))
    first, *later = cluster_mod.run_bundle(units, cluster_mod.identity())
    assert 1 <= len(first.executions) < 16
    assert [len(r.executions) for r in later] == [0, 0]
    queued = (WorkUnit(SLOW, 48, 64, run=run, seconds=60.0),)
    (waited,) = cluster_mod.run_bundle(queued, cluster_mod.identity())
    assert waited.executions == ()
    (other_run,) = cluster_mod.run_bundle(
        (WorkUnit(SLOW, 48, 50, run=f"{run}-2", seconds=60.0),),
        cluster_mod.identity())
    assert len(other_run.executions) == 2


def test_a_failing_unit_in_a_bundle_on_the_cluster_keeps_the_others(cluster):
    with cluster_mod.Cluster(cluster.address) as c:
        executor = c.executor(PLAN, None)
        assert executor.bundle == cluster_mod.BUNDLE
        assert executor.inflight == 2 * cluster_mod.BUNDLE * 2
        units = (WorkUnit(PLAN, 0, 2), BAD, WorkUnit(PLAN, 2, 4))
        futures = executor.submit_many(units)
        got = [f.exception(timeout=120) or f.result() for f in futures]
        executor.shutdown(cancel=True)
    _check_failing_bundle(got, units)
    assert got[0].worker == got[2].worker, "one task ran the bundle"


def test_a_time_budget_ends_bundles_within_an_execution_per_worker(tmp_path,
                                                                   cluster):
    """Units of about 1 s (55 ms an execution), bundles of 4 and two per
    worker in flight: 8 s of work per worker handed out at once, and a 2 s
    budget.  Each worker is busy for the budget plus at most its last
    execution (and the first execution's setup), not a unit or a bundle
    more."""
    budget = 2
    code, out, err = stress(tmp_path, "--scenario", "rcu_transitions", "--set",
                            "vmas=400", "--strategy", "random", "--executions",
                            "100000", "--time", budget, "--scheduler",
                            cluster.address)
    assert code == 0, err
    assert out["stopped"] == "time"
    tallies = workers(out["run_dir"])
    assert len(tallies) == 2
    slowest = 0.0
    for name, t in tallies.items():
        assert t["executions"] > 0
        per = t["seconds"] / t["executions"]
        slowest = max(slowest, per)
        assert t["seconds"] <= budget + per + 1.0, (name, t)
    # and the coordinator had every result soon after (the fetches, a commit)
    assert out["wall_seconds"] <= budget + 2 * slowest + 2.5, out["wall_seconds"]
