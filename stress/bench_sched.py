"""Benchmark: cost of one scheduling point vs a bare greenlet switch round trip.

Workloads (each run as one execution, timed end to end, divided by the
number of scheduling points it made):

* ``simstruct``: 4 threads, each doing N loads/stores of published SimStruct
  fields (every access a scheduling point);
* ``maple``: 2 readers iterating a maple tree under rcu_read_lock() while a
  writer stores in RCU mode (model work included, so it is slower per point);
* ``maple-noprivate``: the same with the private-node optimisation off.

The bare baseline is two greenlets switching to each other in a loop (one
round trip = two switches).  Repetitions of every measurement are
interleaved to be fair on a noisy machine, garbage from the previous
measurement is collected before each one, times are process CPU time
(``time.process_time``: other processes on the 2-core machine do not count),
and medians are reported.

Usage: python stress/bench_sched.py [--reps 7] [--write reports/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenlet

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.reads_from import ReadsFromCoverage
from rcu_harness.kernel import SimStruct
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.protocol import Guided
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from rcu_harness.sched.rff import CorpusEntry
from stress.benchlib import machine, write_section

HEADING = "## Scheduler hot path (stress/bench_sched.py)"


class Cell(SimStruct):
    fields = ("value", "other")


def bare_roundtrip(n: int = 200_000) -> float:
    """Seconds per switch round trip between two greenlets."""

    def pong() -> None:
        while True:
            ping.switch()

    def run() -> None:
        for _ in range(n):
            g_pong.switch()

    ping = greenlet.greenlet(run)
    g_pong = greenlet.greenlet(pong)
    start = time.process_time()
    ping.switch()
    return (time.process_time() - start) / n


class _Prop:
    @property
    def x(self) -> int:
        return 0

    @x.setter
    def x(self, target) -> None:
        target.switch()


def property_roundtrip(n: int = 200_000) -> float:
    """Seconds per round trip when each switch is made inside a property setter.

    Every SimStruct field access is a property, so this is the floor of a
    switching scheduling point: the switch then saves a deeper C stack.
    """
    obj = _Prop()

    def pong() -> None:
        while True:
            obj.x = ping

    def run() -> None:
        for _ in range(n):
            obj.x = g_pong

    ping = greenlet.greenlet(run)
    g_pong = greenlet.greenlet(pong)
    start = time.process_time()
    ping.switch()
    return (time.process_time() - start) / n


def simstruct_program(n: int):
    def program(h):
        cells = [h.static(Cell, value=0, other=0) for _ in range(4)]

        def worker(k):
            mine = cells[k]
            theirs = cells[(k + 1) % 4]
            for i in range(n):
                mine.value = theirs.other + i
                mine.other = i

        for k in range(4):
            h.spawn(f"w{k}", worker, k)

    return program


def maple_program(writes: int, private: bool = True):
    import maple
    from maple import MT_FLAGS_USE_RCU, MapleTree, MaState, mas_find, mtree_destroy
    from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
    from rcu_harness.memory.maple_port import InstrumentedPort

    def program(h):
        port = InstrumentedPort(h._ex, private_nodes=private)
        mt = MapleTree(MT_FLAGS_USE_RCU, port=port)
        for i in range(40):
            maple.mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def reader():
            for _ in range(3):
                rcu_read_lock()
                mas = MaState(mt, 0, 0)
                while mas_find(mas, maple.ULONG_MAX) is not None:
                    pass
                rcu_read_unlock()

        def writer():
            for k in range(writes):
                maple.mtree_store_range(mt, (k * 37) % 400, (k * 37) % 400 + 3, k)

        h.spawn("r1", reader)
        h.spawn("r2", reader)
        h.spawn("w", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    return program


def _mutating(program, strategy: Guided, seed: int) -> int:
    """Feed guided @strategy a corpus of one execution of @program (its
    execution 0, not timed) and prepare an execution that mutates it."""
    strategy.new_execution(0)
    ex = run_execution(program, strategy, 0, max_steps=10**8, record=0)
    strategy.feed([CorpusEntry(0, 1, ex.schedule().encode())])
    index = 1
    while strategy.new_execution(index) and strategy.parent is None:  # type: ignore[attr-defined]
        index += 1
    return index


def per_point(program, strategy: str, seed: int, record: int = 0,
              coverage: bool = False) -> tuple[float, int, float]:
    """Seconds per point of one execution, its points, and its seconds
    (@coverage: reads-from coverage measured, as rff's runs measure it)."""
    params = {}
    if STRATEGIES[strategy].profiled:  # as a run would: surw's profile first
        params = {"profile": calibrate(program, strategy, seed,
                                       max_steps=10**8)["profile"]}
    rec = make_strategy(strategy, seed, **params)
    index = 0
    if isinstance(rec, Guided):  # as a run uses it: mutating a corpus entry
        index = _mutating(program, rec, seed)
    else:
        rec.new_execution(0)
    checkers = (*default_checkers(), ReadsFromCoverage) if coverage else None
    gc.collect()
    start = time.process_time()
    ex = run_execution(program, rec, index, max_steps=10**8, record=record,
                       checkers=checkers)
    elapsed = time.process_time() - start
    assert ex.violation is None, ex.violation
    return elapsed / ex.step, ex.step, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--points", type=int, default=20_000,
                        help="loads+stores per SimStruct worker / 3")
    parser.add_argument("--write", default="")
    parser.add_argument("--only", default="",
                        help="comma-separated workloads (default: all)")
    args = parser.parse_args()
    simple = simstruct_program(args.points)
    cases = {
        "simstruct/random": (simple, "random", 0),
        "simstruct/pct": (simple, "pct", 0),
        "simstruct/random, events+functions": (simple, "random", 2),
        "maple/random": (maple_program(60), "random", 0),
        "maple/pct": (maple_program(60), "pct", 0),
        "maple-noprivate/random": (maple_program(60, private=False), "random", 0),
        "simstruct/pos": (simple, "pos", 0),
        "simstruct/surw": (simple, "surw", 0),
        "maple/pos": (maple_program(60), "pos", 0),
        "maple/surw": (maple_program(60), "surw", 0),
        "simstruct/rff": (simple, "rff", 0),
        "maple/rff": (maple_program(60), "rff", 0),
        "maple/random+coverage": (maple_program(60), "random", 0, True),
        "maple/rff+coverage": (maple_program(60), "rff", 0, True),
        "simstruct/pct-sync": (simple, "pct-sync", 0),
        "maple/pct-sync": (maple_program(60), "pct-sync", 0),
        "simstruct/random-sync": (simple, "random-sync", 0),
        "maple/random-sync": (maple_program(60), "random-sync", 0),
    }
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in cases]
        if unknown:
            parser.error(f"unknown workloads {unknown}; known: {list(cases)}")
        cases = {name: cases[name] for name in wanted}
    samples: dict[str, list[float]] = {name: [] for name in
                                       ["bare", "property", *cases]}
    runs: dict[str, list[float]] = {name: [] for name in cases}
    points: dict[str, int] = {}
    for rep in range(args.reps):
        samples["bare"].append(bare_roundtrip())
        samples["property"].append(property_roundtrip())
        for name, (program, strategy, record, *covered) in cases.items():
            cost, n, secs = per_point(program, strategy, rep, record, *covered)
            samples[name].append(cost)
            runs[name].append(secs)
            points[name] = n
    bare = statistics.median(samples["bare"])
    prop = statistics.median(samples["property"])
    rows = [f"| bare greenlet switch round trip | {bare * 1e6:.3f} | "
            f"{1 / bare:,.0f} | 1.00 | - | - |",
            f"| round trip switching inside a property setter | {prop * 1e6:.3f} "
            f"| {1 / prop:,.0f} | {prop / bare:.2f} | - | - |"]
    for name in cases:
        med = statistics.median(samples[name])
        run = statistics.median(runs[name])
        rows.append(f"| {name} | {med * 1e6:.3f} | {1 / med:,.0f} | "
                    f"{med / bare:.2f} | {points[name]:,} | {run * 1e3:.1f} |")
    command = "python stress/bench_sched.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        HEADING, "",
        f"Command: `{command.strip()}` (medians of {args.reps} interleaved "
        "repetitions).", "", *machine(), f"- greenlet {greenlet.__version__}", "",
        "| workload | us per point | points/s | ratio to bare round trip "
        "| points per run | ms per run |",
        "|---|---|---|---|---|---|", *rows, "",
        "Goal: simstruct ratio <= 3 (one scheduling point costs at most three "
        "bare switch round trips).  Exploration records no events (record=0); "
        "a finding's execution is replayed once with events and model "
        "functions (record=2), shown for comparison.  The maple rows include "
        "the model's own work per access; compare maple/random with "
        "maple-noprivate/random by ms per run and points per run for the "
        "private-node optimisation.", "",
        "pos and surw (docs/search.md) are measured as a run uses them: surw "
        "with the profile its calibration measures (not timed), pos with the "
        "access hook it asks for, which on maple nodes sends every observed "
        "access through the port's general path.  rff is measured as a run "
        "uses it: mutating a corpus entry (one execution of the workload, not "
        "timed), without and with the reads-from coverage hook every rff run "
        "installs (+coverage; random+coverage is its cost for random).  "
        "Notes.  `mix`, the default strategy, installs pct's or random's own bound "
        "methods at each execution, so its points cost what theirs do.  A "
        "switching point costs more than a bare switch because the "
        "switch happens inside a property descriptor (a deeper C stack to "
        "save: row 2); with 4 threads, `random` switches at 3 of 4 points, "
        "`pct` rarely.  History of the hot path on this machine: the first "
        "version measured 3.94x (random) and 3.20x (pct); removing the "
        "recording wrapper from the decision path (the execution appends "
        "decisions itself), calling store hooks only for lock-guarded words, "
        "inlining the point into SimStruct accessors and recording no events "
        "during exploration brought it to the table above.  The private-node "
        "optimisation costs about the same wall time per maple execution but "
        "makes about 35% fewer scheduling points, i.e. a smaller interleaving "
        "space for every strategy; it is kept.  This is a shared 2-core VM: "
        "other load moves single numbers by +-20%, so compare ratios from one "
        "run.", ""])
    print(text)
    if args.write:
        write_section(HEADING, text, Path(args.write))


if __name__ == "__main__":
    main()
