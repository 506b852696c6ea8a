"""bench_speedup's callgrind mode counts enough executions of each scenario.

The instruction counts themselves need valgrind and minutes (the mode's
own runs); here ``instructions()`` is replaced by a linear fake, so what is
checked is which runs the mode asks for and how it divides them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stress import bench_speedup

PER_EXECUTION = {"dup_mmap": 26_000_000, "rcu_transitions": 32_000_000,
                 "mmput_race": 7_000_000}
FIXED = 900_000_000
"""Start-up and exit instructions of a probe run (the fake's intercept)."""


def test_mmput_race_counts_thirty_executions_against_the_collector(monkeypatch):
    runs = []

    def fake(tree, scenario, n, strategy="mix"):
        runs.append((tree.name, scenario, n))
        return (FIXED + n * PER_EXECUTION[scenario], 14_000.0, 4_400.0,
                n * PER_EXECUTION[scenario], f"digest-{n}")

    monkeypatch.setattr(bench_speedup, "instructions", fake)
    rows = bench_speedup.counting({"before": Path("/b"), "after": Path("/a")}, 4)
    longer = {(tree, scenario): n for tree, scenario, n in runs if n > 1}
    assert longer == {("b", "dup_mmap"): 5, ("a", "dup_mmap"): 5,
                      ("b", "rcu_transitions"): 5, ("a", "rcu_transitions"): 5,
                      ("b", "mmput_race"): 30, ("a", "mmput_race"): 30}
    assert sorted(n for _, _, n in runs).count(1) == 6  # each with its run of 1
    # The difference is divided by the executions between the two runs.
    mmput = next(r for r in rows if r.startswith("| mmput_race"))
    assert mmput.startswith("| mmput_race (30 executions) | 7.0 M | 7.0 M | **1.00x**")
    assert mmput.endswith("| yes |")


def test_the_counted_executions_speed_up_and_differing_schedules_show(monkeypatch):
    """The speed-up on the longer run's executions alone is before's over
    after's; a tree whose runs made other schedules gets a NO."""

    def fake(tree, scenario, n, strategy="mix"):
        cost = PER_EXECUTION[scenario] * (1.0 if tree.name == "b" else 0.8)
        digest = "d" if tree.name == "b" or scenario != "rcu_transitions" else "e"
        return int(FIXED + n * cost), 14_000.0, 4_400.0, int(n * cost), f"{digest}{n}"

    monkeypatch.setattr(bench_speedup, "instructions", fake)
    rows = bench_speedup.counting({"before": Path("/b"), "after": Path("/a")}, 4)
    dup, rcu, _ = rows
    assert "| **1.25x** | **1.250x** |" in dup
    assert dup.endswith("| yes |")
    assert rcu.endswith("| NO |")


def test_a_larger_k_counts_more_than_the_minimum():
    assert bench_speedup.counted("mmput_race", 40) == 41
    assert bench_speedup.counted("dup_mmap", 4) == 5


def _events(ir: int, misses: int) -> dict[str, int]:
    """A part's events: @ir instructions, @misses first-level data misses."""
    return {"Ir": ir, "I1mr": 0, "D1mr": misses, "D1mw": 0, "ILmr": 0,
            "DLmr": 0, "DLmw": 0, "Bc": 0, "Bcm": 0, "Bi": 0, "Bim": 0}


def test_cycles_mode_reports_instructions_and_estimated_cycles_apart(monkeypatch):
    """Fewer instructions with more stalls per instruction: the instructions'
    speed-up is larger than the estimated cycles', and a point's ratio to the
    bare round trip is given both ways."""
    runs = []

    def fake(tree, scenario, n, strategy="mix"):
        runs.append((tree.name, scenario, n))
        if tree.name == "b":  # 4x the instructions, 1 miss per 100
            executions = _events(n * 40_000_000, n * 400_000)
        else:  # 1 miss per 20: each instruction stalls more
            executions = _events(n * 10_000_000, n * 500_000)
        bare = _events(20_000 * 4_000, 0)
        return executions, bare, n * 1_000, f"digest-{scenario}"

    monkeypatch.setattr(bench_speedup, "simulated", fake)
    rows = bench_speedup.cycling({"before": Path("/b"), "after": Path("/a")}, 8)
    assert sorted(runs) == sorted(
        (tree, scenario, 30 if scenario == "mmput_race" else 9)
        for tree in "ba" for scenario in bench_speedup.SCENARIOS)
    dup = rows[0].split(" | ")
    # instructions 40 M -> 10 M: 4x; cycles 44 M -> 15 M: 2.93x
    assert dup[1:4] == ["40.0 M", "10.0 M", "**4.00x**"]
    assert dup[4:7] == ["44.0 M (1.10)", "15.0 M (1.50)", "**2.93x**"]
    # after: 10,000 instructions a point, 15,000 estimated cycles, bare 4,000
    assert dup[8] == "2.50x (3.75x)"
    assert rows[0].endswith("| yes |")


def test_cycles_mode_says_no_when_the_trees_made_other_schedules(monkeypatch):
    def fake(tree, scenario, n, strategy="mix"):
        return (_events(n, 0), _events(20_000, 0), n,
                f"{tree.name}-{scenario}" if scenario == "mmput_race" else "same")

    monkeypatch.setattr(bench_speedup, "simulated", fake)
    rows = bench_speedup.cycling({"before": Path("/b"), "after": Path("/a")}, 8)
    assert [row.endswith("| yes |") for row in rows] == [True, True, False]


def test_a_negative_count_is_a_usage_error_not_a_traceback():
    script = Path(bench_speedup.__file__)
    done = subprocess.run([sys.executable, str(script), "--cycles", "-2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        "--callgrind and --cycles take a count of executions >= 0")
