"""bench_campaign_speed measures what a campaign pays per execution: the
difference of a one-block run and a longer one, over the executions between.

The runs themselves take minutes; here ``timed()`` and ``counted()`` are
replaced by linear fakes, so what is checked is which runs are asked for
and how they are divided.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stress import bench_campaign_speed as bench

FIXED = 2.0
"""Seconds (or instructions) of start-up, calibration and the first block."""


def _fake(cost: dict[str, float], steps: dict[str, int], runs: list[tuple]):
    def run(tree, scenario, n, strategy):
        runs.append((tree.name, scenario, n, strategy))
        value = FIXED + (n - bench.BLOCK) * cost[tree.name]
        return {"cpu": value, "instructions": value, "executions": n,
                "steps": steps[tree.name] * n}
    return run


def test_timing_divides_the_longer_runs_extra_cost_by_its_extra_executions(monkeypatch):
    runs: list[tuple] = []
    monkeypatch.setattr(bench, "timed", _fake({"b": 0.004, "a": 0.002},
                                              {"b": 10, "a": 10}, runs))
    rows = bench.timing({"before": Path("/b"), "after": Path("/a")}, 2, "pct", 0.5)
    dup = next(r for r in rows if r.startswith("| dup_mmap"))
    assert dup.startswith("| dup_mmap | 250.0 | 500.0 | **2.00x** | yes (")
    # Every measurement is a one-block run and a run of whole blocks more.
    sizes = {n for _, _, n, _ in runs}
    assert bench.BLOCK in sizes
    assert all(n % bench.BLOCK == 0 for n in sizes)
    assert {s for *_, s in runs} == {"pct"}
    # Interleaved: the second repetition starts with the other tree.
    firsts = [t for t, scenario, n, _ in runs if scenario == "dup_mmap" and n == 16]
    assert firsts == ["b", "a", "a", "b"]


def test_counting_shows_when_the_trees_made_other_executions(monkeypatch):
    runs: list[tuple] = []
    monkeypatch.setattr(bench, "counted", _fake({"b": 3e7, "a": 2e7},
                                                {"b": 10, "a": 11}, runs))
    rows = bench.counting({"before": Path("/b"), "after": Path("/a")}, "mix")
    assert rows[0].startswith(
        "| dup_mmap (32 executions) | 30.0 M | 20.0 M | **1.50x** |")
    assert "| NO (" in rows[0]
    # --scale lengthens the counted window (whole blocks).
    runs.clear()
    rows = bench.counting({"before": Path("/b"), "after": Path("/a")}, "mix", 6)
    assert rows[0].startswith("| dup_mmap (192 executions) |")
    assert rows[2].startswith("| mmput_race (576 executions) |")
    assert {n for _, _, n, _ in runs} == {16, 16 + 192, 16 + 576}


def test_a_run_that_stopped_early_is_an_error_not_a_figure():
    with pytest.raises(SystemExit, match="stopped early"):
        bench.marginal({"executions": 16, "cpu": 1.0}, {"executions": 16, "cpu": 2.0},
                       "cpu")


def test_counted_runs_flush_the_store_by_executions_only(tmp_path):
    """Under callgrind a run is ~50x slower: its store must not flush every
    two seconds of wall time (the launch line switches that off), and the
    launch line must still run this tree's CLI."""
    import json
    import subprocess
    import sys

    root = Path(bench.__file__).resolve().parents[1]
    args = bench.argv(root, "mmput_race", bench.BLOCK, "pct", str(tmp_path),
                      by_executions=True)
    assert "FLUSH_SECONDS = float('inf')" in args[1]
    assert "FLUSH_SECONDS" not in bench.argv(root, "mmput_race", 16, "pct",
                                             str(tmp_path))[1]
    probe = args[1].replace("runpy.run_module('rcu_harness', run_name='__main__')",
                            "print(c.FLUSH_SECONDS); "
                            "runpy.run_module('rcu_harness', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", probe, *args[2:]], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    first, rest = out.split("\n", 1)
    assert first == "inf"
    assert json.loads(rest)["executions"] == bench.BLOCK
