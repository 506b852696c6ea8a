"""Benchmark the maple model against a plain sorted-list interval map.

Usage: python stress/bench_maple.py [--sizes 1000,10000,100000] [--reps 3] [--write]

For each N: N ascending VMA-like stores (mtree_store_range), N random
store/erase operations of churn, and one full mas_for_each() iteration;
ops/s for the model and for a bisect-based interval map measured in the same
run (repetitions interleaved, medians reported), and the model's nodes per
entry.  --write records the table in reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_for_each,
    mtree_erase,
    mtree_store_range,
)
from stress.benchlib import machine, write_section
from tests.maple.intervals import IntervalMap

if TYPE_CHECKING:
    from collections.abc import Callable

HEADING = "## Maple model operations (stress/bench_maple.py)"
PAGE = 0x1000


def workload(n: int, seed: int
             ) -> tuple[list[tuple[int, int]], list[tuple[str, int, int]]]:
    """N ascending VMA ranges, and N churn operations over the same space."""
    rng = random.Random(seed)
    vmas, addr = [], 0x400000
    for _ in range(n):
        size = rng.choice((1, 2, 4, 16, 64)) * PAGE
        vmas.append((addr, addr + size - 1))
        addr += size + rng.choice((0, PAGE, 16 * PAGE))
    churn = []
    for _ in range(n):
        first, _last = vmas[rng.randrange(n)]
        if rng.random() < 0.5:
            start = first + rng.randrange(0, 8) * PAGE
            churn.append(("store", start, start + rng.choice((1, 2, 8)) * PAGE - 1))
        else:
            churn.append(("erase", first, first))
    return vmas, churn


def run_maple(vmas: list[tuple[int, int]], churn: list[tuple[str, int, int]]
              ) -> tuple[float, float, float, float]:
    """Seconds for the three phases, and nodes per entry after the stores."""
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    t0 = time.perf_counter()
    for i, (first, last) in enumerate(vmas):
        mtree_store_range(mt, first, last, i)
    t1 = time.perf_counter()
    nodes = mt.port.accounting().allocated / len(vmas)
    for op, first, last in churn:
        if op == "store":
            mtree_store_range(mt, first, last, first)
        else:
            mtree_erase(mt, first)
    t2 = time.perf_counter()
    mas = MaState(mt, 0, 0)
    sum(1 for _ in mas_for_each(mas, ULONG_MAX))
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, nodes


def run_baseline(vmas: list[tuple[int, int]], churn: list[tuple[str, int, int]]
                 ) -> tuple[float, float, float, float]:
    """The same phases on the sorted-list interval map."""
    ref = IntervalMap()
    t0 = time.perf_counter()
    for i, (first, last) in enumerate(vmas):
        ref.store(first, last, i)
    t1 = time.perf_counter()
    for op, first, last in churn:
        if op == "store":
            ref.store(first, last, first)
        else:
            ref.erase(first)
    t2 = time.perf_counter()
    sum(1 for _ in ref.items())
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, 0.0


def measure(n: int, reps: int) -> list[str]:
    """Table rows for size @n."""
    vmas, churn = workload(n, seed=n)
    runs: dict[str, list[tuple[float, float, float, float]]] = {"maple": [], "list": []}
    impls: dict[str, Callable[..., tuple[float, float, float, float]]] = {
        "maple": run_maple, "list": run_baseline}
    for _ in range(reps):
        for name, impl in impls.items():
            runs[name].append(impl(vmas, churn))
    rows = []
    phases = ("ascending stores", "store/erase churn", "mas_for_each")
    for k, phase in enumerate(phases):
        m = statistics.median(r[k] for r in runs["maple"])
        b = statistics.median(r[k] for r in runs["list"])
        ops = n
        rows.append(f"| {n:,} | {phase} | {ops / m:,.0f} | {ops / b:,.0f} | "
                    f"{b / m:.2f} |")
    nodes = runs["maple"][0][3]
    rows.append(f"| {n:,} | nodes per entry | {nodes:.3f} | - | - |")
    return rows


def main() -> int:
    """Run the benchmark and print (and optionally record) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        rows += measure(n, args.reps)
    command = "python stress/bench_maple.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        HEADING, "",
        f"Command: `{command.strip()}` (medians of {args.reps} interleaved runs; "
        "ops/s, higher is better).", "", *machine(), "",
        "| N | phase | maple model ops/s | sorted-list map ops/s | "
        "model speed / list speed |",
        "|---|---|---|---|---|", *rows, "",
        "The sorted-list map is the simplest correct interval map; it does no "
        "node allocation, no gap tracking and no RCU bookkeeping, so it bounds "
        "what a pure-Python structure can do.  The model pays for fidelity: "
        "every node word goes through the memory port's node arrays.", ""])
    print(text)
    if args.write:
        write_section(HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
