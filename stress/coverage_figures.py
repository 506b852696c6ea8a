"""Reads-from coverage per scenario and strategy: distinct pairs against
executions, and where ``--until-saturated`` would stop.

For each scenario (default parameters, correct model) and strategy, runs
executions 0..N-1 from base seed 0 the way a campaign block does
(``run_block`` with ``coverage=True``, the strategy calibrated first) and
reports the distinct reads-from pairs made by the first 10, 100 and N
executions, and the first block end (multiples of 16) at which the
saturation rule of :mod:`rcu_harness.campaign.saturation` holds.  Rows
are printed (and appended to --out as JSON lines) as they finish, so a run
cut short still gives its figures.

Usage: python stress/coverage_figures.py [--executions 400]
       [--scenarios rcu_transitions,dup_mmap,mmput_race,stack_expand,tree_destroy]
       [--strategies random,pct,mix,pos,surw,portfolio] [--write reports/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.campaign.saturation import Coverage
from rcu_harness.runner.block import calibrate, run_block
from rcu_harness.scenarios import configure, program
from rcu_harness.scenarios.catalog import default_max_steps
from rcu_harness.sched.registry import make_strategy
from stress.benchlib import machine, write_section

HEADING = ("## Reads-from coverage per scenario and strategy "
           "(stress/coverage_figures.py)")
BLOCK = 16


def figures(scenario: str, strategy: str, executions: int) -> dict[str, object]:
    """One row: pairs after 10, 100 and all executions; saturation point."""
    cfg = configure(scenario)
    prog = program(cfg)
    max_steps = default_max_steps(cfg)
    params = calibrate(prog, strategy, 0, max_steps=max_steps)
    s = make_strategy(strategy, 0, **params)
    began = time.process_time()
    block = run_block(prog, s, 0, executions, command=lambda i, _s: "", seen=set(),
                      max_steps=max_steps, keep_going=True, coverage=True)
    cpu = time.process_time() - began
    cov = Coverage((p, first) for p, (first, _n) in block.reads_from.items())
    ran = len(block.executions)
    saturated = next((n for n in range(BLOCK, ran + 1, BLOCK) if cov.saturated(n)),
                     None)
    return {"scenario": scenario, "strategy": strategy, "executions": ran,
            "at10": cov.upto(10), "at100": cov.upto(100), "all": cov.upto(ran),
            "saturated": saturated, "cpu_s": round(cpu, 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--executions", type=int, default=400)
    p.add_argument("--scenarios",
                   default="rcu_transitions,dup_mmap,mmput_race,stack_expand,"
                   "tree_destroy")
    p.add_argument("--strategies", default="random,pct,mix,pos,surw,portfolio")
    p.add_argument("--out", default="reports/runs/coverage_figures.jsonl")
    p.add_argument("--write", default="")
    args = p.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for scenario in args.scenarios.split(","):
        for strategy in args.strategies.split(","):
            row = figures(scenario, strategy, args.executions)
            rows.append(row)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(row, flush=True)
    n = args.executions
    table = [f"| scenario | strategy | pairs after 10 | after 100 | after {n} | "
             "saturated at (--until-saturated) | CPU s |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r['scenario']} | {r['strategy']} | {r['at10']} | {r['at100']} | "
              f"{r['all']} | {r['saturated'] or f'not within {n}'} | {r['cpu_s']} |"
              for r in rows]
    text = "\n".join([
        HEADING, "",
        f"Command: `python stress/coverage_figures.py {' '.join(sys.argv[1:])}` "
        "(base seed 0, default parameters, correct model; CPU seconds include "
        "the coverage hook, about 1.5 times an unmeasured execution).", "",
        *machine(), "", *table, "",
        "Pairs: distinct `word: write site -> read site` reads-from pairs "
        "(docs/search.md) made by the first executions.  *Saturated at*: the "
        "first block end (every 16 executions) at which `--until-saturated` "
        "would stop (at least 100 executions, the second half added at most 1% "
        "of the pairs).", ""])
    print(text)
    if args.write:
        write_section(HEADING, text, Path(args.write))


if __name__ == "__main__":
    main()
