"""Correct model per new scenario and parameter value: executions, findings.

Usage:
  python stress/clean_settings.py [--executions 100000] [--seed 0]
      [--only NAME,...] [--write]

Each setting (a scenario and the parameter values it differs in) runs on
the correct model with mix, the default strategy, for --executions
executions from base seed --seed, without stopping at a finding; the table
gives executions, seconds and the finding kinds seen (with how many
executions had one).  Settings where the kernel itself has a bug are listed
as such: the 2023 design without a guard gap (StackRot, the syzbot report),
and trees emptied under iterating readers (the NULL dereference of issue
19).  --write puts the table into reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

HEADING = "## Correct model per new setting (stress/clean_settings.py)"
KINDS = ("iterate", "lookup", "walk", "reverse", "prev", "find_vma_prev", "range",
         "mt_find", "mt_for_each", "fault", "maps", "all")
STALE_SLOT = "maple-rebalance-stale-parent-slot"
"""Reverse walks inside a shrinking rebalance (reverse, prev; all has them)."""
SETTINGS: tuple[tuple[str, str, dict[str, object], str], ...] = (
    *((f"read_kind={k}", "rcu_transitions", {"read_kind": k, "op_set": "mprotect"},
       STALE_SLOT if k in ("reverse", "prev", "all") else "") for k in KINDS),
    *((f"read_kind={k}, kernel_fixes=rebalance-parent-slot", "rcu_transitions",
       {"read_kind": k, "op_set": "mprotect", "kernel_fixes": "rebalance-parent-slot"},
       "") for k in ("reverse", "prev", "all")),
    *((f"layout={x}", "rcu_transitions", {"layout": x, "read_kind": "all"}, "")
      for x in ("x86_64", "la57", "dense", "low")),
    ("op_set=mprotect", "rcu_transitions", {"op_set": "mprotect", "read_kind": "all"},
     ""),
    ("op_set=empty, point readers", "rcu_transitions",
     {"op_set": "empty", "read_kind": "walk"}, ""),
    ("op_set=empty, all readers", "rcu_transitions",
     {"op_set": "empty", "read_kind": "all"}, "maple-rewalk-null-node"),
    ("op_set=empty, all readers, kernel_fixes=rewalk-no-node", "rcu_transitions",
     {"op_set": "empty", "read_kind": "all", "kernel_fixes": "rewalk-no-node"}, ""),
    ("stack_expand 2023", "stack_expand", {}, ""),
    ("stack_expand 2023 rcu=false", "stack_expand", {"rcu": False, "readers": 0}, ""),
    ("stack_expand 2023 guard_gap=false", "stack_expand", {"guard_gap": False},
     "StackRot, CVE-2023-3269"),
    ("stack_expand 2023 rcu=false guard_gap=false", "stack_expand",
     {"rcu": False, "guard_gap": False, "readers": 0}, "syzbot, March 2023"),
    ("stack_expand modern", "stack_expand", {"design": "modern"}, ""),
    ("stack_expand modern guard_gap=false", "stack_expand",
     {"design": "modern", "guard_gap": False}, ""),
    ("stack_expand 2021", "stack_expand", {"design": "2021"}, ""),
    ("tree_destroy, point readers", "tree_destroy", {"read_kind": "walk"}, ""),
    ("tree_destroy, all readers", "tree_destroy", {}, "maple-rewalk-null-node"),
    ("tree_destroy, all readers, kernel_fixes=rewalk-no-node", "tree_destroy",
     {"kernel_fixes": "rewalk-no-node"}, ""),
)


def run(scenario: str, params: dict[str, object], executions: int,
        seed: int) -> tuple[int, float, Counter[str]]:
    """Executions run, seconds, and finding kinds counted over them."""
    from rcu_harness.scenarios import explore_scenario

    start = time.perf_counter()
    r = explore_scenario(scenario, params=params, executions=executions, seed=seed,
                         stop_on_first=False)
    kinds = Counter(str(f.kind) for f in r.findings)
    return r.executions, time.perf_counter() - start, kinds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executions", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    lines = [
        HEADING, "",
        f"Command: `python stress/clean_settings.py --executions {args.executions} "
        f"--seed {args.seed} --write` (mix, the default strategy; distinct "
        "findings by kind).", "", *machine(), "",
        "| setting | scenario | executions | seconds | findings "
        "| kernel bug expected |",
        "|---|---|---|---|---|---|",
    ]
    for name, scenario, params, expected in SETTINGS:
        if only and name not in only:
            continue
        n, secs, kinds = run(scenario, params, args.executions, args.seed)
        found = ", ".join(f"{k} ({c})" for k, c in sorted(kinds.items())) or "none"
        lines.append(f"| {name} | {scenario} | {n:,} | {secs:.0f} | {found} | "
                     f"{expected or '-'} |")
        print(lines[-1], flush=True)
    if args.write:
        write_section(HEADING, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
