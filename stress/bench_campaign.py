"""Campaign benchmarks: executions/s with --jobs 1 and --jobs 2, and memory.

Scaling: the default job (stress/default.toml) is run through the real
command line (``python -m rcu_harness stress --json``) with ``--jobs 1``
and ``--jobs 2`` alternately (1, 2, 2, 1, ... so that drift in the load of
a shared machine falls on both), each run limited to ``--seconds``.  The
rate of a run is its executions over its own wall seconds (process start
and pct calibration excluded, worker start-up included); the speed-up is
the ratio of total executions over total seconds.  That wall-clock figure
depends on what else the machine runs (with the kernel's autogroup
scheduling, a busy session elsewhere leaves this one about one core however
many processes it starts), so two load-independent figures come with it:
the CPU seconds per execution of the whole process tree (coordinator, fork
server, workers; sampled from /proc) with each setting, and a control: the
CPU seconds of one single-process campaign run alone and run beside an
identical one, which is the machine's own ceiling for two busy processes.
Worker start-up time of the ``forkserver`` and ``spawn`` start methods is
measured on the side.

Memory: one campaign of ``--memory`` executions of a small scenario
(mmput_race, vmas=4, pct) run in this process with ``--jobs 1`` (so every
byte is in this process), resident set size sampled from /proc as the
campaign passes 1,000, 10,000, 20,000, ... executions.

    python stress/bench_campaign.py --seconds 20 --reps 2 --memory 100000 \
        --quiet-load 0.5 --write reports/BENCHMARKS.md

Each part writes its own section of reports/BENCHMARKS.md (``--no-scaling``
or ``--memory 0`` skip one).
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
SCALING = "## Campaigns: --jobs 1 vs --jobs 2 (stress/bench_campaign.py)"
MEMORY = "## Campaigns: memory over a long run (stress/bench_campaign.py)"


TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of @root and every descendant in @seen."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    for pid in cpu:
        p = pid
        while p > 1 and p != root:
            p = parents.get(p, 0)
        if p == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu[pid])


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


def run_default_job(jobs: int, seconds: int, out: Path
                    ) -> tuple[list[dict[str, Any]], float, float]:
    """Run the default job once; the per-run JSON objects, the CPU seconds its
    whole process tree used (sampled from /proc every 0.1 s) and the CPU
    seconds every other process on the machine used meanwhile."""
    machine_before = busy_seconds()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcu_harness", "stress", "--jobs", str(jobs), "--time",
         str(seconds), "--out", str(out), "--json", "--quiet", "--no-report"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen: dict[int, float] = {}
    while proc.poll() is None:
        _tree_cpu(proc.pid, seen)
        time.sleep(0.1)
    stdout, stderr = proc.communicate()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"stress failed: {stderr.strip()}")
    mine = sum(seen.values())
    others = max(busy_seconds() - machine_before - mine, 0.0)
    return json.loads(stdout)["runs"], mine, others


def scaling(seconds: int, reps: int
            ) -> tuple[list[str], dict[int, float], dict[int, float], dict[int, float]]:
    """Table rows per scenario and jobs, the total rate per jobs, the CPU
    seconds per execution per jobs (whole process tree), and the CPU seconds
    other processes used meanwhile, per jobs."""
    totals: dict[int, list[float]] = {1: [0, 0], 2: [0, 0]}
    cpu: dict[int, float] = {1: 0.0, 2: 0.0}
    foreign: dict[int, float] = {1: 0.0, 2: 0.0}
    per: dict[tuple[str, int], list[float]] = {}
    order = [j for _ in range(reps) for j in (1, 2, 2, 1)][: 2 * reps]
    with tempfile.TemporaryDirectory() as tmp:
        for k, jobs in enumerate(order):
            runs, used, others = run_default_job(jobs, seconds, Path(tmp) / str(k))
            cpu[jobs] += used
            foreign[jobs] += others
            for r in runs:
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
    per_exec = {j: cpu[j] / totals[j][0] for j in cpu}
    return rows, rate, per_exec, foreign


def _single(out: Path, executions: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "rcu_harness", "stress", "--scenario", "mmput_race",
         "--executions", str(executions), "--time", "0", "--jobs", "1", "--out",
         str(out), "--quiet", "--no-report"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def _cpu_of(proc: subprocess.Popen[bytes]) -> float:
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def contention(executions: int = 3000) -> tuple[float, float]:
    """CPU seconds of one ``--jobs 1`` campaign run alone, and run beside an
    identical one (the machine's own parallel efficiency, no coordinator)."""
    with tempfile.TemporaryDirectory() as tmp:
        alone = [_cpu_of(_single(Path(tmp), executions)) for _ in range(2)]
        pair = [_single(Path(tmp), executions) for _ in range(2)]
        side = [_cpu_of(p) for p in pair]
    return sum(alone) / 2, sum(side) / 2


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


def _header(heading: str, command: str, load: tuple[float, float]) -> list[str]:
    return [heading, "", f"Command: `{command}`", "", *machine(),
            f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}"
            " (a shared VM: other work competes for the 2 cores)", ""]


def scaling_section(args: argparse.Namespace, rows: list[str], rate: dict[int, float],
                    per_exec: dict[int, float], foreign: dict[int, float],
                    starts: dict[str, list[float]], pair: tuple[float, float],
                    load: tuple[float, float]) -> str:
    """The markdown section of the scaling benchmark."""
    command = (f"python stress/bench_campaign.py --seconds {args.seconds} --reps "
               f"{args.reps} --memory 0" + (f" --quiet-load {args.quiet_load}"
                                            if args.quiet_load else ""))
    lines = _header(SCALING, command, load)
    lines += [f"The default job, each run limited to {args.seconds} s, run through "
              f"the CLI {args.reps} time(s) with each setting, alternated 1, 2, 2, 1."
              "  Rates are executions over the runs' own wall seconds (worker "
              "start-up included, process start and pct calibration not).", "",
              "| run | executions (jobs 1) | exec/s (jobs 1) | executions (jobs 2)"
              " | exec/s (jobs 2) | speed-up |", "|---|---|---|---|---|---|", *rows, "",
              f"Goal: at least 1.8x on 2 cores.  Measured: "
              f"**{rate[2] / rate[1]:.2f}x**, while other processes on the machine "
              f"used {foreign[1]:.0f} CPU s during the --jobs 1 runs and "
              f"{foreign[2]:.0f} CPU s during the --jobs 2 runs (0 on an idle "
              "machine).", "",
              "CPU seconds per execution, whole process tree (coordinator, fork "
              "server, workers; sampled from /proc): "
              f"{per_exec[1] * 1000:.2f} ms with --jobs 1, "
              f"{per_exec[2] * 1000:.2f} ms with --jobs 2.  On an otherwise idle "
              "2-core machine that bounds the speed-up at "
              f"2 x {per_exec[1] * 1000:.2f} / {per_exec[2] * 1000:.2f} = "
              f"**{2 * per_exec[1] / per_exec[2]:.2f}x**; this figure does not "
              "depend on other load.", "",
              "Control, without the campaign machinery: the same mmput_race "
              "campaign of 3,000 executions with --jobs 1 uses "
              f"{pair[0]:.2f} CPU s alone and {pair[1]:.2f} CPU s when an identical "
              "one runs beside it, so two busy processes on this VM cannot exceed "
              f"**{2 * pair[0] / pair[1]:.2f}x** whatever the harness does.", "",
              "Worker start-up, 2 workers, until both returned a first result, for "
              "three pools made one after the other (one per run of a job): "
              + "; ".join(f"{m} " + ", ".join(f"{s:.2f}" for s in t) + " s"
                          for m, t in starts.items()) + ".", ""]
    return "\n".join(lines)


def memory_section(args: argparse.Namespace, mem: list[tuple[int, float, float]],
                   load: tuple[float, float]) -> str:
    """The markdown section of the memory benchmark."""
    first = next(s for s in mem if s[0] >= 1000)
    last = mem[-1]
    lines = _header(MEMORY, f"python stress/bench_campaign.py --no-scaling --memory "
                    f"{args.memory}", load)
    lines += ["mmput_race (vmas=4, pct), --jobs 1, one campaign in one process; "
              "resident set size from /proc/self/status.", "",
              "| executions | RSS (MB) | seconds |", "|---|---|---|",
              *(f"| {n:,} | {r:.1f} | {t:.0f} |" for n, r, t in mem), "",
              f"Goal: RSS after {last[0]:,} executions within 50 MB of RSS after "
              f"1,000.  Measured: {first[1]:.1f} MB -> {last[1]:.1f} MB "
              f"(**{last[1] - first[1]:+.1f} MB**).", ""]
    return "\n".join(lines)


def wait_for_quiet(limit: float, patience: float = 1800) -> float:
    """Wait (up to @patience s) until the 1-minute load average is below @limit."""
    began = time.monotonic()
    while os.getloadavg()[0] >= limit and time.monotonic() - began < patience:
        time.sleep(10)
    return os.getloadavg()[0]


def main() -> None:
    """Run the benchmarks; print (and optionally write) the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--memory", type=int, default=100_000,
                        help="executions of the memory campaign (0: skip)")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--write", type=Path)
    parser.add_argument("--quiet-load", type=float, default=0.0, metavar="L",
                        help="first wait until the 1-minute load average is below L"
                        " (a shared machine)")
    args = parser.parse_args()
    if args.quiet_load:
        wait_for_quiet(args.quiet_load)
    sections = []
    if not args.no_scaling:
        before = os.getloadavg()[0]
        starts = {m: startup(m) for m in ("forkserver", "spawn")}
        rows, rate, per_exec, foreign = scaling(args.seconds, args.reps)
        pair = contention()
        sections.append((SCALING, scaling_section(args, rows, rate, per_exec,
                                                  foreign, starts, pair,
                                                  (before, os.getloadavg()[0]))))
    if args.memory:
        before = os.getloadavg()[0]
        mem = memory(args.memory)
        sections.append((MEMORY, memory_section(args, mem,
                                                (before, os.getloadavg()[0]))))
    for heading, text in sections:
        print(text)
        if args.write:
            write_section(heading, text, args.write)


if __name__ == "__main__":
    main()
