"""stress/search_board.py: the table over the mutants asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from stress.scoreboard import SPELLINGS, Outcome
from stress.search_board import board

CAP = "|100|20"
ROOT = Path(__file__).resolve().parents[2]


def outcome(mutant: str, mode: str, seed: int, found: bool, executions: int) -> Outcome:
    key = f"{mutant}|{mode}|{seed}{CAP}"
    return Outcome(key, mutant, mode, seed, found, executions, 0.1)


RESULTS = {o.key: o for o in (
    outcome("fast", "a", 0, True, 2), outcome("fast", "a", 1, True, 4),
    outcome("slow", "a", 0, True, 90), outcome("slow", "a", 1, False, 100),
    outcome("slow", "a", 2, True, 50),
)}


def test_board_shows_every_mutant_over_the_seeds_all_completed() -> None:
    rows = board(RESULTS, ["a"], CAP)
    assert rows[0].startswith("Seeds 0, 1 (")
    assert "| fast | 2/2: 3 |" in rows
    assert "| slow | 1/2: not found |" in rows
    assert rows[-1] == "| **slowest mutant (median)** | not found (slow) |"


def test_board_over_some_mutants_takes_their_seeds_and_slowest() -> None:
    rows = board(RESULTS, ["a"], CAP, {"fast"})
    assert rows[0].startswith("Seeds 0, 1 (")
    assert not any(r.startswith("| slow |") for r in rows)
    assert rows[-1] == "| **slowest mutant (median)** | 3 (fast) |"
    only_slow = board(RESULTS, ["a"], CAP, {"slow"})
    assert only_slow[0].startswith("Seeds 0, 1, 2 (")
    assert "| slow | 2/3: 90 |" in only_slow


def test_board_reads_a_named_portfolio_under_its_long_spelling_too() -> None:
    long = SPELLINGS["aimed-stale"]
    named = {**RESULTS, **{o.key: o for o in (
        outcome("fast", long, 0, True, 5), outcome("fast", "aimed-stale", 1, True, 7))}}
    rows = board(named, ["a", "aimed-stale"], CAP, {"fast"})
    assert rows[0].startswith("Seeds 0, 1 (")
    assert "| fast | 2/2: 3 | 2/2: 6 |" in rows
    assert rows[-1] == "| **slowest mutant (median)** | 3 (fast) | 6 (fast) |"
    assert "| fast | 1/1: 5 |" in board(named, [long], CAP, {"fast"})


def test_asking_for_a_mutant_the_results_lack_is_a_one_line_error(tmp_path) -> None:
    results = tmp_path / "board.jsonl"
    results.write_text("".join(json.dumps(asdict(o)) + "\n" for o in RESULTS.values()))
    proc = subprocess.run([sys.executable, str(ROOT / "stress" / "search_board.py"),
                           "--results", str(results), "--mutants", "fast,nope"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"search_board: no outcomes of nope in {results}"


def test_board_reads_os_thread_attempts_under_their_own_cap() -> None:
    threads = Outcome("fast|threads|0|0|60", "fast", "threads", 0, True, 7, 1.5)
    both = {**RESULTS, threads.key: threads}
    rows = board(both, ["a", "threads"], CAP, {"fast"}, "|0|60")
    assert rows[0].startswith("Seeds 0 (")
    assert "| fast | 1/1: 2 | 1/1: 7 |" in rows
    without = board(both, ["threads"], CAP, {"fast"})
    assert not any(r.startswith("| fast |") for r in without)


def test_a_board_with_os_threads_says_their_executions_are_not_the_seeds(
        tmp_path) -> None:
    threads = Outcome("fast|threads|0|0|60", "fast", "threads", 0, True, 7, 1.5)
    results = tmp_path / "board.jsonl"
    results.write_text(json.dumps(asdict(threads)) + "\n")
    proc = subprocess.run([sys.executable, str(ROOT / "stress" / "search_board.py"),
                           "--results", str(results), "--modes", "threads",
                           "--max-seconds", "60"],
                          capture_output=True, text=True, check=True, timeout=60)
    assert "| fast | 1/1: 7 |" in proc.stdout
    assert "depend on the machine's timing, not on the seed" in proc.stdout
