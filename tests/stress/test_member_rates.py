"""stress/member_rates.py: a mode's chance per execution, and the same with
a finding's own program data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runner import harness
from stress import member_rates
from stress.member_rates import _executions, fixed_draws, parse_mode, rate

if TYPE_CHECKING:
    import pytest

MUTANT = "root-entry-any-index"
"""Found by surw in most executions, whose readers draw their windows."""


def test_a_mode_is_a_strategy_with_its_parameters() -> None:
    assert parse_mode("pct") == ("pct", {})
    assert parse_mode("portfolio:members=pct+surw;depth=2") == (
        "portfolio", {"members": "pct,surw", "depth": 2})


def test_rate_counts_every_execution_that_ends_in_a_finding() -> None:
    line = rate(MUTANT, "surw", 6, 0)
    assert line["executions"] == 6
    assert 1 <= line["found"] < 6
    assert line["rate"] == line["found"] / 6
    assert rate(MUTANT, "surw", 6, 0)["found"] == line["found"]


def test_a_fixed_draw_is_given_instead_of_the_strategys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.Harness, "random", member_rates._draw)
    free = _executions(MUTANT, "pct", 0, 3)
    thread, bound, value = free[0][1][0]
    other = (value + 1) % bound
    monkeypatch.setitem(member_rates._FIXED, (thread, 0), (bound, other))
    for _, draws in _executions(MUTANT, "pct", 0, 3):
        assert next(d for d in draws if d[0] == thread) == (thread, bound, other)
    monkeypatch.setitem(member_rates._FIXED, (thread, 0), (bound + 1, other))
    assert _executions(MUTANT, "pct", 0, 3)[0][1][0] == (thread, bound, value)


def test_fixed_draws_run_every_mode_per_finding_and_restore_the_harness() -> None:
    original = harness.Harness.random
    lines = fixed_draws(MUTANT, "surw", ["surw", "pct"], findings=2, n=3,
                        search=10, seed=0)
    assert harness.Harness.random is original
    assert not member_rates._FIXED
    assert [(line["finding"], line["mode"]) for line in lines] == [
        (0, "surw"), (0, "pct"), (1, "surw"), (1, "pct")]
    assert all(line["draws"] > 0 and 0 <= line["found"] <= 3 for line in lines)


def test_bad_command_lines_are_one_line_problems() -> None:
    assert member_rates.bad_input([MUTANT], ["pct"], [1, 1, 1]) == ""
    assert "unknown mutant(s): nope" in member_rates.bad_input(["nope"], ["pct"], [1])
    assert member_rates.bad_input([MUTANT], ["pct", "nope:depth=2"], [1]).startswith(
        "unknown strategy(s): nope (known: ")
    assert "at least 1" in member_rates.bad_input([MUTANT], ["pct"], [5, 0, 3])


def test_seeds_give_a_line_per_base_seed_each_calibrated_as_a_run(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``--seeds 2``: base seeds 4 and 5, each the rate() of its own seed
    (aimed-class's member pct-site with aimed-rcu's parameters, calibrated
    with stall_in resolved)."""
    import json
    import sys

    mode = "pct-site:points=field;reads=oldest;fallback=pct;stall_in=rcu-or-any"
    monkeypatch.setattr(sys, "argv", ["member_rates.py", MUTANT, "--modes", mode,
                                      "--executions", "3", "--seed", "4",
                                      "--seeds", "2"])
    member_rates.main()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["seed"] for line in lines] == [4, 5]
    assert lines == [{**rate(MUTANT, mode, 3, seed), "seconds": line["seconds"]}
                     for seed, line in zip((4, 5), lines, strict=True)]
    assert "--seeds must be at least 1" in member_rates.bad_input(
        [MUTANT], ["pct"], [1, 1, 1, 0])
