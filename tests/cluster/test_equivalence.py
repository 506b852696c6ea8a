"""Same results everywhere: ``--jobs 1``, ``--jobs 2``, ``--scheduler local:2``
and a hand-started scheduler with two ``dask worker`` processes store the
same executions (seeds, steps, findings, benign counters) and the same
findings (counts, first executions, trace files, replay commands)."""

import pytest

from tests.cluster.runs import UAF, content, stress, summary, workers

FIRST = ("--scenario", "rcu_transitions", "--mutant", "mmput-clears-rcu-early",
         "--strategy", "pct")

CASES = {
    "keep-going": (*UAF, "--executions", "160"),
    "first-finding": (*FIRST, "--executions", "200"),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Each case run with ``--jobs 1``."""
    out = {}
    for name, argv in CASES.items():
        code, summary_, _ = stress(tmp_path_factory.mktemp(name), *argv, "--jobs", "1")
        out[name] = (code, summary_)
    return out


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("mode", ["jobs-2", "local-2", "hand-started"])
def test_every_executor_stores_what_one_process_stores(tmp_path, reference, cluster,
                                                       case, mode):
    executor = {"jobs-2": ("--jobs", "2"), "local-2": ("--scheduler", "local:2"),
                "hand-started": ("--scheduler", cluster.address)}[mode]
    code, got, err = stress(tmp_path, *CASES[case], *executor)
    ref_code, ref = reference[case]
    assert code == ref_code == 1, err
    assert summary(got) == summary(ref)
    assert content(got["run_dir"]) == content(ref["run_dir"])
    tallies = workers(got["run_dir"])
    assert sum(t["executions"] for t in tallies.values()) == got["executions"]
    if mode == "hand-started":
        assert set(tallies) <= set(cluster.wait_for_workers(2))


def test_a_run_started_here_resumes_on_the_cluster(tmp_path, reference, cluster):
    argv = CASES["keep-going"]
    code, first, _ = stress(tmp_path, *argv[:-2], "--executions", "48", "--jobs", "1")
    assert (code, first["executions"]) == (1, 48)
    code, done, err = stress(None, "--resume", first["run_dir"],
                             "--executions", "160", "--scheduler", cluster.address)
    assert code == 1, err
    assert done["session_executions"] == 112
    assert content(done["run_dir"]) == content(reference["keep-going"][1]["run_dir"])
