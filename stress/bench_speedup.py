"""Benchmark: executions per second of the default scenarios, before and after.

Compares two source trees side by side on this machine: ``--before`` is a
git revision (exported with ``git archive`` into a temporary directory) or
a directory, ``--after`` this checkout by default.  For each repetition,
each scenario is run in a fresh process per tree, the trees alternating
(before, after, after, before, ...), by ``stress/speed_probe.py``: the
scenario's executions 0..N-1 as a campaign worker runs one block's, but
all on one program (``mix``, or ``--strategy NAME`` where both trees have
it; base seed 0, no events): what a campaign pays per block (building the
block's program and strategy, storing results) is not in it;
``stress/bench_campaign_speed.py`` measures that.
Rates are executions per CPU second of the probe process
(``time.process_time``: other processes on the shared machine do not
count, cache and SMT contention still does), medians over repetitions.
The probe also reports a digest of every execution's schedule: equal
digests mean both trees made the same decisions in every execution.

Cost per scheduling point: CPU seconds over the points made, beside a bare
greenlet switch round trip measured in the same process after the run.

``--callgrind K``: instead of timing, count instructions per execution
with ``valgrind --tool=callgrind`` (runs of 1 and N = 1+K executions, the
difference divided by N - 1; ``PYTHONHASHSEED=0``), which no other load on the
machine changes; and, in the longer run, the cost per scheduling point of
its executions (their instructions over their points) beside a bare
greenlet switch round trip counted in the same process after them; the
speed-up on those counted executions alone (before's over after's: the
same executions and points in both trees, steadier than the difference of
the two runs, which a collector pass moves); and whether every run of both
trees made the same schedules (the probe's digests of the run of 1 and of
the longer run).
``--cycles K``: as ``--callgrind K``'s longer run (1+K executions,
``mmput_race`` at least 30), with callgrind simulating the caches and
branch predictors: for the counted executions of each tree their
instructions and KCachegrind's cycle estimate
(:func:`stress.benchlib.estimated_cycles`: instructions plus 10 per
first-level miss and mispredicted branch, 100 per last-level miss), per
execution and per scheduling point beside a bare round trip estimated the
same way.  Instructions are what the speed work cut; the estimate says how
much of that a core's stalls give back (docs/performance.md, *Instructions
against CPU time*).

``mmput_race`` counts at least 30 executions (runs of 1 and
``max(1+K, 30)``, :data:`MIN_COUNTED`): its executions are short (about
500 points, 7 M instructions each), so five of them (``K`` = 4, about
2,500 points, 36 M instructions) are too few against the cyclic garbage
collector, whose pass lands in the counted executions of one tree and not
of the other and moves the count by a few percent (0.983x at K = 4
against 1.037x over 30 executions for the same change in the seventh
speed round, reports/BENCHMARKS.md); dup_mmap's and rcu_transitions'
executions are four to five times longer and need no more.

Usage: python stress/bench_speedup.py [--before 572b98a] [--reps 5]
       [--callgrind 4 | --cycles 8] [--strategy mix] [--write reports/BENCHMARKS.md]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import (
    before_after_parser,
    callgrind,
    callgrind_events,
    estimated_cycles,
    export,
    machine,
    write_section,
)

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "stress" / "speed_probe.py"
ROUNDTRIPS = 20_000
"""stress/speed_probe.py's ROUNDTRIPS (``--count``)."""
HEADING = "## Executions per second, before and after (stress/bench_speedup.py)"
CG_HEADING = "## Instructions per execution, before and after (stress/bench_speedup.py)"
CY_HEADING = ("## Instructions and estimated cycles per execution, before and after "
              "(stress/bench_speedup.py --cycles)")
SCENARIOS = {"dup_mmap": 40, "rcu_transitions": 40, "mmput_race": 150}
"""Executions per probe run (about the same CPU time each)."""
MIN_COUNTED = {"mmput_race": 30}
"""Under ``--callgrind``, the fewest executions a scenario's longer run
counts (see the module docstring: mmput_race's short executions against the
collector's passes)."""


def probe(tree: Path, scenario: str, n: int, bare: bool,
          strategy: str = "mix") -> dict[str, float]:
    cmd = [sys.executable, str(PROBE), str(tree), scenario, str(n),
           "--strategy", strategy]
    if bare:
        cmd.append("--bare")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONHASHSEED="0"))
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def instructions(tree: Path, scenario: str, n: int, strategy: str = "mix",
                 ) -> tuple[int, float, float, int, str]:
    """Instructions of the probe's run of @n executions without its bare
    round trips; instructions per scheduling point of those executions and
    per bare round trip, counted in the same process; the executions'
    instructions; the digest of their schedules."""
    parts, out = callgrind([str(PROBE), str(tree), scenario, str(n), "--count",
                            "--strategy", strategy])
    # parts: start-up and warm-up, the executions, the round trips' warm-up,
    # the round trips, exit
    result = json.loads(out.strip().splitlines()[-1])
    return (sum(parts) - parts[2] - parts[3], parts[1] / result["steps"],
            parts[3] / ROUNDTRIPS, parts[1], str(result["schedules"]))


def timing(trees: dict[str, Path], reps: int, scale: float,
           strategy: str = "mix") -> tuple[list[str], list[str]]:
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    order = list(trees)
    for rep in range(reps):
        for scenario, n in SCENARIOS.items():
            for name in (order if rep % 2 == 0 else order[::-1]):
                r = probe(trees[name], scenario, max(1, int(n * scale)), True,
                          strategy)
                samples.setdefault((name, scenario), []).append(r)
                print(f"rep {rep} {scenario} {name}: {r['n'] / r['cpu']:.1f} ex/s",
                      file=sys.stderr)
    rows, notes = [], []
    for scenario in SCENARIOS:
        cells: list[str] = []
        rates, per_point, bares, digests = {}, {}, [], set()
        for name in order:
            runs = samples[(name, scenario)]
            rates[name] = statistics.median(r["n"] / r["cpu"] for r in runs)
            per_point[name] = statistics.median(r["cpu"] / r["steps"] for r in runs)
            bares += [r["bare"] for r in runs]
            digests |= {str(r["schedules"]) for r in runs}
            cells.append(f"{rates[name]:,.1f}")
        bare = statistics.median(bares)
        before, after = order
        cells.append(f"**{rates[after] / rates[before]:.2f}x**")
        cells += [f"{per_point[name] * 1e6:.2f} ({per_point[name] / bare:.1f}x)"
                  for name in order]
        cells.append("yes" if len(digests) == 1 else f"NO ({len(digests)})")
        rows.append(f"| {scenario} | " + " | ".join(cells) + " |")
        notes.append(f"{scenario}: bare round trip {bare * 1e6:.3f} us")
    return rows, notes


def counted(scenario: str, k: int) -> int:
    """The executions of @scenario's longer run under ``--callgrind`` @k:
    1 + @k, at least :data:`MIN_COUNTED`."""
    return max(1 + k, MIN_COUNTED.get(scenario, 0))


def counting(trees: dict[str, Path], k: int, strategy: str = "mix") -> list[str]:
    rows = []
    for scenario in SCENARIOS:
        per: dict[str, float] = {}
        ratio: dict[str, str] = {}
        executions: dict[str, int] = {}
        digests: set[str] = set()
        n = counted(scenario, k)
        for name, tree in trees.items():
            one, _, _, _, digest = instructions(tree, scenario, 1, strategy)
            more, point, bare, executions[name], digest_n = \
                instructions(tree, scenario, n, strategy)
            digests |= {f"1:{digest}", f"n:{digest_n}"}
            per[name] = (more - one) / (n - 1)
            ratio[name] = f"{point:,.0f} / {bare:,.0f} = **{point / bare:.2f}x**"
            print(f"{scenario} {name}: {per[name] / 1e6:.1f} M, per point "
                  f"{ratio[name]}, executions {executions[name]:,}", file=sys.stderr)
        before, after = list(trees)
        same = "yes" if len(digests) == 2 else "NO"
        rows.append(f"| {scenario} ({n} executions) | {per[before] / 1e6:.1f} M | "
                    f"{per[after] / 1e6:.1f} M | **{per[before] / per[after]:.2f}x** "
                    f"| **{executions[before] / executions[after]:.3f}x** "
                    f"| {ratio[before]} | {ratio[after]} | {same} |")
    return rows


def simulated(tree: Path, scenario: str, n: int, strategy: str = "mix",
              ) -> tuple[dict[str, int], dict[str, int], int, str]:
    """One probe run of @n executions with the caches and branch predictors
    simulated: the events of its executions, those of its bare round trips,
    their scheduling points, the digest of their schedules."""
    parts, out = callgrind_events([str(PROBE), str(tree), scenario, str(n),
                                   "--count", "--strategy", strategy])
    result = json.loads(out.strip().splitlines()[-1])
    return parts[1], parts[3], int(result["steps"]), str(result["schedules"])


def cycling(trees: dict[str, Path], k: int, strategy: str = "mix") -> list[str]:
    """``--cycles``' rows: per scenario, each tree's counted executions by
    instructions and by estimated cycles."""
    rows = []
    for scenario in SCENARIOS:
        n = counted(scenario, k)
        ir: dict[str, float] = {}
        cest: dict[str, float] = {}
        point: dict[str, str] = {}
        digests: set[str] = set()
        for name, tree in trees.items():
            runs, bare, steps, digest = simulated(tree, scenario, n, strategy)
            digests.add(digest)
            cycles = estimated_cycles(runs)
            ir[name], cest[name] = runs["Ir"] / n, cycles / n
            by_ir = (runs["Ir"] / steps) / (bare["Ir"] / ROUNDTRIPS)
            by_cest = (cycles / steps) / (estimated_cycles(bare) / ROUNDTRIPS)
            point[name] = f"{by_ir:.2f}x ({by_cest:.2f}x)"
            print(f"{scenario} {name}: {ir[name] / 1e6:.1f} M instructions, "
                  f"{cest[name] / 1e6:.1f} M estimated cycles, per point "
                  f"{point[name]}", file=sys.stderr)
        before, after = list(trees)
        rows.append(
            f"| {scenario} ({n} executions) | {ir[before] / 1e6:.1f} M "
            f"| {ir[after] / 1e6:.1f} M | **{ir[before] / ir[after]:.2f}x** "
            f"| {cest[before] / 1e6:.1f} M ({cest[before] / ir[before]:.2f}) "
            f"| {cest[after] / 1e6:.1f} M ({cest[after] / ir[after]:.2f}) "
            f"| **{cest[before] / cest[after]:.2f}x** | {point[before]} "
            f"| {point[after]} | {'yes' if len(digests) == 1 else 'NO'} |")
    return rows


def main() -> None:
    parser = before_after_parser(5, "the executions per probe run")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--callgrind", type=int, default=0, metavar="K")
    modes.add_argument("--cycles", type=int, default=0, metavar="K")
    args = parser.parse_args()
    if min(args.callgrind, args.cycles) < 0:
        parser.error("--callgrind and --cycles take a count of executions >= 0")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": export(args.before, Path(tmp)),
                 "after": export(args.after, Path(tmp))}
        command = "python stress/bench_speedup.py " + " ".join(sys.argv[1:])
        after = "the working tree" if args.after == str(ROOT) else f"`{args.after}`"
        if args.callgrind:
            rows = counting(trees, args.callgrind, args.strategy)
            text = "\n".join([
                CG_HEADING, "", f"Command: `{command.strip()}`; before = "
                f"`{args.before}`, after = {after}. {args.note}".rstrip(),
                "", *machine(), "",
                "| scenario | before (instructions per execution) | after | "
                "speed-up | speed-up, counted executions | before: per point / "
                "per bare round trip | after | same schedules |",
                "|---|---|---|---|---|---|---|---|", *rows, ""])
            heading = CG_HEADING
        elif args.cycles:
            rows = cycling(trees, args.cycles, args.strategy)
            text = "\n".join([
                CY_HEADING, "", f"Command: `{command.strip()}`; before = "
                f"`{args.before}`, after = {after}; the counted executions of "
                f"one run per tree, caches and branch predictors simulated. "
                f"{args.note}".rstrip(), "", *machine(), "",
                "| scenario | before (instructions per execution) | after | "
                "speed-up | before (estimated cycles per execution; per "
                "instruction) | after | speed-up | before: per point / per bare "
                "round trip, instructions (estimated cycles) | after | same "
                "schedules |",
                "|---|---|---|---|---|---|---|---|---|---|", *rows, ""])
            heading = CY_HEADING
        else:
            rows, notes = timing(trees, args.reps, args.scale, args.strategy)
            text = "\n".join([
                HEADING, "", f"Command: `{command.strip()}`; before = "
                f"`{args.before}`, after = {after}; medians of "
                f"{args.reps} interleaved repetitions. {args.note}".rstrip(), "",
                *machine(), "",
                "| scenario | before ex/s | after ex/s | speed-up | before us per "
                "point (x bare) | after us per point (x bare) | same schedules |",
                "|---|---|---|---|---|---|---|", *rows, "",
                "Bare greenlet switch round trip, measured in each probe process "
                "after its run (median): " + "; ".join(notes) + ".", ""])
            heading = HEADING
    print(text)
    if args.write:
        write_section(heading, text, Path(args.write))


if __name__ == "__main__":
    main()
