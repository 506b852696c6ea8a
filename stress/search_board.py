"""The search strategies' scoreboard: a table of stress/scoreboard.py results.

Reads the outcomes ``stress/scoreboard.py`` recorded (``--results``, default
reports/runs/scoreboard.jsonl) for the given modes and caps, and prints one
row per mutant: ``found/attempts: median executions`` per mode over the
seeds that every mode completed, then the slowest mutant of each mode (the
largest median; a mutant whose median is not found counts as infinitely
slow).  Attempts are read, never run: run the scoreboard first, e.g.

  python stress/scoreboard.py --seeds 10 --max-executions 10000 \\
      --max-seconds 20 --jobs 1 --modes portfolio,surw,pos,mix,pct
  python stress/search_board.py --modes portfolio,surw,pos,mix,pct \\
      --max-seconds 20 [--write reports/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section
from stress.scoreboard import RESULTS, SPELLINGS, Outcome, load_results

HEADING = "## Search strategies: mutant scoreboard (stress/search_board.py)"


def median_executions(outcomes: list[Outcome]) -> float:
    """Median executions to the first finding, not found = infinity."""
    return statistics.median([o.executions if o.found else float("inf")
                              for o in outcomes])


def cell(outcomes: list[Outcome]) -> str:
    """``found/attempts: median ex``."""
    if not outcomes:
        return "-"
    found = sum(1 for o in outcomes if o.found)
    med = median_executions(outcomes)
    shown = "not found" if med == float("inf") else f"{med:,.0f}"
    return f"{found}/{len(outcomes)}: {shown}"


def board(results: dict[str, Outcome], modes: list[str], cap: str,
          only: set[str] | None = None, threads_cap: str = "") -> list[str]:
    """The table rows and the slowest-mutant row (of the mutants in @only,
    every mutant the results have when None).  The ``threads`` mode's
    attempts are read under @threads_cap (scoreboard.py records them with
    no execution cap and their own wall time) when given.  A named
    portfolio's attempts count under its name or its long spelling
    (scoreboard.py's :data:`SPELLINGS`), as scoreboard.py reads them."""
    named = {SPELLINGS[m]: m for m in modes if m in SPELLINGS}
    by: dict[tuple[str, str], dict[int, Outcome]] = {}
    for o in results.values():
        mode = named.get(o.mode, o.mode)
        mode_cap = threads_cap if mode == "threads" and threads_cap else cap
        if mode in modes and o.key.endswith(mode_cap) and (only is None
                                                           or o.mutant in only):
            by.setdefault((o.mutant, mode), {})[o.seed] = o
    mutants = sorted({m for m, _ in by}, key=lambda m: list(dict.fromkeys(
        o.mutant for o in results.values())).index(m))
    seeds = None
    for m in mutants:
        for mode in modes:
            have = set(by.get((m, mode), {}))
            seeds = have if seeds is None else seeds & have
    done = sorted(seeds or ())
    rows = ["| mutant | " + " | ".join(modes) + " |",
            "|---|" + "---|" * len(modes)]
    worst = {mode: (0.0, "") for mode in modes}
    for m in mutants:
        cells = []
        for mode in modes:
            outs = [by[(m, mode)][s] for s in done if s in by.get((m, mode), {})]
            cells.append(cell(outs))
            if outs and median_executions(outs) > worst[mode][0]:
                worst[mode] = (median_executions(outs), m)
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    rows.append("| **slowest mutant (median)** | " + " | ".join(
        f"{'not found' if v == float('inf') else f'{v:,.0f}'} ({m})"
        for v, m in worst.values()) + " |")
    return [f"Seeds {', '.join(map(str, done))} (those every mode completed).", "",
            *rows]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--modes", default="portfolio,surw,pos,mix,pct")
    p.add_argument("--max-executions", type=int, default=10_000)
    p.add_argument("--max-seconds", default="20")
    p.add_argument("--threaded-seconds", default="",
                   help="the wall time of the threads mode's attempts "
                        "(default: --max-seconds)")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--mutants", default="",
                   help="comma-separated mutants to show (default: every mutant "
                        "the results have)")
    p.add_argument("--note", default="")
    p.add_argument("--write", default="")
    args = p.parse_args()
    modes = args.modes.split(",")
    cap = f"|{args.max_executions}|{args.max_seconds}"
    threads_cap = f"|0|{args.threaded_seconds or args.max_seconds}"
    results = load_results(Path(args.results))
    only = {m for m in args.mutants.split(",") if m} or None
    absent = sorted((only or set()) - {o.mutant for o in results.values()})
    if absent:
        print(f"search_board: no outcomes of {', '.join(absent)} in {args.results}",
              file=sys.stderr)
        raise SystemExit(2)
    text = "\n".join([
        HEADING, "",
        f"Command: `python stress/search_board.py --modes {args.modes} "
        f"--max-seconds {args.max_seconds}` over "
        "the outcomes of `python stress/scoreboard.py --seeds 10 --max-executions "
        f"{args.max_executions} --max-seconds {args.max_seconds} --jobs 1 --modes "
        f"{args.modes}` (run at nice 10 beside other work).  {args.note}", "",
        *machine(), "", *board(results, modes, cap, only, threads_cap), "",
        "Cells: `found/attempts: median executions to the first finding`, an "
        "attempt without a finding counting as infinitely late.  Executions are "
        "a function of the seed for every strategy here; the time cap only "
        "decides when an attempt gives up." + (
            "  OS threads (`threads`) run each attempt for a fixed wall time; "
            "their executions depend on the machine's timing, not on the seed."
            if "threads" in modes else ""), ""])
    print(text)
    if args.write:
        write_section(HEADING, text, Path(args.write))


if __name__ == "__main__":
    main()
