"""Clean soak: random parameter combinations across every scenario's documented space.

Usage:
  python stress/soak.py [--combinations 36] [--seed 0] [--executions 300]
      [--seconds 60] [--jobs 2] [--scenarios a,b] [--fresh] [--write]

A finding of rcu-harness must mean a bug at every size a scenario documents,
not only at its defaults.  This soak draws ``--combinations`` parameter sets
(round robin over the scenarios of ``rcu-harness list scenarios``), each
parameter from its documented range: a choice uniformly, a boolean by a coin,
an integer log-uniformly between its minimum and maximum (so the sizes span
1 to 2,000 VMAs and 0 to 16 readers, every read kind and design), an
integer without a maximum within 64 of its minimum; a parameter whose
other values lift a kernel guarantee (``child_visible_early``) stays at its
default.  The first combination
of each scenario puts its size parameter (``vmas``) at the maximum.  Each
combination runs as ``rcu-harness stress --scenario ... --set ...`` on the
correct model (the command a user types, the default strategy: aimed-data,
aimed-conflict, aimed-class, aimed-rcu, aimed-pct, aimed-stale, aimed-relay, aimed-site,
aimed-surw, aimed and mix before it; its step bound derived from the
scenario), capped at --executions
executions and --seconds seconds.  Outcomes go to
reports/runs/soak-seed<seed>.jsonl as they arrive (a rerun skips
combinations already there unless --fresh); --write
puts the table into reports/BENCHMARKS.md.  Any finding is listed with its
replay command; the goal is none.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.campaign.jobs import DEFAULT_STRATEGY
from rcu_harness.scenarios.spec import value_text
from stress.benchlib import interruptible, machine, pool_results, write_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Clean soak across the documented parameter space (stress/soak.py)"
UNBOUNDED_SPAN = 64
SIZE_PARAM = "vmas"


def catalog() -> list[dict[str, Any]]:
    """Every scenario with its parameters, as ``rcu-harness list`` prints them."""
    out = subprocess.run([sys.executable, "-m", "rcu_harness", "list", "scenarios",
                          "--json"], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


def draw(param: dict[str, Any], rng: random.Random) -> Any:
    """A value of @param from its documented range."""
    default = param["default"]
    if param["choices"]:
        return rng.choice(param["choices"])
    if isinstance(default, bool):
        return rng.random() < 0.5
    if not isinstance(default, int):
        return default
    low = param["minimum"] if param["minimum"] is not None else 0
    high = param["maximum"] if param["maximum"] is not None else low + UNBOUNDED_SPAN
    span = high - low + 1
    return low + min(span - 1, int(math.exp(rng.random() * math.log(span))) - 1)


def kept(param: dict[str, Any], value: Any) -> Any:
    """@value, or the default of a parameter whose other values lift a kernel
    guarantee (``lifts``): their findings are expected, not bugs.  Drawn
    all the same, so every other parameter gets the value it always got."""
    return param["default"] if param.get("lifts") else value


def combinations(scenarios: list[dict[str, Any]], count: int,
                 seed: int) -> list[dict[str, Any]]:
    """@count combinations, round robin over @scenarios (deterministic)."""
    rng = random.Random(seed)
    out = []
    for k in range(count):
        sc = scenarios[k % len(scenarios)]
        values = {p["name"]: kept(p, draw(p, rng)) for p in sc["params"]}
        if k < len(scenarios):
            for p in sc["params"]:
                if p["name"] == SIZE_PARAM and p["maximum"] is not None:
                    values[SIZE_PARAM] = p["maximum"]
        out.append({"id": k, "scenario": sc["name"], "params": values})
    return out


def run_one(task: tuple[dict[str, Any], int, int]) -> dict[str, Any]:
    """Run one combination through the CLI; its outcome."""
    combo, executions, seconds = task
    settings = [a for k, v in sorted(combo["params"].items())
                for a in ("--set", f"{k}={value_text(v)}")]
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "rcu_harness", "stress", "--scenario",
               combo["scenario"], *settings, "--executions", str(executions),
               "--time", str(seconds), "--json", "--quiet", "--no-report",
               "--out", out]
        began = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
    record: dict[str, Any] = {**combo, "exit": proc.returncode, "wall": round(wall, 1)}
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        record["error"] = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return record
    run = data["runs"][0] if "runs" in data else data
    record.update(executions=run["executions"], steps=run["steps"],
                  benign=run.get("counters", {}), max_steps=run["plan"]["max_steps"],
                  findings=[{"kind": f["kind"], "message": f["message"],
                             "replay": f["replay"], "known": f.get("known")}
                            for f in run.get("findings", [])])
    return record


def load(path: Path) -> dict[int, dict[str, Any]]:
    """Outcomes already in @path, by combination id."""
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    return {r["id"]: r for r in rows}


def new_findings(record: dict[str, Any]) -> list[dict[str, Any]]:
    """@record's findings that are not catalogued kernel bugs."""
    return [f for f in record.get("findings", []) if not f.get("known")]


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The BENCHMARKS.md section."""
    total = sum(r.get("executions", 0) for r in rows)
    found = [r for r in rows if new_findings(r) or r.get("error")]
    known = sorted({f["known"] for r in rows for f in r.get("findings", [])
                    if f.get("known")})
    lines = [HEADING, "",
             f"Command: `python stress/soak.py --combinations {args.combinations} "
             f"--seed {args.seed} --executions {args.executions} --seconds "
             f"{args.seconds} --jobs {args.jobs} --write` ({len(rows)} combinations,"
             f" {total:,} executions; {len(found)} with a new finding or an error;"
             f" catalogued kernel bugs met: {', '.join(known) or 'none'}).", "",
             *machine(), "",
             "| # | scenario | parameters | executions | steps/execution | "
             "unfair_starvation | result |", "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: r["id"]):
        params = ", ".join(f"{k}={value_text(v)}"
                           for k, v in sorted(r["params"].items()))
        n = r.get("executions", 0)
        per = f"{r['steps'] // n:,}" if n else "-"
        starved = r.get("benign", {}).get("unfair_starvation", 0)
        if r.get("error"):
            result = f"error: {r['error']}"
        elif new_findings(r):
            result = "; ".join(f"{f['kind']}: `{f['replay']}`" for f in new_findings(r))
        elif r.get("findings"):
            result = "clean (known: " + ", ".join(
                sorted({f["known"] for f in r["findings"]})) + ")"
        else:
            result = "clean"
        lines.append(f"| {r['id']} | {r['scenario']} | {params} | {n:,} | {per} | "
                     f"{starved} | {result} |")
    lines += ["", "Each row is one `rcu-harness stress` run of the correct model "
              f"(strategy {DEFAULT_STRATEGY}, the default; step bound derived from "
              "the scenario's size), capped "
              f"at {args.executions} executions or {args.seconds} s; the first row of "
              "each scenario has the largest documented tree.  `unfair_starvation` "
              "counts executions in which the strategy starved a thread until the "
              "step bound and the fair continuation then finished every thread "
              "(benign, not a finding).  A catalogued kernel bug "
              "(docs/kernel-findings.md) found on the correct model is a real "
              "finding of the kernel, not a false one: it is named, not counted.  "
              "Rows with few executions are the largest "
              "trees: their cap was the time (one execution of a 2,000-VMA tree "
              "takes tens of seconds), and the soak's purpose there is that a "
              "tree of that size finishes without a false livelock."]
    return "\n".join(lines)


def main() -> int:
    """Run the soak; print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--combinations", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--executions", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    scenarios = catalog()
    if args.scenarios:
        wanted = args.scenarios.split(",")
        scenarios = [s for s in scenarios if s["name"] in wanted]
    path = ROOT / "reports" / "runs" / f"soak-seed{args.seed}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh and path.exists():
        path.unlink()
    done = load(path)
    todo = [c for c in combinations(scenarios, args.combinations, args.seed)
            if c["id"] not in done]
    with path.open("a") as out:
        for record in pool_results(
                run_one, [(c, args.executions, args.seconds) for c in todo],
                args.jobs):
            out.write(json.dumps(record) + "\n")
            out.flush()
            done[record["id"]] = record
            verdict = "clean" if not (new_findings(record) or record.get("error")) \
                else "FOUND"
            print(f"[{len(done)}/{args.combinations}] #{record['id']} "
                  f"{record['scenario']} {record.get('executions', 0)} ex: {verdict}",
                  flush=True)
    rows = [done[c["id"]] for c in combinations(scenarios, args.combinations,
                                                args.seed) if c["id"] in done]
    text = table(rows, args)
    print(text)
    if args.write:
        write_section(HEADING, text)
    return 1 if any(new_findings(r) or r.get("error") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(interruptible(main, "every finished combination is kept in "
                                   "reports/runs/soak-seed*.jsonl; the same "
                                   "command skips them"))
