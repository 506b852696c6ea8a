"""``--jobs 1`` and ``--jobs 2`` find the same: same signatures, same first
execution per signature, same counts, same stored executions, same traces."""

import sqlite3
from pathlib import Path

import pytest

from tests.cli.helpers import stress_json

UAF = ("--scenario", "rcu_transitions", "--mutant", "free-without-grace-period")


def _stored(run_dir):
    con = sqlite3.connect(Path(run_dir) / "run.sqlite")
    rows = con.execute("SELECT idx, seed, steps, finding, counters FROM executions "
                       "ORDER BY idx").fetchall()
    con.close()
    return rows


def _findings(out):
    return [(f["signature"], f["kind"], f["first_execution"], f["count"],
             f["replay"], Path(f["trace"]).read_bytes()) for f in out["findings"]]


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    (*UAF, "--strategy", "random", "--executions", "64", "--keep-going"),
    (*UAF, "--strategy", "pct", "--executions", "64", "--keep-going"),
    ("--scenario", "rcu_transitions", "--mutant", "mmput-clears-rcu-early",
     "--strategy", "pct", "--executions", "200"),
    ("--scenario", "mmput_race", "--set", "vmas=3", "--strategy", "dfs",
     "--executions", "150"),
    ("--scenario", "rcu_transitions", "--mutant", "publish-before-fill",
     "--strategy", "pos", "--executions", "40", "--keep-going"),
    ("--scenario", "rcu_transitions", "--mutant", "in-place-write-in-rcu",
     "--strategy", "surw", "--executions", "40", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "rff", "--seed", "4",
     "--executions", "48", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "pct-sync",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-skips-seq-recheck", "--strategy", "random-sync",
     "--executions", "24", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "aimed",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "aimed-surw",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "aimed-site",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-skips-seq-recheck", "--strategy", "pct-relay",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--strategy", "aimed-relay",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-refcount-relaxed", "--strategy", "aimed-stale",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-refcount-relaxed", "--strategy", "aimed-pct",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-refcount-relaxed", "--strategy", "aimed-rcu",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-refcount-relaxed", "--strategy", "aimed-class",
     "--executions", "40", "--keep-going"),
    ("--mutant", "vma-start-read-refcount-relaxed", "--executions", "40",
     "--keep-going"),
    ("--mutant", "maps-skips-gap-check", "--executions", "24", "--keep-going"),
    ("--mutant", "dead-mark-no-wmb", "--executions", "24", "--keep-going"),
    ("--mutant", "vma-used-after-rcu-unlock", "--executions", "40", "--keep-going"),
    ("--mutant", "destroy-frees-at-once", "--executions", "40", "--keep-going"),
    ("--mutant", "fault-skips-vma-recheck", "--executions", "24", "--keep-going"),
    ("--mutant", "fault-skips-vma-recheck", "--strategy", "aimed-conflict",
     "--executions", "24", "--keep-going"),
], ids=["random-keep-going", "pct-keep-going", "pct-first-finding", "dfs",
        "pos-keep-going", "surw-keep-going", "rff-keep-going",
        "pct-sync-keep-going", "random-sync-keep-going", "aimed-keep-going",
        "aimed-surw-keep-going", "aimed-site-keep-going", "pct-relay-keep-going",
        "aimed-relay-keep-going", "aimed-stale-lkmm-keep-going",
        "aimed-pct-lkmm-keep-going", "aimed-rcu-readers-sites-lkmm-keep-going",
        "aimed-class-readers-lkmm-keep-going",
        "aimed-data-default-readers-lkmm-keep-going",
        "aimed-data-default-readers-maps-acts-conflicts-keep-going",
        "aimed-data-default-weak-keep-going",
        "aimed-data-default-other-one-reader-site-keep-going",
        "aimed-data-default-other-below-two-sites-keep-going",
        "aimed-data-default-other-data-keep-going",
        "aimed-conflict-by-name-other-keep-going"])
def test_one_and_two_jobs_give_identical_results(capsys, tmp_path, argv):
    one = stress_json(capsys, tmp_path / "1", *argv, "--jobs", "1")
    two = stress_json(capsys, tmp_path / "2", *argv, "--jobs", "2")
    assert one[0] == two[0]
    a, b = one[1], two[1]
    assert (a["executions"], a["steps"], a["counters"], a["stopped"]) == (
        b["executions"], b["steps"], b["counters"], b["stopped"])
    assert _findings(a) == _findings(b)
    assert _stored(a["run_dir"]) == _stored(b["run_dir"])
    assert bool(a["findings"]) == ("mutant" in " ".join(argv))
