"""Correct model per new scenario and parameter value: executions, findings.

Usage:
  python stress/clean_settings.py [--executions 100000] [--seed 0]
      [--chunk 500] [--jobs 1] [--only NAME ...] [--carry REV] [--write]

Each setting (a scenario and the parameter values it differs in) runs on
the correct model with mix (the default strategy when these runs began;
issue 13 asks for mix; the default is now aimed-data), for executions
0..--executions-1 from base seed --seed, without stopping at a finding;
the table gives executions, worker seconds and the finding kinds seen
(with how many executions had one).  The runs are cut into chunks of
--chunk executions, handed out round robin over the settings (a run
stopped early has covered each about equally) and saved as each finishes
in reports/runs/clean-settings-mix-seed<seed>.json: rerunning the same
command (same --chunk) runs only what is missing, so the 100,000
executions per setting can be gathered over several sessions or machines
(stress/clean_runs.py's machinery: execution i depends only on the base
seed and i).  Settings where the kernel itself has a bug are listed as
such: the 2023 design without a guard gap (StackRot, the syzbot report),
reverse walks in a shrinking rebalance (maple-rebalance-stale-parent-slot)
and trees emptied under iterating readers (maple-rewalk-null-node).
--carry REV starts a lost or new state file from this section's table in
reports/BENCHMARKS.md at git revision REV: each setting without a record
gets one record covering executions 0..n-1 of its row (n complete, with the
row's worker seconds and finding counts, marked as carried from REV), and
only the executions after them run; the table says which were carried.
--write puts the table into reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.scenarios.spec import value_text
from stress import clean_runs
from stress.benchlib import interruptible, machine, write_section

ROOT = Path(__file__).resolve().parents[1]

HEADING = "## Correct model per new setting (stress/clean_settings.py)"
KINDS = ("iterate", "lookup", "walk", "reverse", "prev", "find_vma_prev", "range",
         "mt_find", "mt_for_each", "fault", "maps", "all")
STALE_SLOT = "maple-rebalance-stale-parent-slot"
"""Reverse walks inside a shrinking rebalance (reverse, prev).  Not expected of
read_kind=all: with reader_seed 0 and the default 2 reads per reader, its
readers draw find_vma_prev, mt_find and fault, mt_find (no reverse walk)."""
SETTINGS: tuple[tuple[str, str, dict[str, object], str], ...] = (
    *((f"read_kind={k}", "rcu_transitions",
       dict[str, object](read_kind=k, op_set="mprotect"),
       STALE_SLOT if k in ("reverse", "prev") else "") for k in KINDS),
    *((f"read_kind={k}, kernel_fixes=rebalance-parent-slot", "rcu_transitions",
       dict[str, object](read_kind=k, op_set="mprotect",
                         kernel_fixes="rebalance-parent-slot"),
       "") for k in ("reverse", "prev", "all")),
    *((f"layout={x}", "rcu_transitions", dict[str, object](layout=x, read_kind="all"),
       "")
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


STRATEGY = "mix"


def design_of(params: dict[str, object]) -> str:
    """@params as a stress/clean_runs.py configuration string."""
    return "+".join(["default", *(f"{k}={value_text(v)}" for k, v in params.items())])


def state_file(seed: int) -> Path:
    """The resumable state of these runs."""
    return ROOT / "reports" / "runs" / f"clean-settings-{STRATEGY}-seed{seed}.json"


def findings_text(findings: list[dict[str, object]]) -> str:
    """Finding kinds with the executions that had one."""
    kinds: Counter[str] = Counter()
    for f in findings:
        kinds[str(f["kind"])] += int(str(f["count"]))
    return ", ".join(f"{k} ({c})" for k, c in sorted(kinds.items())) or "none"


def carried(rev: str, seed: int) -> dict[str, dict[str, Any]]:
    """This section's table at git revision @rev (run from base seed @seed),
    as one state record per setting (by setting name) covering its complete
    executions."""
    got = subprocess.run(["git", "-C", str(ROOT), "show",
                          f"{rev}:reports/BENCHMARKS.md"],
                         capture_output=True, text=True, check=False)
    if got.returncode:
        raise ValueError("no reports/BENCHMARKS.md at that revision")
    return carried_rows(got.stdout, rev, seed)


def carried_rows(text: str, rev: str, seed: int) -> dict[str, dict[str, Any]]:
    """The records of carried() from the text of a BENCHMARKS.md."""
    lines = text.splitlines()
    if HEADING not in lines:
        raise ValueError(f"no section {HEADING!r}")
    command = lines[lines.index(HEADING) + 2]
    if f"--seed {seed} " not in command:
        raise ValueError(f"its table was not run with --seed {seed}")
    known = {name: (scenario, params) for name, scenario, params, _ in SETTINGS}
    out = {}
    for line in lines[lines.index(HEADING) + 1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] not in known:
            continue
        n, prefix = (int(x.replace(",", "")) for x in
                     cells[2].replace("(", " ").replace(")", " ").split())
        if n != prefix:
            raise ValueError(f"{cells[0]!r} has {n:,} executions but only "
                             f"{prefix:,} complete")
        scenario, params = known[cells[0]]
        findings = [] if cells[4] == "none" else [
            {"kind": kind, "count": int(count.rstrip(")")), "execution": None,
             "message": "", "replay": ""}
            for kind, count in (f.split(" (") for f in cells[4].split(", "))]
        out[cells[0]] = {"key": f"{scenario}/{design_of(params)}/0-{n}",
                         "executions": n, "steps": 0,
                         "seconds": float(cells[3].replace(",", "")),
                         "findings": findings, "carried": rev}
    return out


def carry(rev: str, seed: int,
          chosen: list[tuple[str, str, dict[str, object], str]]) -> None:
    """Give each of @chosen without a record its row of the table at @rev
    (ValueError if the table cannot give them)."""
    path = state_file(seed)
    state = clean_runs.load_state(path)
    rows = carried(rev, seed)
    for name, scenario, params, _ in chosen:
        if name not in rows:
            raise ValueError(f"no row for {name!r}")
        if not clean_runs.records(state, scenario, design_of(params)):
            state[rows[name]["key"]] = rows[name]
    clean_runs.save_state(path, state)


def table(args: argparse.Namespace, chosen: list[tuple[str, str, dict[str, object],
                                                        str]], wall: float) -> str:
    """The BENCHMARKS.md section."""
    state = clean_runs.load_state(state_file(args.seed))
    lines = [
        HEADING, "",
        f"Command: `python stress/clean_settings.py --executions {args.executions} "
        f"--seed {args.seed} --chunk {args.chunk} --jobs {args.jobs} --write` (mix, "
        "the default strategy before aimed; findings by kind, with the "
        f"executions that had one; {wall / 60:.0f} min wall time in the last "
        "invocation; rerunning it runs only the missing chunks).", "", *machine(), "",
        "| setting | scenario | executions (indices 0..n-1 complete) "
        "| worker seconds | findings | kernel bug expected |",
        "|---|---|---|---|---|---|",
    ]
    revs = sorted({str(r["carried"]) for r in state.values() if r.get("carried")})
    if revs:
        lines[2] += (" Executions 0..n-1 of a setting's first record were carried "
                     f"from this table at {', '.join(revs)} (`--carry`), where "
                     "they ran; the executions after them ran here.")
    for name, scenario, params, expected in chosen:
        t = clean_runs.totals(state, scenario, design_of(params))
        lines.append(f"| {name} | {scenario} | {t['executions']:,} "
                     f"({t['prefix']:,}) | {t['seconds']:,.0f} | "
                     f"{findings_text(t['findings'])} | {expected or '-'} |")
    return "\n".join([*lines, ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--executions", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only this setting (repeatable; names contain commas)")
    ap.add_argument("--carry", metavar="REV",
                    help="start settings with no record from this section's "
                         "table at git revision REV")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    only = set(args.only)
    unknown = sorted(only - {s[0] for s in SETTINGS})
    if unknown:
        ap.error(f"unknown settings: {', '.join(unknown)}")
    chosen = [s for s in SETTINGS if not only or s[0] in only]
    if args.carry:
        try:
            carry(args.carry, args.seed, chosen)
        except ValueError as e:
            print(f"clean_settings: --carry {args.carry}: {e}", file=sys.stderr)
            return 2
    configs = [(scenario, design_of(params)) for _, scenario, params, _ in chosen]
    run_args = argparse.Namespace(strategy=STRATEGY, seed=args.seed,
                                  memory_model="sc", executions=args.executions,
                                  chunk=args.chunk, jobs=args.jobs)
    wall = clean_runs.run(run_args, configs, state_file(args.seed))
    text = table(args, chosen, wall)
    print(text)
    if args.write:
        write_section(HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(interruptible(main, clean_runs.KEPT))
