"""The scoreboard's mutants table (``stress/scoreboard.py --mutants-md``):
the default strategy's column beside mix, pct and random; a named
portfolio's outcomes read under the name or under the long portfolio
spelling older boards recorded (aimed-class has none: its turns depend on
the program's class; aimed-conflict, the default before aimed-data, is
aimed-class with ``aim=conflict``, as its deciding run recorded it)."""

from __future__ import annotations

import argparse

import pytest

from rcu_harness.campaign.jobs import DEFAULT_STRATEGY
from rcu_harness.scenarios import MUTANTS
from stress.scoreboard import (
    SPELLINGS,
    Attempt,
    Outcome,
    mutants_md,
    outcome,
    parse,
    plan,
)

MUTANT = "vma-reuse-skips-mm-check"
LONG = ("portfolio:members=pct+random-sync+pct-site+surw+pct-site+pct-relay;"
        "points=field;sync_points=access;reads=oldest;fallback=pct;"
        "stall_in=rcu-or-any")


def _attempts(seeds):
    args = argparse.Namespace(seeds=seeds, modes=[DEFAULT_STRATEGY, "mix", "pct",
                                                   "random"],
                              max_executions=10_000, max_seconds=600.0,
                              sc_executions=0, threaded_seeds=0,
                              threaded_seconds=0.0)
    return plan(args, [MUTANT])


def _found(a, mode, executions):
    key = Attempt(a.mutant, mode, a.seed, a.max_executions, a.max_seconds).key()
    return Outcome(key, a.mutant, mode, a.seed, executions > 0, executions, 1.0,
                   kind="vma-lock" if executions > 0 else "", stop="")


def test_aimed_rcu_is_its_long_portfolio_spelling_and_aimed_class_has_none():
    assert SPELLINGS["aimed-rcu"] == LONG
    assert "aimed-class" not in SPELLINGS


def test_aimed_conflicts_outcome_is_found_under_aimed_class_with_its_aim():
    assert SPELLINGS["aimed-conflict"] == "aimed-class:aim=conflict"
    assert DEFAULT_STRATEGY not in SPELLINGS
    a = Attempt(MUTANT, "aimed-conflict", 3, 10_000, 600.0)
    recorded = _found(a, "aimed-class:aim=conflict", 7)
    assert outcome({recorded.key: recorded}, a) is recorded
    site = Attempt(MUTANT, "aimed-class", 3, 10_000, 600.0)
    assert outcome({recorded.key: recorded}, site) is None


def test_a_named_portfolios_outcome_is_found_under_its_long_spelling():
    a = Attempt(MUTANT, "aimed-rcu", 3, 10_000, 600.0)
    recorded = _found(a, LONG, 44)
    assert outcome({recorded.key: recorded}, a) is recorded
    mix = Attempt(MUTANT, "mix", 3, 10_000, 600.0)
    assert outcome({recorded.key: recorded}, mix) is None
    default = Attempt(MUTANT, DEFAULT_STRATEGY, 3, 10_000, 600.0)
    assert outcome({recorded.key: recorded}, default) is None
    aimed_class = Attempt(MUTANT, "aimed-class", 3, 10_000, 600.0)
    assert outcome({recorded.key: recorded}, aimed_class) is None


def test_the_mutants_table_has_the_defaults_medians_column():
    attempts = _attempts(3)
    results = {}
    for a in attempts:
        mode = a.mode
        executions = {DEFAULT_STRATEGY: 40 + a.seed, "mix": 200 + a.seed,
                      "pct": 100, "random": 0}[a.mode]
        if a.mode == "random" and a.seed == 2:
            continue  # not run yet
        o = _found(a, mode, executions)
        results[o.key] = o
    text = mutants_md(results, attempts)
    head = next(line for line in text.splitlines() if line.startswith("| mutant"))
    assert head.endswith(f"median executions to find: {DEFAULT_STRATEGY} (default) "
                         "| mix | pct | random |")
    row = next(line for line in text.splitlines()
               if line.startswith(f"| `{MUTANT}`"))
    assert row.endswith("| 41 (3/3 seeds) | 201 (3/3 seeds) | 100 (3/3 seeds) "
                        "| not found (0/2 seeds) |")
    assert "per-VMA lock checker (`vma-lock`, 9/11)" in row
    assert "base seeds 0..2" in text
    assert "caps 10,000 executions or 600 s" in text
    # every other mutant has a row, with no outcome yet
    assert sum(line.startswith("| `") for line in text.splitlines()) == len(MUTANTS)


def test_the_mutants_table_without_any_of_its_modes_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as info:
        parse(["--mutants-md", "--no-run", "--modes", "dfs,surw"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("--modes names none of them")
    assert parse(["--mutants-md", "--modes", "dfs,pct"]).modes == ["dfs", "pct"]
