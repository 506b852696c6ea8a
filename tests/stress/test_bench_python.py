"""bench_python runs each scenario under every interpreter, alternating, and
compares them with the first; an interpreter it cannot use is a one-line
error.

The probe runs themselves take the interpreters' time (and valgrind's);
here ``probe()`` and ``instructions()`` are replaced by fakes, so what is
checked is which runs the benchmark asks for and how it reports them.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

from stress import bench_python
from stress.bench_python import Interpreter

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "stress" / "bench_python.py"
RATE = {"/py/a": 100.0, "/py/b": 125.0}
"""The fakes' executions per CPU second per interpreter."""


def _two() -> list[Interpreter]:
    return [Interpreter("/py/a", "3.11.7", "3.5.6"),
            Interpreter("/py/b", "3.12.1", "3.5.6")]


def test_interpreters_alternate_and_rates_compare_with_the_first(monkeypatch):
    calls = []

    def fake(python, scenario, n, bare):
        calls.append((python, scenario))
        assert bare
        digest = "e" if python == "/py/b" and scenario == "mmput_race" else "d"
        return {"n": n, "cpu": n / RATE[python], "steps": 1000 * n,
                "schedules": digest, "bare": 5e-7}

    monkeypatch.setattr(bench_python, "probe", fake)
    rows, notes = bench_python.timing(_two(), 2, 1.0)
    first = [p for p, s in calls if s == "dup_mmap"]
    assert first == ["/py/a", "/py/b", "/py/b", "/py/a"]  # reversed each rep
    dup, rcu, mmput = rows
    assert dup.startswith("| dup_mmap | 100.0 | 125.0 (**1.25x**) |")
    # CPU per point over the same process's bare round trip
    assert "| 10.00 (20.0x) | 8.00 (16.0x) |" in dup
    assert dup.endswith("| yes |")
    assert rcu.endswith("| yes |")
    assert mmput.endswith("| NO (3.11.7: d, 3.12.1: e) |")
    assert notes == ["3.11.7 0.500 us", "3.12.1 0.500 us"]


def test_callgrind_mode_counts_per_interpreter(monkeypatch):
    runs = []
    cost = {"/py/a": 10_000_000, "/py/b": 8_000_000}

    def fake(python, scenario, n):
        runs.append((python, scenario, n))
        return (900_000_000 + n * cost[python], 14_000.0, 4_000.0,
                n * cost[python], f"digest-{n}")

    monkeypatch.setattr(bench_python, "instructions", fake)
    rows = bench_python.counting(_two(), 4)
    longer = {(p, s): n for p, s, n in runs if n > 1}
    assert longer == {("/py/a", "dup_mmap"): 5, ("/py/b", "dup_mmap"): 5,
                      ("/py/a", "rcu_transitions"): 5,
                      ("/py/b", "rcu_transitions"): 5,
                      ("/py/a", "mmput_race"): 30, ("/py/b", "mmput_race"): 30}
    assert [n for _, _, n in runs].count(1) == 6
    mmput = rows[2]
    assert mmput.startswith("| mmput_race (30 executions) | 10.0 M | "
                            "8.0 M (**1.25x**) | **1.250x** |")
    assert "14,000 / 4,000 = **3.50x**" in mmput
    assert mmput.endswith("| yes |")


def test_the_header_names_each_interpreter():
    header, rule = bench_python._header(_two(), False)
    assert header == ("| scenario | 3.11.7 ex/s | 3.12.1 ex/s (x 3.11.7) | "
                      "3.11.7 us per point (x bare) | 3.12.1 us per point "
                      "(x bare) | same schedules |")
    assert rule == "|---|---|---|---|---|---|"


def test_this_interpreter_is_checked_and_labelled():
    it = bench_python.interpreter(sys.executable)
    assert it.version == platform.python_version()
    same = bench_python.interpreters([sys.executable, sys.executable])
    assert [i.label for i in same] == [it.version, f"{it.version} #2"]


def test_an_interpreter_without_a_module_is_a_one_line_error(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n"
                    "echo \"ModuleNotFoundError: No module named 'greenlet'\" >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    for path, message in ((fake, "No module named 'greenlet'"),
                          (tmp_path / "missing", "cannot run")):
        proc = subprocess.run([sys.executable, str(SCRIPT), "--python", str(path)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert message in proc.stderr
        assert "Traceback" not in proc.stderr
