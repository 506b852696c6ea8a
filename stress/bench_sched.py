"""Benchmark: cost of one scheduling point vs a bare greenlet switch round trip.

Cases are a strategy on a workload (stress/sched_workloads.py): each
strategy prepared as a run prepares it (calibrated; rff mutating a corpus
entry), a *round* one execution per member (mix: pct and random; a
portfolio: each member), the cost per point a round's cost divided by the
scheduling points it made.  The baseline is two greenlets switching to each
other in a loop (one round trip = two switches).

Two modes:

* wall clock (default): process CPU time (``time.process_time``: other
  processes on the 2-core machine do not count, cache and SMT contention
  still does) of one round per repetition, the repetitions of every case
  interleaved, garbage of the previous measurement collected first,
  medians reported.  On the shared VM ratios move by up to 40% between runs.
* ``--callgrind K``: instructions counted by ``valgrind --tool=callgrind``
  (stress/sched_probe.py, one process per case, ``PYTHONHASHSEED=0``): the
  case's setup, then 1 + K rounds, each counted apart; the first round
  (caches warming) is dropped, the cost per point is the K others'
  instructions over their points, beside the bare round trip counted the
  same way.  No other load changes an instruction count, so the ratio is
  exact and repeatable.  ``--before REV`` counts another tree (a git
  revision or a directory) the same way, side by side, with this
  checkout's workloads, and says whether both made the same schedules.

Usage: python stress/bench_sched.py [--reps 7] [--write reports/BENCHMARKS.md]
       python stress/bench_sched.py --callgrind 2 --points 2000 [--before main]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenlet

from stress.benchlib import callgrind, export, machine, write_section
from stress.sched_workloads import (
    BARE_NAME,
    BASELINES,
    Case,
    cases,
    checkers_of,
    prepare,
    run_round,
)
from stress.sched_workloads import maple_program as maple_program  # wmm_probe
from stress.sched_workloads import simstruct_program as simstruct_program

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "stress" / "sched_probe.py"
HEADING = "## Scheduler hot path (stress/bench_sched.py)"
CG_HEADING = "## Scheduler hot path, instructions (stress/bench_sched.py --callgrind)"


def timed(fn: Callable[[], Any]) -> float:
    """Process CPU seconds of fn() (garbage of earlier work collected first)."""
    gc.collect()
    start = time.process_time()
    fn()
    return time.process_time() - start


def per_point(case: Case, points: int, seed: int) -> tuple[float, int, float]:
    """Seconds per point of one round of @case, its points, and its seconds."""
    program = case.program(points)
    strategy, indices = prepare(program, case.strategy, seed, case.params)
    checkers = checkers_of(case)
    made: list[int] = []
    elapsed = timed(lambda: made.append(
        run_round(program, strategy, indices, case.record, checkers)[0]))
    return elapsed / made[0], made[0], elapsed


def command() -> str:
    return ("python stress/bench_sched.py " + " ".join(sys.argv[1:])).strip()


WALL_NOTES = (
    "Goal: simstruct ratio <= 3 (one scheduling point costs at most three "
    "bare switch round trips).  Exploration records no events (record=0); "
    "a finding's execution is replayed once with events and model "
    "functions (record=2), shown for comparison.  The maple rows include "
    "the model's own work per access; compare maple/random with "
    "maple-noprivate/random by ms per round and points per round for the "
    "private-node optimisation.\n\n"
    "Every strategy is measured as a run uses it (stress/sched_workloads.py): "
    "calibrated (pct's steps, pct-sync's sync steps, surw's profile; not "
    "timed), pos, surw and pct-sync with the access hook they ask for, which "
    "on maple nodes sends every observed access through the port's general "
    "path; rff mutating a corpus entry (one execution of the workload, not "
    "timed), without and with the reads-from coverage hook every rff run "
    "installs (+coverage; random+coverage is its cost for random).  A round "
    "of mix is its executions 0 (pct) and 1 (random), of portfolio (pct,surw) "
    "0 and 1 likewise.  A switching point costs more than a bare switch "
    "because the switch happens inside a property descriptor (a deeper C "
    "stack to save: row 2); with 4 threads, `random` switches at 3 of 4 "
    "points, `pct` rarely.  History of the hot path on this machine: the "
    "first version measured 3.94x (random) and 3.20x (pct); removing the "
    "recording wrapper from the decision path (the execution appends "
    "decisions itself), calling store hooks only for lock-guarded words, "
    "inlining the point into SimStruct accessors and recording no events "
    "during exploration brought it to the table above.  The private-node "
    "optimisation costs about the same wall time per maple execution but "
    "makes about 35% fewer scheduling points, i.e. a smaller interleaving "
    "space for every strategy; it is kept.  This is a shared 2-core VM: "
    "other load moves single numbers by +-20% and ratios by up to 40% between "
    "runs; `--callgrind` counts instructions instead (section below).")


def wall(args: argparse.Namespace, chosen: dict[str, Case]) -> str:
    samples: dict[str, list[float]] = {name: [] for name in [*BASELINES, *chosen]}
    runs: dict[str, list[float]] = {name: [] for name in chosen}
    points: dict[str, int] = {}
    for rep in range(args.reps):
        for name, trips in BASELINES.items():
            samples[name].append(timed(functools.partial(trips, 200_000)) / 200_000)
        for name, case in chosen.items():
            cost, n, secs = per_point(case, args.points, rep)
            samples[name].append(cost)
            runs[name].append(secs)
            points[name] = n
    bare = statistics.median(samples[BARE_NAME])
    rows = []
    for name in [*BASELINES, *chosen]:
        med = statistics.median(samples[name])
        tail = (f"{points[name]:,} | {statistics.median(runs[name]) * 1e3:.1f}"
                if name in chosen else "- | -")
        rows.append(f"| {name} | {med * 1e6:.3f} | {1 / med:,.0f} | "
                    f"{med / bare:.2f} | {tail} |")
    return "\n".join([
        HEADING, "", f"Command: `{command()}` (medians of {args.reps} "
        "interleaved repetitions).", "", *machine(),
        f"- greenlet {greenlet.__version__}", "",
        "| workload | us per point | points/s | ratio to bare round trip "
        "| points per round | ms per round |",
        "|---|---|---|---|---|---|", *rows, "", WALL_NOTES, ""])


def count(tree: Path, names: list[str], points: int, k: int,
          seed: int) -> dict[str, tuple[float, int, str, float]]:
    """Per case of @names, counted in one process of @tree: instructions
    per point (rounds 2..1+@k), points per round, the digest of the rounds'
    schedules, and the largest deviation of a round's instructions per point
    from their mean."""
    parts, out = callgrind([str(PROBE), str(tree), str(points), str(1 + k),
                            str(seed), *names])
    result = json.loads(out.strip().splitlines()[-1])
    if len(parts) != len(names) * (k + 2) + 1:
        raise SystemExit(f"{names}: {len(parts)} callgrind parts, expected "
                         f"{len(names) * (k + 2) + 1} (did the probe's marks "
                         "reach callgrind?)")
    got = {}
    for i, name in enumerate(names):
        rounds = parts[i * (k + 2) + 2:(i + 1) * (k + 2)]
        made: list[int] = result[name]["points"][1:]
        per = sum(rounds) / sum(made)
        spread = max(abs(r / n / per - 1) for r, n in zip(rounds, made,
                                                          strict=True))
        schedules = set(result[name]["schedules"][1:])
        if len(schedules) > 1:
            raise SystemExit(f"{name}: rounds made different schedules")
        got[name] = (per, made[0], schedules.pop() if schedules else "-", spread)
    return got


def counting(args: argparse.Namespace, chosen: dict[str, Case]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.before:
            trees = {"before": export(args.before, Path(tmp)), "after": ROOT}
        names = [*BASELINES, *chosen]
        jobs = [(t, n) for n in names for t in trees]
        with ThreadPoolExecutor(args.jobs) as pool:
            counted = pool.map(lambda job: count(
                trees[job[0]], [job[1]], args.points, args.callgrind,
                args.seed)[job[1]], jobs)
            got = dict(zip(jobs, counted, strict=True))
    rows = []
    for name in names:
        cells = []
        for t in trees:
            per, _, _, spread = got[(t, name)]
            ratio = per / got[(t, BARE_NAME)][0]
            cells += [f"{per:,.0f}", f"**{ratio:.2f}**", f"{spread:.2%}"]
        last = got[(list(trees)[-1], name)]
        cells.append("-" if name in BASELINES else f"{last[1]:,}")
        if args.before:
            first = got[("before", name)]
            cells.append(f"{last[0] / first[0]:.3f}")
            cells.append("yes" if first[2] == last[2] else "NO")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    head = ["instructions per point", "ratio to bare round trip",
            "largest round deviation"]
    if args.before:
        head = [f"{t}: {h}" for t in trees for h in head]
    head.append("points per round")
    if args.before:
        head += ["after / before", "same schedules"]
    before = (f"; before = `{args.before}`, after = this checkout"
              if args.before else "")
    return "\n".join([
        CG_HEADING, "", f"Command: `{command()}`{before}; seed {args.seed}, "
        f"rounds 2..{1 + args.callgrind} of each case counted "
        f"(`valgrind --tool=callgrind`, PYTHONHASHSEED=0). {args.note}".rstrip(),
        "", *machine(), f"- greenlet {greenlet.__version__}", "",
        "| workload | " + " | ".join(head) + " |",
        "|---|" + "---|" * len(head), *rows, ""])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--points", type=int, default=20_000,
                        help="loads+stores per SimStruct worker / 3")
    parser.add_argument("--write", default="")
    parser.add_argument("--only", default="",
                        help="comma-separated workloads (default: all)")
    parser.add_argument("--callgrind", type=int, default=0, metavar="K",
                        help="count instructions of K rounds per case instead "
                             "of timing")
    parser.add_argument("--before", default="",
                        help="with --callgrind: also count this git revision "
                             "or directory, side by side")
    parser.add_argument("--seed", type=int, default=0,
                        help="with --callgrind: the seed of every case")
    parser.add_argument("--jobs", type=int, default=1,
                        help="with --callgrind: probe processes at once (an "
                             "instruction count does not depend on the load)")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    chosen = cases()
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in chosen]
        if unknown:
            parser.error(f"unknown workloads {unknown}; known: {list(chosen)}")
        chosen = {name: chosen[name] for name in wanted}
    if args.before and not args.callgrind:
        parser.error("--before needs --callgrind")
    if args.jobs < 1 or args.callgrind < 0:
        parser.error("--jobs must be at least 1 and --callgrind at least 0")
    text = counting(args, chosen) if args.callgrind else wall(args, chosen)
    print(text)
    if args.write:
        write_section(CG_HEADING if args.callgrind else HEADING, text,
                      Path(args.write))


if __name__ == "__main__":
    main()
