"""How often each strategy finds a mutant, and what a finding's program data is worth.

A portfolio runs its members in turn, so its chance per execution of
finding a bug is the mean of its members' chances, and its median
executions to the first finding about ``ln 2`` over that mean.  This
script measures the chance per execution of each mode (a registered
strategy, with ``:KEY=VALUE;KEY=VALUE`` parameters as in
``stress/scoreboard.py``): executions ``0..N-1`` of one base seed, every
execution run to its end (``explore(stop_on_first=False)``), the share
that ends in a finding.  Each base seed calibrates the mode as a run of it
does (``steps``, ``sites``, ``profile``, ``stall_in=rcu-or-any`` resolved),
so a member spelled with the portfolio's parameters has the chances it has
as that portfolio's member; ``--seeds N`` measures base seeds ``--seed`` to
``--seed + N - 1`` (a line each), since a scoreboard's medians are over
many calibrations, not one.

``--fixed-draws SOURCE`` asks the other question, whether the program's
own choices (``h.random()``: which address a fault or reader aims at, read
or write) or the schedule is the rare part: the first ``--findings``
finding executions of mode SOURCE are taken, each thread's draws recorded
in order, and ``--draw-executions`` executions of every mode (base seed
``--seed`` + 1000, so other schedules) run with each thread's k-th draw
replaced by the finding's k-th (when it draws from the same range).  The
rate with the finding's draws against the rate without bounds what aiming
the program's choices (swarm testing, a strategy-chosen distribution)
could gain.

    nice -n 10 python stress/member_rates.py MUTANT[,MUTANT...]
        [--modes pct,random-sync,pct-sync:points=field,random,surw,pos,pct-site]
        [--executions 2000] [--seed 0] [--seeds 1]
        [--fixed-draws pct-sync:points=field --findings 3 --draw-executions 300]

Measurement only (the fixed draws patch ``Harness.random`` in this
process); one JSON line per measurement.  Figures: reports/BENCHMARKS.md,
*The slow tail of aimed*.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rcu_harness.runner import harness
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.explore import explore
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import applied, configure, default_max_steps, program
from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.sched.registry import STRATEGIES, make_strategy

DEFAULT_MODES = "pct,random-sync,pct-sync:points=field,random,surw,pos,pct-site"
"""aimed's members as it configures them, and surw, pos and pct-site."""

_DRAWS: list[tuple[str, int, int]] = []
"""(thread, bound, value) of each ``h.random()`` draw of this execution."""
_FIXED: dict[tuple[str, int], tuple[int, int]] = {}
"""(thread, k) -> (bound, value): the draws to give instead of the strategy's."""
_random = harness.Harness.random


def _draw(self: harness.Harness, n: int) -> int:
    thread = self._ex.cur.name
    k = sum(1 for t, _, _ in _DRAWS if t == thread)
    fixed = _FIXED.get((thread, k))
    value = fixed[1] if fixed is not None and fixed[0] == n else _random(self, n)
    _DRAWS.append((thread, n, value))
    return value


def parse_mode(mode: str) -> tuple[str, dict[str, Any]]:
    """``STRATEGY:KEY=VALUE;KEY=VALUE`` (``+`` for a comma in a value)."""
    strategy, _, given = mode.partition(":")
    pairs = (kv.replace("+", ",").split("=", 1) for kv in given.split(";") if kv)
    return strategy, {k: int(v) if v.isdigit() else v for k, v in pairs}


def rate(mutant: str, mode: str, n: int, seed: int) -> dict[str, Any]:
    """The share of executions 0..@n-1 of @mode that end in a finding."""
    cfg = configure(MUTANTS[mutant].scenario, None, mutant)
    strategy, params = parse_mode(mode)
    began = time.perf_counter()
    with applied(cfg.mutant, cfg.fixes):
        r = explore(program(cfg), strategy=strategy, executions=n, seed=seed,
                    stop_on_first=False, max_steps=default_max_steps(cfg), **params)
    found = sum(r.counts.values())
    return {"mutant": mutant, "mode": mode, "seed": seed, "executions": r.executions,
            "found": found, "rate": found / max(r.executions, 1),
            "seconds": round(time.perf_counter() - began, 1)}


def _executions(mutant: str, mode: str, seed: int, n: int,
                stop_after: int = 0) -> list[tuple[bool, list[tuple[str, int, int]]]]:
    """Executions 0..@n-1 of @mode: (found, draws) each; with @stop_after,
    only until that many have found."""
    cfg = configure(MUTANTS[mutant].scenario, None, mutant)
    prog, bound = program(cfg), default_max_steps(cfg)
    strategy, params = parse_mode(mode)
    out = []
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(prog, strategy, seed, max_steps=bound,
                           strategy_params=params)
        s = make_strategy(strategy, seed, **params)
        for i in range(n):
            _DRAWS.clear()
            s.new_execution(i)
            ex = run_execution(prog, s, i, max_steps=bound, record=0)
            out.append((ex.violation is not None, list(_DRAWS)))
            if stop_after and sum(f for f, _ in out) >= stop_after:
                break
    return out


def fixed_draws(mutant: str, source: str, modes: list[str], findings: int,
                n: int, search: int, seed: int) -> list[dict[str, Any]]:
    """Each mode's rate with the draws of each of @source's first
    @findings finding executions (looked for in @search executions)."""
    harness.Harness.random = _draw  # type: ignore[method-assign]
    try:
        found = [d for f, d in _executions(mutant, source, seed, search, findings) if f]
        lines = []
        for number, draws in enumerate(found):
            _FIXED.clear()
            seen: dict[str, int] = {}
            for thread, bound, value in draws:
                k = seen.get(thread, 0)
                seen[thread] = k + 1
                _FIXED[(thread, k)] = (bound, value)
            for mode in modes:
                hits = sum(f for f, _ in _executions(mutant, mode, seed + 1000, n))
                lines.append({"mutant": mutant, "source": source, "finding": number,
                              "draws": len(draws), "mode": mode, "executions": n,
                              "found": hits, "rate": hits / n})
            _FIXED.clear()
        return lines
    finally:
        harness.Harness.random = _random  # type: ignore[method-assign]


def bad_input(mutants: list[str], modes: list[str], counts: list[int]) -> str:
    """A one-line problem with the command line, or ''."""
    unknown = [m for m in mutants if m not in MUTANTS]
    if not mutants or unknown:
        return f"unknown mutant(s): {', '.join(unknown) or '(none)'}"
    strategies = [parse_mode(m)[0] for m in modes]
    wrong = [s for s in strategies if s not in STRATEGIES]
    if not modes or wrong:
        return (f"unknown strategy(s): {', '.join(wrong) or '(none)'} (known: "
                f"{', '.join(sorted(STRATEGIES))})")
    if min(counts) < 1:
        return ("--executions, --findings, --draw-executions and --seeds must be "
                "at least 1")
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", help="comma-separated mutant names")
    parser.add_argument("--modes", default=DEFAULT_MODES)
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--fixed-draws", metavar="SOURCE", default="")
    parser.add_argument("--findings", type=int, default=3)
    parser.add_argument("--draw-executions", type=int, default=300)
    args = parser.parse_args()
    mutants = [m for m in args.mutants.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    sources = [args.fixed_draws] if args.fixed_draws else []
    problem = bad_input(mutants, modes + sources,
                        [args.executions, args.findings, args.draw_executions,
                         args.seeds])
    if problem:
        print(f"member_rates: {problem}", file=sys.stderr)
        raise SystemExit(2)
    for mutant in mutants:
        if args.fixed_draws:
            for line in fixed_draws(mutant, args.fixed_draws, modes, args.findings,
                                    args.draw_executions, args.executions, args.seed):
                print(json.dumps(line), flush=True)
            continue
        for mode in modes:
            for seed in range(args.seed, args.seed + args.seeds):
                line = rate(mutant, mode, args.executions, seed)
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
