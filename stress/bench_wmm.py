"""Benchmark: weak memory costs sc nothing; what lkmm costs per scheduling point.

Usage:
  python stress/bench_wmm.py [--before REV] [--k 3] [--workloads a,b] [--write]

Instructions counted by callgrind (immune to the load of a shared machine):
for each workload, ``stress/wmm_probe.py`` runs 1 and 1 + K executions in a
fresh process under ``valgrind --tool=callgrind``; the difference over K is
the cost of one execution, and divided by its scheduling points the cost
of one point.

* sc before / after: the tree at --before (default: main, without the
  memory models) against this tree, both under sequential consistency;
* lkmm / sc: this tree under both memory models, the same executions (the
  same strategy and seeds; lkmm's reads-from choices change the schedules,
  so points are counted per execution).

Workloads: bench_sched.py's ``simstruct`` (4 threads storing and loading
published struct fields) and ``maple`` (two readers iterating a maple tree
while a writer stores, RCU mode), and the default scenarios dup_mmap,
rcu_transitions and mmput_race as a campaign worker runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
WORKLOADS = ("simstruct", "maple", "dup_mmap", "rcu_transitions", "mmput_race")


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", default="main")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated subset of " + ", ".join(WORKLOADS))
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    rows = ["| workload | sc before: instructions per point | sc after | after / "
            "before | lkmm: instructions per point | lkmm / sc (per point) | "
            "lkmm / sc (per execution) |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        before = export(args.before, Path(tmp))
        for w in [w for w in args.workloads.split(",") if w]:
            _, b = per_execution(before, w, "sc", args.k)
            sc_ex, sc = per_execution(ROOT, w, "sc", args.k)
            lk_ex, lk = per_execution(ROOT, w, "lkmm", args.k)
            rows.append(f"| {w} | {b:,.0f} | {sc:,.0f} | **{sc / b:.3f}** | "
                        f"{lk:,.0f} | **{lk / sc:.2f}x** | {lk_ex / sc_ex:.2f}x |")
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=True).stdout.strip()
    text = "\n".join([
        HEADING, "",
        f"Command: `python stress/bench_wmm.py --before {args.before} --k {args.k}"
        f" --workloads {args.workloads}`"
        f" (after: {rev}; instructions counted by callgrind over {args.k} "
        "executions beyond a first one, so start-up and imports cancel out).", "",
        *machine(), "", *rows, "",
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
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
