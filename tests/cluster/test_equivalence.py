"""Same results everywhere: ``--jobs 1``, ``--jobs 2``, ``--scheduler local:2``
and a hand-started scheduler with two ``dask worker`` processes store the
same executions (seeds, steps, findings, benign counters) and the same
findings (counts, first executions, trace files, replay commands), for a
run that collects every finding and one that stops at its first; and a user's
``--program``, which the workers import by name."""

import pytest

from tests.cluster.runs import UAF, content, stress, summary, workers

pytestmark = pytest.mark.timeout(300)

JOB = """\
name = "equivalence"

[[run]]
scenario = "rcu_transitions"
mutant = "free-without-grace-period"
strategy = "random"
executions = 160
keep_going = true
params = { vmas = 4 }

[[run]]
scenario = "rcu_transitions"
mutant = "mmput-clears-rcu-early"
strategy = "pct"
executions = 200
"""


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    path = tmp_path_factory.mktemp("job") / "equivalence.toml"
    path.write_text(JOB)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory, job):
    """The job run with ``--jobs 1``."""
    code, out, err = stress(tmp_path_factory.mktemp("ref"), job, "--jobs", "1")
    assert code == 1, err
    return out["runs"]


@pytest.mark.parametrize("mode", ["jobs-2", "local-2", "hand-started"])
def test_every_executor_stores_what_one_process_stores(tmp_path, job, reference,
                                                       cluster, mode):
    executor = {"jobs-2": ("--jobs", "2"), "local-2": ("--scheduler", "local:2"),
                "hand-started": ("--scheduler", cluster.address)}[mode]
    code, got, err = stress(tmp_path, job, *executor)
    assert code == 1, err
    assert [r["stopped"] for r in got["runs"]] == ["executions", "finding"]
    for run, ref in zip(got["runs"], reference, strict=True):
        assert summary(run) == summary(ref)
        assert content(run["run_dir"]) == content(ref["run_dir"])
        tallies = workers(run["run_dir"])
        assert sum(t["executions"] for t in tallies.values()) == run["executions"]
        if mode == "hand-started":
            assert set(tallies) <= set(cluster.wait_for_workers(2))


def test_a_run_started_here_resumes_on_the_cluster(tmp_path, reference, cluster):
    code, first, _ = stress(tmp_path, *UAF, "--executions", "48", "--jobs", "1")
    assert (code, first["executions"]) == (1, 48)
    code, done, err = stress(None, "--resume", first["run_dir"],
                             "--executions", "160", "--scheduler", cluster.address)
    assert code == 1, err
    assert done["session_executions"] == 112
    assert content(done["run_dir"]) == content(reference[0]["run_dir"])


PROGRAM = ("--program", "tests.programs.sessions:program", "--seed", "0",
           "--executions", "60", "--keep-going")
"""A user's program (docs/python-api.md): the workers import it by name (seed
0: the default strategy finds its planted bug from execution 3; seed 1, the
document's, first at 70)."""


@pytest.mark.parametrize("mode", ["local-2", "hand-started"])
def test_a_program_on_a_cluster_stores_what_one_process_stores(tmp_path, cluster,
                                                               mode):
    code, ref, err = stress(tmp_path / "one", *PROGRAM, "--jobs", "1")
    assert code == 1, err
    address = {"local-2": "local:2", "hand-started": cluster.address}[mode]
    code, got, err = stress(tmp_path / "cluster", *PROGRAM, "--scheduler", address)
    assert code == 1, err
    assert [f["kind"] for f in got["findings"]] == ["use-after-free"]
    assert summary(got) == summary(ref)
    assert content(got["run_dir"]) == content(ref["run_dir"])
    tallies = workers(got["run_dir"])
    assert sum(t["executions"] for t in tallies.values()) == 60
    if mode == "hand-started":
        assert set(tallies) <= set(cluster.wait_for_workers(2))
