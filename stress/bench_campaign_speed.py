"""Benchmark: a campaign's executions per second, before and after.

``bench_speedup.py`` measures executions the way one worker runs them, one
program for all of them.  A campaign does more: the coordinator hands out
blocks of 16 executions, each worker builds what a block needs, the
results are stored.  What that costs per execution is what this measures,
through the CLI a user runs (``python -m rcu_harness stress --scenario S
--strategy STRATEGY --executions N --time 0 --no-report``, one process,
the inline coordinator of ``--jobs 1``), in each source tree: ``--before``
a git revision or a directory, ``--after`` this checkout by default.

Each measurement is two runs of one tree: one block (16 executions) and
16 + M executions (M a multiple of the block).  Their difference divided
by M is what the campaign pays per execution, start-up, calibration and
the first block left out, every block's own costs (building the block's
program and strategy, storing its results) in.  Timing mode: the two
runs' CPU seconds (``os.wait4``: the child's user + system time; other
processes on the shared machine do not count), repetitions interleaved
(before, after, after, before, ...), medians.  ``--callgrind``: the two
runs' instructions under ``valgrind --tool=callgrind``
(:func:`stress.benchlib.callgrind`), which no other load on the machine
changes; the store then flushes by executions only
(:data:`BY_EXECUTIONS`).  Both report the scheduling points of the longer
run (the same in both trees: the same executions).

Usage: python stress/bench_campaign_speed.py [--before REV] [--strategy mix]
       [--reps 3] [--callgrind] [--scale 6] [--write reports/BENCHMARKS.md]
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
    export,
    machine,
    write_section,
)

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 16
"""Executions per block (``rcu_harness.campaign.coordinator.BLOCK``)."""
SCENARIOS = {"dup_mmap": 320, "rcu_transitions": 320, "mmput_race": 960}
"""M, the executions measured per scenario in timing mode (about the same
CPU time each, several seconds)."""
COUNTED = {"dup_mmap": 32, "rcu_transitions": 32, "mmput_race": 96}
"""M under ``--callgrind`` (two to six blocks; about a minute each), times
``--scale``: a cost that comes in lumps (the cyclic collector's full
passes, one every hundred or two executions) needs a longer window."""
HEADING = ("## A campaign's executions per second, before and after "
           "(stress/bench_campaign_speed.py)")
LAUNCH = ("import runpy, sys; tree = sys.argv.pop(1); sys.path.insert(0, tree); "
          "import rcu_harness; "
          "assert rcu_harness.__file__.startswith(tree), rcu_harness.__file__; "
          "sys.argv[0] = 'rcu-harness'; "
          "runpy.run_module('rcu_harness', run_name='__main__')")
"""Runs the CLI of the tree given first (never an installed copy)."""
BY_EXECUTIONS = ("import rcu_harness.campaign.coordinator as c; "
                 "c.FLUSH_SECONDS = float('inf'); ")
"""Under callgrind: the store flushes by executions only.  A campaign
commits what it absorbed every ``FLUSH_EXECUTIONS`` executions or
``FLUSH_SECONDS`` seconds; callgrind runs the code about fifty times
slower, so the two-second flushes would fall every execution or two
instead of every few hundred, each a database transaction, and their
number would follow the machine's load: the difference of two runs of one
tree moved by 1.5% that way (BENCHMARKS.md, *twelfth round*)."""


def argv(tree: Path, scenario: str, n: int, strategy: str, out: str,
         *, by_executions: bool = False) -> list[str]:
    """The python arguments of one run of @n executions (@by_executions:
    :data:`BY_EXECUTIONS` first)."""
    launch = LAUNCH.replace("import rcu_harness; ", "import rcu_harness; "
                            + BY_EXECUTIONS) if by_executions else LAUNCH
    return ["-c", launch, str(tree), "stress", "--scenario", scenario,
            "--strategy", strategy, "--executions", str(n), "--time", "0",
            "--quiet", "--no-report", "--json", "--out", out]


def _result(stdout: str) -> dict[str, int]:
    data = json.loads(stdout)
    return {"executions": int(data["executions"]), "steps": int(data["steps"])}


def timed(tree: Path, scenario: str, n: int, strategy: str) -> dict[str, float]:
    """One run: its CPU seconds, executions and scheduling points."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, *argv(tree, scenario, n, strategy, out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONHASHSEED="0"))
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {scenario} in {tree}")
    return {"cpu": usage.ru_utime + usage.ru_stime, **_result(stdout)}


def counted(tree: Path, scenario: str, n: int, strategy: str) -> dict[str, float]:
    """One run under callgrind: its instructions, executions and points."""
    with tempfile.TemporaryDirectory() as out:
        parts, stdout = callgrind(argv(tree, scenario, n, strategy, out,
                                       by_executions=True))
    return {"instructions": sum(parts), **_result(stdout)}


def marginal(short: dict[str, float], long: dict[str, float], key: str) -> float:
    """@key per execution between the one-block run and the longer one."""
    n = long["executions"] - short["executions"]
    if n <= 0 or short["executions"] != BLOCK:
        raise SystemExit(f"runs stopped early ({short['executions']}, "
                         f"{long['executions']} executions): a finding?")
    return (long[key] - short[key]) / n


def timing(trees: dict[str, Path], reps: int, strategy: str, scale: float) -> list[str]:
    per: dict[tuple[str, str], list[float]] = {}
    steps: dict[tuple[str, str], set[float]] = {}
    order = list(trees)
    for rep in range(reps):
        for scenario, m in SCENARIOS.items():
            for name in (order if rep % 2 == 0 else order[::-1]):
                short = timed(trees[name], scenario, BLOCK, strategy)
                long = timed(trees[name], scenario, BLOCK + _scaled(m, scale), strategy)
                cost = marginal(short, long, "cpu")
                per.setdefault((name, scenario), []).append(cost)
                steps.setdefault((name, scenario), set()).add(long["steps"])
                print(f"rep {rep} {scenario} {name}: {1 / cost:.1f} ex/s",
                      file=sys.stderr)
    rows = []
    before, after = order
    for scenario in SCENARIOS:
        rate = {name: 1 / statistics.median(per[(name, scenario)]) for name in order}
        rows.append(f"| {scenario} | {rate[before]:,.1f} | {rate[after]:,.1f} | "
                    f"**{rate[after] / rate[before]:.2f}x** | "
                    f"{_same(steps[(before, scenario)], steps[(after, scenario)])} |")
    return rows


def counting(trees: dict[str, Path], strategy: str, scale: float = 1.0) -> list[str]:
    rows = []
    before, after = list(trees)
    for scenario, counted_m in COUNTED.items():
        m = _scaled(counted_m, scale)
        cost, steps = {}, {}
        for name, tree in trees.items():
            short = counted(tree, scenario, BLOCK, strategy)
            long = counted(tree, scenario, BLOCK + m, strategy)
            cost[name] = marginal(short, long, "instructions")
            steps[name] = {long["steps"]}
            print(f"{scenario} {name}: {cost[name] / 1e6:.1f} M per execution",
                  file=sys.stderr)
        rows.append(f"| {scenario} ({m} executions) | {cost[before] / 1e6:.1f} M | "
                    f"{cost[after] / 1e6:.1f} M | "
                    f"**{cost[before] / cost[after]:.2f}x** | "
                    f"{_same(steps[before], steps[after])} |")
    return rows


def _scaled(m: int, scale: float) -> int:
    return max(BLOCK, int(m * scale) // BLOCK * BLOCK)


def _same(before: set[float], after: set[float]) -> str:
    if len(before) == 1 and before == after:
        return f"yes ({int(next(iter(before))):,})"
    return f"NO ({', '.join(f'{int(s):,}' for s in sorted(before | after))})"


def main() -> None:
    parser = before_after_parser(3, "the executions measured per run")
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": export(args.before, Path(tmp)),
                 "after": export(args.after, Path(tmp))}
        if args.callgrind:
            rows = counting(trees, args.strategy, args.scale)
            header = ("| scenario | before (instructions per execution) | after | "
                      "speed-up | same executions (points) |")
            how = "instructions per execution by callgrind"
        else:
            rows = timing(trees, args.reps, args.strategy, args.scale)
            header = ("| scenario | before ex/s | after ex/s | speed-up | "
                      "same executions (points) |")
            how = f"medians of {args.reps} interleaved repetitions"
    command = "python stress/bench_campaign_speed.py " + " ".join(sys.argv[1:])
    after = "the working tree" if args.after == str(ROOT) else f"`{args.after}`"
    text = "\n".join([
        HEADING, "", f"Command: `{command.strip()}`; before = `{args.before}`, "
        f"after = {after}; strategy `{args.strategy}`; {how}. {args.note}".rstrip(),
        "", *machine(), "", header, "|---|---|---|---|---|", *rows, ""])
    print(text)
    if args.write:
        write_section(HEADING, text, Path(args.write))


if __name__ == "__main__":
    main()
