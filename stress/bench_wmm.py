"""Benchmark: weak memory costs sc nothing; what lkmm costs per scheduling point.

Usage:
  python stress/bench_wmm.py [--before REV] [--k 3] [--workloads a,b] [--cpu REPS]
                             [--write]

Instructions counted by callgrind (immune to the load of a shared machine):
for each workload, ``stress/wmm_probe.py`` runs 1 and 1 + K executions in a
fresh process under ``valgrind --tool=callgrind``; the difference over K is
the cost of one execution, and divided by its scheduling points the cost
of one point.  A callgrind run of a Python process takes minutes on a
loaded machine; ``--cpu REPS`` measures process CPU time instead (the
probe's ``time.process_time``, median of REPS fresh processes of K
executions each, the three configurations interleaved rep by rep).

* sc before / after: the tree at --before (default: main, without the
  memory models) against this tree, both under sequential consistency;
* lkmm / sc: this tree under both memory models, the same executions (the
  same strategy and seeds; lkmm's reads-from choices change the schedules,
  so points are counted per execution).

Workloads: bench_sched.py's ``simstruct`` (4 threads storing and loading
published struct fields) and ``maple`` (two readers iterating a maple tree
while a writer stores, RCU mode), and the default scenarios dup_mmap,
rcu_transitions and mmput_race as a campaign worker runs them; also
``page_fault:modern`` and ``page_fault:vma_refcnt`` (page_fault in each
per-VMA lock design), whose table is a section of its own when only they
are measured (``--workloads page_fault:modern,page_fault:vma_refcnt``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "stress" / "wmm_probe.py"
HEADING = ("## Weak memory: sc unchanged, lkmm cost per scheduling point "
           "(stress/bench_wmm.py)")
PF_HEADING = ("## page_fault: lkmm cost per scheduling point "
              "(stress/bench_wmm.py)")
WORKLOADS = ("simstruct", "maple", "dup_mmap", "rcu_transitions", "mmput_race")
PF_TRAILER = (
    "sc before/after: the same executions (same schedules) in the tree at "
    "--before and in this one, both under sc.  lkmm / sc: this tree under both "
    "memory models, the same strategy and seeds (lkmm's reads-from choices "
    "change the schedules, so points are counted per execution); under lkmm "
    "every access of a published node or struct (maple nodes, VMAs, the mm, "
    "the per-VMA lock words) goes through the model, and every refcount RMW "
    "through its atomicity and ordering.")
PF_WORKLOADS = ("page_fault:modern", "page_fault:vma_refcnt")
"""page_fault in each per-VMA lock design (stress/page_fault_runs.py's
parameters); measured on their own, into their own section."""


def export(rev: str, into: Path) -> Path:
    """The source tree of git revision @rev."""
    tar = into / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), rev],
                   check=True)
    dest = into / "before"
    dest.mkdir()
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    return dest


def measure(tree: Path, workload: str, model: str, n: int) -> tuple[int, int]:
    """(instructions, scheduling points) of @n executions in @tree."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg",
               sys.executable, str(PROBE), str(tree), workload, model, str(n)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from callgrind:\n{proc.stderr}")
    steps = json.loads(proc.stdout.strip().splitlines()[-1])["steps"]
    return int(match.group(1)), int(steps)


def per_execution(tree: Path, workload: str, model: str, k: int) -> tuple[float, float]:
    """(instructions per execution, per scheduling point) over @k executions."""
    one, steps1 = measure(tree, workload, model, 1)
    more, steps = measure(tree, workload, model, 1 + k)
    ins = (more - one) / k
    points = (steps - steps1) / k
    print(f"{tree.name} {workload} {model}: {ins / 1e6:.1f} M/ex, "
          f"{ins / points:,.0f}/point", file=sys.stderr, flush=True)
    return ins, ins / points


def cpu_costs(trees: list[tuple[Path, str]], workload: str, k: int,
              reps: int) -> list[tuple[float, float]]:
    """(seconds per execution, per scheduling point) of @k executions of
    @workload in each (tree, model) of @trees: the median process CPU time
    of @reps fresh processes, the configurations interleaved rep by rep."""
    cpu: list[list[float]] = [[] for _ in trees]
    steps = [0] * len(trees)
    for _ in range(reps):
        for i, (tree, model) in enumerate(trees):
            proc = subprocess.run(
                [sys.executable, str(PROBE), str(tree), workload, model, str(k)],
                capture_output=True, text=True, check=True,
                env=dict(os.environ, PYTHONHASHSEED="0"))
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            cpu[i].append(float(out["cpu"]))
            steps[i] = int(out["steps"])
    costs = [(statistics.median(c) / k, statistics.median(c) / n)
             for c, n in zip(cpu, steps, strict=True)]
    print(f"{workload}: " + ", ".join(f"{1e6 * pt:.2f} us/point" for _, pt in costs),
          file=sys.stderr, flush=True)
    return costs


def cpu_rows(before: Path, workloads: list[str], k: int, reps: int) -> list[str]:
    """The table of --cpu: microseconds of process CPU time per point."""
    rows = ["| workload | sc before: us per point | sc after | after / before | "
            "lkmm: us per point | lkmm / sc (per point) | lkmm / sc (per "
            "execution) |", "|---|---|---|---|---|---|---|"]
    for w in workloads:
        (_, b), (sc_ex, sc), (lk_ex, lk) = cpu_costs(
            [(before, "sc"), (ROOT, "sc"), (ROOT, "lkmm")], w, k, reps)
        rows.append(f"| {w} | {1e6 * b:.2f} | {1e6 * sc:.2f} | **{sc / b:.3f}** | "
                    f"{1e6 * lk:.2f} | **{lk / sc:.2f}x** | {lk_ex / sc_ex:.2f}x |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", default="main")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated, of " + ", ".join(WORKLOADS + PF_WORKLOADS))
    p.add_argument("--cpu", type=int, default=0, metavar="REPS",
                   help="measure process CPU time (median of REPS interleaved "
                   "fresh processes of --k executions) instead of callgrind's "
                   "instructions: minutes instead of an hour, noisier")
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    workloads = [w for w in args.workloads.split(",") if w]
    if args.cpu:
        with tempfile.TemporaryDirectory() as tmp:
            rows = cpu_rows(export(args.before, Path(tmp)), workloads, args.k,
                            args.cpu)
        write(args, rows, f"process CPU time, median of {args.cpu} interleaved "
              f"fresh processes of {args.k} executions each")
        return
    rows = ["| workload | sc before: instructions per point | sc after | after / "
            "before | lkmm: instructions per point | lkmm / sc (per point) | "
            "lkmm / sc (per execution) |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        before = export(args.before, Path(tmp))
        for w in workloads:
            _, b = per_execution(before, w, "sc", args.k)
            sc_ex, sc = per_execution(ROOT, w, "sc", args.k)
            lk_ex, lk = per_execution(ROOT, w, "lkmm", args.k)
            rows.append(f"| {w} | {b:,.0f} | {sc:,.0f} | **{sc / b:.3f}** | "
                        f"{lk:,.0f} | **{lk / sc:.2f}x** | {lk_ex / sc_ex:.2f}x |")
    write(args, rows, f"instructions counted by callgrind over {args.k} "
          "executions beyond a first one, so start-up and imports cancel out")


def write(args: argparse.Namespace, rows: list[str], how: str) -> None:
    """Print the section (and put it into BENCHMARKS.md with --write)."""
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=True).stdout.strip()
    options = " ".join(a for a in sys.argv[1:] if a != "--write")
    page_fault = all(w.startswith("page_fault") for w in args.workloads.split(","))
    heading = PF_HEADING if page_fault else HEADING
    text = "\n".join([
        heading, "",
        f"Command: `python stress/bench_wmm.py {options}` (after: {rev}; "
        f"before: {args.before}; {how}).", "",
        *machine(), "", *rows, "", PF_TRAILER if page_fault else
        "sc before/after: the same executions (same schedules) in the tree "
        "without memory models and in this one; the difference is the barrier "
        "calls (`node.port.smp_rmb()` in `ma_dead_node()`, a bound no-op under "
        "sc), `rcu_assign_pointer()` as a port call, one attribute test on the "
        "struct-field and lock paths.  lkmm: every access of a published node "
        "or struct takes the port's general path and the model (a history "
        "per word, views, a reads-from choice where there is more than one "
        "store), and every store a private node's initialisation makes is "
        "recorded too.", ""])
    print(text)
    if args.write:
        write_section(heading, text)


if __name__ == "__main__":
    main()
