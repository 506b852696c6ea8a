"""Cluster benchmarks: 2 Dask workers against 1, and the cluster's cost per unit.

Scaling: the default job (stress/default.toml) is run as the command line
runs it (:func:`rcu_harness.campaign.session.executors` and
:func:`~rcu_harness.campaign.session.start_run`, in this process) with
``--scheduler local:1``, ``--scheduler local:2`` and, for comparison, the
local pool ``--jobs 2``, alternately (A B C C B A ... so that drift in a
shared machine's load falls on all), each run limited to ``--seconds``.  A
run's rate is its executions over its own wall seconds (cluster start-up,
worker checks and pct calibration excluded); a setting's rate is total
executions over total seconds.  As in bench_campaign.py, the wall-clock
figures depend on what else the machine runs, so the CPU seconds per
execution of the whole process tree during the runs (coordinator with the
LocalCluster's scheduler and nannies, workers; sampled from /proc) come
with them: 2 x (CPU/execution with 1 worker) / (CPU/execution with 2) is the
speed-up an otherwise idle 2-core machine would show.

Overhead per unit: empty units (no execution: the unit's plan, pickling,
the trip to a worker and back, the coordinator's future) pushed through a
2-worker local pool and a 2-worker ``LocalCluster``, 4 in flight, in this
process: seconds per unit of each, and their difference, the cluster's
extra cost per unit (a unit is 16 executions); the same through the
cluster in bundles of ``BUNDLE`` units per task, as campaigns send them
(rcu_harness.campaign.cluster); and the CPU an idle 2-worker
``LocalCluster`` uses per second (heartbeats, monitors, ticks).

    python stress/bench_cluster.py --seconds 20 --reps 1 --units 400 \
        --write reports/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.bench_campaign import _tree_cpu, busy_seconds, wait_for_quiet
from stress.benchlib import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Campaigns on a Dask cluster: 2 workers vs 1 (stress/bench_cluster.py)"
SETTINGS = {"cluster 1": ("--scheduler", "local:1"),
            "cluster 2": ("--scheduler", "local:2"),
            "pool 2": ("--jobs", "2")}
IDLE_SECONDS = 10
HOSTS = (1, 4, 16)
"""Cluster sizes (16-core hosts) of the executions-per-day estimate."""


class TreeCpu:
    """CPU seconds of this process and its descendants, sampled from /proc
    every 0.5 s by a thread (a descendant's last 0.5 s may be missed); the
    sampling's own CPU time is left out."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.own = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _take(self) -> None:
        began = time.thread_time()
        with self._lock:
            _tree_cpu(os.getpid(), self.seen)
            self.own += time.thread_time() - began

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self._take()

    def now(self) -> tuple[dict[int, float], float]:
        """A sample taken now (and the sampling's own CPU so far)."""
        self._take()
        with self._lock:
            return dict(self.seen), self.own

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def used(before: tuple[dict[int, float], float],
         after: tuple[dict[int, float], float]) -> float:
    """CPU seconds spent between two samples, sampling left out."""
    (b, b_own), (a, a_own) = before, after
    return sum(cpu - b.get(pid, 0.0) for pid, cpu in a.items()) - (a_own - b_own)


class Tally:
    """Executions, wall seconds and CPU seconds of one setting."""

    def __init__(self) -> None:
        self.executions = 0
        self.seconds = 0.0
        self.cpu = 0.0
        self.foreign = 0.0
        self.per_run: dict[str, list[float]] = {}

    @property
    def rate(self) -> float:
        return self.executions / self.seconds

    @property
    def cpu_per_execution(self) -> float:
        return self.cpu / self.executions


def run_job(name: str, seconds: int, out: Path, cpu: TreeCpu, t: Tally) -> None:
    """The default job once with setting @name, in this process, into @t: the
    cluster (or pool) is started first and not counted."""
    from rcu_harness.campaign.coordinator import Interrupt
    from rcu_harness.campaign.jobs import DEFAULT_JOB, load_job
    from rcu_harness.campaign.plan import Budget, resolve
    from rcu_harness.campaign.progress import NoProgress
    from rcu_harness.campaign.session import executors, start_run

    job = load_job(DEFAULT_JOB)
    flag, value = SETTINGS[name]
    plans = [(resolve(r), Budget(r.executions, seconds)) for r in job.runs]
    jobs = 2 if name == "pool 2" else None
    machine_before = busy_seconds()
    with executors(value if flag == "--scheduler" else None) as executor_for:
        for plan, budget in plans:
            before = cpu.now()
            r = start_run(plan, budget, out=out, jobs=jobs, progress=NoProgress(),
                          interrupt=Interrupt(), executor_for=executor_for)
            spent = used(before, cpu.now())
            s = r.summary
            t.executions += s.executions
            t.seconds += s.wall_seconds
            t.cpu += spent
            acc = t.per_run.setdefault(s.label, [0, 0.0])
            acc[0] += s.executions
            acc[1] += s.wall_seconds
            print(f"  {name}: {s.label} {s.executions} executions in "
                  f"{s.wall_seconds:.1f} s, {spent:.1f} CPU s", file=sys.stderr,
                  flush=True)
    t.foreign += max(busy_seconds() - machine_before - t.cpu, 0.0)


def scaling(seconds: int, reps: int) -> dict[str, Tally]:
    """Run every setting @reps times, in A B C C B A order."""
    names = list(SETTINGS)
    order = [n for r in range(reps) for n in (names if r % 2 == 0 else names[::-1])]
    tallies = {n: Tally() for n in names}
    cpu = TreeCpu()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for k, name in enumerate(order):
                run_job(name, seconds, Path(tmp) / str(k), cpu, tallies[name])
    finally:
        cpu.close()
    return tallies


def _units_per_second(executor: Any, units: int, bundle: int = 1) -> float:
    """Seconds per empty unit through @executor, 4 tasks in flight, each of
    @bundle units (``submit_many``; 1: ``submit``)."""
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import resolve
    from rcu_harness.campaign.worker import WorkUnit

    plan = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))

    def submit() -> Future[Any]:
        if bundle == 1:
            return executor.submit(WorkUnit(plan, 0, 0))  # type: ignore[no-any-return]
        return executor.submit_many(  # type: ignore[no-any-return]
            [WorkUnit(plan, 0, 0)] * bundle)[-1]

    for f in [submit() for _ in range(4)]:  # warm up
        f.result()
    tasks = max(units // bundle, 4)
    began = time.perf_counter()
    inflight = {submit() for _ in range(4)}
    done = 4
    while inflight:
        finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
        for f in finished:
            f.result()
            if done < tasks:
                inflight.add(submit())
                done += 1
    return (time.perf_counter() - began) / (tasks * bundle)


def overhead(units: int) -> dict[str, float]:
    """Seconds per empty unit: local pool and LocalCluster, 2 workers each."""
    from rcu_harness.campaign.cluster import BUNDLE, Cluster
    from rcu_harness.campaign.executor import ProcessExecutor
    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import resolve

    pool = ProcessExecutor(2)
    try:
        local = _units_per_second(pool, units)
    finally:
        pool.shutdown(cancel=True)
    plan = resolve(RunSpec("mmput_race", strategy="random", params={"vmas": 2}))
    with Cluster("local:2") as cluster:
        dask = _units_per_second(cluster.executor(plan, 4), units)
        bundled = _units_per_second(cluster.executor(plan, 4), units, BUNDLE)
        cpu = TreeCpu()
        try:
            before = cpu.now()
            time.sleep(IDLE_SECONDS)
            idle = used(before, cpu.now()) / IDLE_SECONDS
        finally:
            cpu.close()
    return {"pool 2": local, "cluster 2": dask, "bundled": bundled, "idle": idle}


def section(args: argparse.Namespace, tallies: dict[str, Tally],
            per_unit: dict[str, float], load: tuple[float, float]) -> str:
    """The markdown section."""
    one, two, pool = (tallies[n] for n in ("cluster 1", "cluster 2", "pool 2"))
    speedup = two.rate / one.rate
    bound = 2 * one.cpu_per_execution / two.cpu_per_execution
    rows = []
    for label in sorted(one.per_run):
        cells = []
        for t in (one, two, pool):
            n, s = t.per_run[label]
            cells += [f"{n:,.0f}", f"{n / s:.1f}"]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    rows.append(f"| **default job** | {one.executions:,} | {one.rate:.1f} | "
                f"{two.executions:,} | {two.rate:.1f} | {pool.executions:,} | "
                f"{pool.rate:.1f} |")
    per_core = one.executions / one.seconds
    from rcu_harness.campaign.cluster import BUNDLE as bundle

    extra = per_unit["cluster 2"] - per_unit["pool 2"]
    bundled_extra = per_unit["bundled"] - per_unit["pool 2"]
    unit_seconds = 16 / per_core
    day = [f"{n} host{'s' if n > 1 else ''}: {per_core * 16 * n * 86400:.2e}"
           for n in HOSTS]
    command = (f"python stress/bench_cluster.py --seconds {args.seconds} --reps "
               f"{args.reps} --units {args.units}")
    lines = [HEADING, "", f"Command: `{command}`", "", *machine(),
             f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}"
             " (a shared VM: other work competes for the 2 cores)",
             f"- {_versions()}", "",
             f"The default job, each run limited to {args.seconds} s, run as the "
             f"CLI runs it, {args.reps} time(s) per setting (alternated).  Rates "
             "are executions over the runs' own wall seconds (cluster start-up "
             "and worker checks not included).", "",
             "| run | executions (local:1) | exec/s (local:1) | executions "
             "(local:2) | exec/s (local:2) | executions (--jobs 2) | exec/s "
             "(--jobs 2) |", "|---|---|---|---|---|---|---|", *rows, "",
             f"Goal: 2 cluster workers at least 1.8x one.  Measured wall-clock: "
             f"**{speedup:.2f}x** (the local pool: {pool.rate / one.rate:.2f}x "
             f"the one-worker cluster; 2 cluster workers against the 2-process "
             f"pool, side by side: **{two.rate / pool.rate:.2f}x**), while other "
             "processes used "
             f"{one.foreign:.0f} / {two.foreign:.0f} / {pool.foreign:.0f} CPU s "
             "during the local:1 / local:2 / --jobs 2 runs (0 on an idle "
             "machine).", "",
             "CPU seconds per execution, whole process tree (coordinator, "
             "scheduler, nannies, workers; from /proc): "
             f"{one.cpu_per_execution * 1000:.2f} ms with local:1, "
             f"{two.cpu_per_execution * 1000:.2f} ms with local:2, "
             f"{pool.cpu_per_execution * 1000:.2f} ms with --jobs 2.  On an "
             f"idle 2-core machine that bounds the 2-worker speed-up at "
             f"**{bound:.2f}x**; this figure does not depend on other load.", "",
             f"Overhead per unit ({args.units} empty units, 2 workers, 4 in "
             f"flight): local pool {per_unit['pool 2'] * 1000:.2f} ms, "
             f"LocalCluster {per_unit['cluster 2'] * 1000:.2f} ms, so the "
             f"cluster costs **{extra * 1000:.2f} ms more per unit**, "
             f"{extra / unit_seconds:.1%} of a 16-execution unit of the default "
             f"job ({unit_seconds * 1000:.0f} ms at {per_core:.0f} executions/s "
             f"per worker), when each unit is a task of its own.  In bundles of "
             f"{bundle} units per task, as campaigns send them: "
             f"{per_unit['bundled'] * 1000:.2f} ms per unit, "
             f"**{bundled_extra * 1000:.2f} ms more** than the pool, "
             f"{bundled_extra / unit_seconds:.1%} of a "
             "unit.  An idle local:2 cluster (scheduler and nannies in the "
             "coordinator, 2 worker processes; its timers set as "
             "rcu_harness.campaign.cluster.LOCAL_CONFIG says) uses "
             f"**{per_unit['idle']:.3f} CPU s per second** over "
             f"{IDLE_SECONDS} s.", "",
             f"Per-core rate (one worker, default job): **{per_core:.0f} "
             "executions/s**, so executions per day on 16-core hosts, one "
             "single-threaded worker per core, at that rate: "
             + "; ".join(day) + " (the default job's mix of scenarios; a "
             "scenario's own rate is in the table).", ""]
    return "\n".join(lines)


def _versions() -> str:
    from importlib.metadata import version

    return f"dask {version('dask')}, distributed {version('distributed')}"


def main() -> None:
    """Run the benchmark; print (and optionally write) the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--quiet-load", type=float, default=0.0, metavar="L",
                        help="first wait until the 1-minute load average is below L")
    args = parser.parse_args()
    if args.quiet_load:
        wait_for_quiet(args.quiet_load)
    before = os.getloadavg()[0]
    per_unit = overhead(args.units)
    print(f"  per unit: {per_unit}", file=sys.stderr, flush=True)
    tallies = scaling(args.seconds, args.reps)
    text = section(args, tallies, per_unit, (before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(HEADING, text, args.write)


if __name__ == "__main__":
    main()
