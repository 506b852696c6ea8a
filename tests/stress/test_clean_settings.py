"""stress/clean_settings.py: a state file lost with a machine starts again
from the table at a git revision, and only the executions after it run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stress import clean_runs, clean_settings
from stress.clean_settings import HEADING, SETTINGS, carried_rows, design_of

WALK = design_of(next(p for name, _, p, _ in SETTINGS if name == "read_kind=walk"))
COMMAND = ("Command: `python stress/clean_settings.py --executions 1000 --seed 0 "
           "--chunk 500 --jobs 1 --write` (mix).")


def section(*rows: str, command: str = COMMAND) -> str:
    """A BENCHMARKS.md holding this section with @rows."""
    return "\n".join([
        "# Benchmarks", "", HEADING, "", command, "", "- machine: `x`", "",
        "| setting | scenario | executions (indices 0..n-1 complete) "
        "| worker seconds | findings | kernel bug expected |",
        "|---|---|---|---|---|---|", *rows, "", "## Next section", "",
        "| read_kind=walk | rcu_transitions | 9 (9) | 1 | none | - |", ""])


def test_a_carried_table_gives_each_setting_one_record_over_its_complete_executions(
        ) -> None:
    rows = carried_rows(section(
        "| read_kind=walk | rcu_transitions | 1,000 (1,000) | 12 | none | - |",
        "| stack_expand 2023 guard_gap=false | stack_expand | 1,500 (1,500) | 3,456 "
        "| result-inconsistent (2), use-after-free (51) | StackRot |"), "abc123", 0)
    assert sorted(rows) == ["read_kind=walk", "stack_expand 2023 guard_gap=false"]
    walk = rows["read_kind=walk"]
    assert walk["key"] == f"rcu_transitions/{WALK}/0-1000"
    assert (walk["executions"], walk["seconds"], walk["findings"], walk["carried"]) == (
        1000, 12.0, [], "abc123")
    stackrot = rows["stack_expand 2023 guard_gap=false"]
    assert stackrot["key"] == "stack_expand/default+guard_gap=false/0-1500"
    assert [(f["kind"], f["count"]) for f in stackrot["findings"]] == [
        ("result-inconsistent", 2), ("use-after-free", 51)]
    assert clean_settings.findings_text(stackrot["findings"]) == (
        "result-inconsistent (2), use-after-free (51)")


def test_a_row_with_a_gap_in_its_executions_is_refused() -> None:
    with pytest.raises(ValueError, match="1,500 executions but only 1,000 complete"):
        carried_rows(section(
            "| read_kind=walk | rcu_transitions | 1,500 (1,000) | 12 | none | - |"),
            "abc123", 0)


def test_a_table_run_from_another_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="not run with --seed 3"):
        carried_rows(section(), "abc123", 3)


def test_a_text_without_the_section_is_refused() -> None:
    with pytest.raises(ValueError, match="no section"):
        carried_rows("# Benchmarks\n", "abc123", 0)


def test_only_the_chunks_after_a_carried_range_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    design = WALK
    path = tmp_path / "state.json"
    carried = carried_rows(section(
        "| read_kind=walk | rcu_transitions | 1,000 (1,000) | 12 | none | - |"),
        "abc123", 0)["read_kind=walk"]
    clean_runs.save_state(path, {carried["key"]: carried})
    handed: list[Any] = []

    def pool(_fn: object, tasks: list[Any], _jobs: int, _n: int) -> list[Any]:
        handed.extend(tasks)
        return []

    monkeypatch.setattr(clean_runs, "pool_results", pool)
    monkeypatch.setattr(clean_runs, "strategy_params",
                        lambda configs, *_: {f"{s}/{d}": {} for s, d in configs})
    args = argparse.Namespace(strategy="mix", seed=0, memory_model="sc",
                              executions=2000, chunk=500, jobs=1)
    clean_runs.run(args, [("rcu_transitions", design)], path)
    assert [t[0] for t in handed] == [("rcu_transitions", design, 1000, 1500),
                                      ("rcu_transitions", design, 1500, 2000)]


def test_the_table_says_which_executions_were_carried_and_sums_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    carried = carried_rows(section(
        "| read_kind=walk | rcu_transitions | 1,000 (1,000) | 12 | none | - |"),
        "abc123", 0)["read_kind=walk"]
    design = WALK
    ran = {"key": f"rcu_transitions/{design}/1000-1500", "executions": 500,
           "steps": 900, "seconds": 3.0, "findings": []}
    path = tmp_path / "state.json"
    clean_runs.save_state(path, {carried["key"]: carried, ran["key"]: ran})
    monkeypatch.setattr(clean_settings, "state_file", lambda _seed: path)
    chosen = [s for s in clean_settings.SETTINGS if s[0] == "read_kind=walk"]
    args = argparse.Namespace(executions=1500, seed=0, chunk=500, jobs=2)
    text = clean_settings.table(args, chosen, 60.0)
    assert "carried from this table at abc123" in text
    assert ("| read_kind=walk | rcu_transitions | 1,500 (1,500) | 15 | none | - |"
            in text)


def test_a_revision_without_the_table_is_one_line_and_exit_2() -> None:
    script = Path(__file__).resolve().parents[2] / "stress" / "clean_settings.py"
    done = subprocess.run([sys.executable, str(script), "--carry", "no-such-rev",
                           "--executions", "0"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "clean_settings: --carry no-such-rev: no reports/BENCHMARKS.md at that "
        "revision"]
