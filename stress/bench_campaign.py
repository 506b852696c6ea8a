"""Campaign benchmarks: executions/s with --jobs 1 and --jobs 2, and memory.

Scaling: the default job (stress/default.toml) is run through the real
command line (``python -m rcu_harness stress --json``) with ``--jobs 1``
and ``--jobs 2`` alternately (1, 2, 2, 1, ... so that drift in the load of
a shared machine falls on both), each run limited to ``--seconds``.  The
rate of a run is its executions over its own wall seconds (process start
and pct calibration excluded, worker start-up included); the speed-up is
the ratio of total executions over total seconds.  Worker start-up time of
the ``forkserver`` and ``spawn`` start methods is measured on the side.

Memory: one campaign of ``--memory`` executions of a small scenario
(mmput_race, vmas=4, pct) run in this process with ``--jobs 1`` (so every
byte is in this process), resident set size sampled from /proc as the
campaign passes 1,000, 10,000, 20,000, ... executions.

    python stress/bench_campaign.py --seconds 20 --reps 2 --memory 100000 \
        --write reports/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Campaigns: --jobs scaling and memory (stress/bench_campaign.py)"


def run_default_job(jobs: int, seconds: int, out: Path) -> list[dict]:
    """Run the default job once; the per-run JSON objects."""
    done = subprocess.run(
        [sys.executable, "-m", "rcu_harness", "stress", "--jobs", str(jobs), "--time",
         str(seconds), "--out", str(out), "--json", "--quiet", "--no-report"],
        capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"stress failed: {done.stderr.strip()}")
    return json.loads(done.stdout)["runs"]


def scaling(seconds: int, reps: int) -> tuple[list[str], dict[int, float]]:
    """Table rows per scenario and jobs, and the total rate per jobs."""
    totals: dict[int, list[float]] = {1: [0, 0], 2: [0, 0]}
    per: dict[tuple[str, int], list[float]] = {}
    order = [j for _ in range(reps) for j in (1, 2, 2, 1)][: 2 * reps]
    with tempfile.TemporaryDirectory() as tmp:
        for k, jobs in enumerate(order):
            for r in run_default_job(jobs, seconds, Path(tmp) / str(k)):
                key = (r["label"], jobs)
                acc = per.setdefault(key, [0, 0])
                acc[0] += r["executions"]
                acc[1] += r["wall_seconds"]
                totals[jobs][0] += r["executions"]
                totals[jobs][1] += r["wall_seconds"]
    labels = sorted({label for label, _ in per})
    rows = []
    for label in labels:
        one, two = per[(label, 1)], per[(label, 2)]
        r1, r2 = one[0] / one[1], two[0] / two[1]
        rows.append(f"| {label} | {one[0]:,.0f} | {r1:.1f} | {two[0]:,.0f} | "
                    f"{r2:.1f} | {r2 / r1:.2f}x |")
    rate = {j: t[0] / t[1] for j, t in totals.items()}
    rows.append(f"| **default job** | {totals[1][0]:,.0f} | {rate[1]:.1f} | "
                f"{totals[2][0]:,.0f} | {rate[2]:.1f} | **{rate[2] / rate[1]:.2f}x** |")
    return rows, rate


def startup(method: str, pools: int = 3) -> list[float]:
    """Seconds from creating a 2-worker pool to both workers' first result,
    for @pools pools made one after the other (as a job of several runs does)."""
    from rcu_harness.campaign.executor import ProcessExecutor
    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import resolve
    from rcu_harness.campaign.worker import WorkUnit

    plan = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))
    out = []
    for _ in range(pools):
        began = time.perf_counter()
        pool = ProcessExecutor(2, method)
        futures = [pool.submit(WorkUnit(plan, i, i + 1)) for i in range(2)]
        for f in futures:
            f.result()
        out.append(time.perf_counter() - began)
        pool.shutdown(cancel=False)
    return out


def rss_mb() -> float:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssProbe:
    """A progress sink that samples RSS at execution milestones."""

    def __init__(self, marks: list[int]) -> None:
        self.marks = marks
        self.samples: list[tuple[int, float, float]] = []
        self.began = time.monotonic()

    def update(self, snap: object) -> None:
        n = snap.executions  # type: ignore[attr-defined]
        while self.marks and n >= self.marks[0]:
            self.marks.pop(0)
            self.samples.append((n, rss_mb(), time.monotonic() - self.began))
            print(f"  {n:>7} executions: RSS {self.samples[-1][1]:.1f} MB",
                  file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def memory(executions: int) -> list[tuple[int, float, float]]:
    """RSS samples over one long in-process campaign."""
    from rcu_harness.campaign.coordinator import Interrupt
    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import Budget, resolve
    from rcu_harness.campaign.session import start_run

    plan = resolve(RunSpec("mmput_race", params={"vmas": 4}))
    marks = [1000, *range(10_000, executions + 1, 10_000)]
    if executions not in marks:
        marks.append(executions)
    probe = RssProbe(sorted(marks))
    with tempfile.TemporaryDirectory() as tmp:
        start_run(plan, Budget(executions), out=Path(tmp), jobs=1, progress=probe,
                  interrupt=Interrupt())
    return probe.samples


def report(args: argparse.Namespace, rows: list[str], rate: dict[int, float],
           starts: dict[str, list[float]], mem: list[tuple[int, float, float]],
           load: tuple[float, float]) -> str:
    """The markdown section."""
    lines = [HEADING, "",
             f"Command: `python stress/bench_campaign.py --seconds {args.seconds} "
             f"--reps {args.reps} --memory {args.memory}`", "", *machine(),
             f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}"
             " (other work on this shared VM competes for the 2 cores)", ""]
    if rows:
        lines += ["### Executions/s on the default job, --jobs 1 vs --jobs 2", "",
                  f"Each run limited to {args.seconds} s; {args.reps} repetition(s) "
                  "of each, alternated 1, 2, 2, 1.", "",
                  "| run | executions (jobs 1) | exec/s (jobs 1) | executions (jobs 2)"
                  " | exec/s (jobs 2) | speed-up |", "|---|---|---|---|---|---|",
                  *rows, "",
                  f"Goal: at least 1.8x on 2 cores.  Measured: "
                  f"**{rate[2] / rate[1]:.2f}x**.", ""]
    if starts:
        lines += ["Worker start-up, 2 workers, until both returned a first result, "
                  "for three pools made one after the other (one per run of a job): "
                  + "; ".join(f"{m} " + ", ".join(f"{s:.2f}" for s in t) + " s"
                              for m, t in starts.items()) + ".", ""]
    if mem:
        first = next(s for s in mem if s[0] >= 1000)
        last = mem[-1]
        lines += ["### Resident memory over one long campaign", "",
                  "mmput_race (vmas=4, pct), --jobs 1, in one process.", "",
                  "| executions | RSS (MB) | seconds |", "|---|---|---|",
                  *(f"| {n:,} | {r:.1f} | {t:.0f} |" for n, r, t in mem), "",
                  f"Goal: RSS after {last[0]:,} executions within 50 MB of RSS after "
                  f"1,000.  Measured: {first[1]:.1f} MB -> {last[1]:.1f} MB "
                  f"(**{last[1] - first[1]:+.1f} MB**).", ""]
    return "\n".join(lines)


def main() -> None:
    """Run the benchmarks; print (and optionally write) the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--memory", type=int, default=100_000,
                        help="executions of the memory campaign (0: skip)")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    before = os.getloadavg()[0]
    rows: list[str] = []
    rate: dict[int, float] = {}
    starts: dict[str, list[float]] = {}
    if not args.no_scaling:
        starts = {m: startup(m) for m in ("forkserver", "spawn")}
        rows, rate = scaling(args.seconds, args.reps)
    mem = memory(args.memory) if args.memory else []
    text = report(args, rows, rate, starts, mem, (before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(HEADING, text, args.write)


if __name__ == "__main__":
    main()
