"""Correct model, long runs: N executions per scenario and design, 0 findings.

Usage (normally through ``python stress/scoreboard.py --clean ...``):
  python stress/clean_runs.py [--executions 100000] [--chunk 2000] [--jobs 2]
      [--strategy random] [--seed 0] [--scenarios a,b]
      [--designs 2021,modern]
      [--estimate 1000] [--memory-model lkmm] [--fresh] [--write]

Every scenario runs without a mutant, in each design, for executions
0..N-1 of one campaign (base seed --seed, default strategy random).  The
index range is cut into chunks of --chunk executions that --jobs worker
processes run; execution i's schedule depends only on the base seed and
i, so the split is exact (pct's ``steps`` is calibrated once per scenario,
in the parent, and handed to every chunk).  Each finished chunk is saved
at once to reports/runs/clean-<strategy>-seed<seed>.json: a killed run
resumes where it stopped, and a later invocation with a larger
--executions only runs the missing chunks; the chunks are kept whatever
tree ran them, so after changing the model or the harness, --fresh starts
the campaign over (the state file removed first).  Chunks are handed out round
robin over the scenarios, so a run stopped early has covered each of them
about equally (the report says exactly how many executions each got).
--estimate K times K executions per scenario and design, prints the
projection for --executions, and runs nothing else.  ``--designs default``
runs each scenario in its own default design (tree_destroy has none);
``--memory-model lkmm`` runs under the weak memory model, in a state file
and a report section of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import interruptible, machine, pool_results, write_section

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]


def heading(strategy: str, memory_model: str = "sc") -> str:
    """The BENCHMARKS.md section of the long runs with @strategy."""
    if memory_model != "sc":
        return (f"## Correct model under {memory_model}, long runs with {strategy} "
                f"(stress/scoreboard.py --clean --memory-model {memory_model})")
    return f"## Correct model, long runs with {strategy} (stress/scoreboard.py --clean)"


def settings(design: str, memory_model: str) -> dict[str, str]:
    """The scenario parameters of one configuration: @design is a design
    (``default``: the scenario's own), optionally followed by ``+KEY=VALUE``
    settings (``default+kernel_fixes=rewalk-no-node``)."""
    name, *extra = design.split("+")
    out = {} if name == "default" else {"design": name}
    for item in extra:
        key, _, value = item.partition("=")
        out[key] = value
    if memory_model != "sc":
        out["memory_model"] = memory_model
    return out


SCENARIOS = ("dup_mmap", "rcu_transitions", "mmput_race")
DESIGNS = ("2021", "modern")

Chunk = tuple[str, str, int, int]
"""(scenario, design, first execution, end execution)."""


def run_chunk(task: tuple[Chunk, str, int, dict[str, Any], str]) -> dict[str, Any]:
    """Run executions [first, end) of one scenario and design; its record
    (each distinct finding once, with the executions that saw it)."""
    from rcu_harness.runner.block import run_block
    from rcu_harness.scenarios import applied, configure, program, replay_command
    from rcu_harness.sched.registry import make_strategy

    (scenario, design, first, end), strategy, seed, params, model = task
    cfg = configure(scenario, settings(design, model))

    def command(i: int, _schedule: Any) -> str:
        return replay_command(cfg, strategy=strategy, seed=seed, execution=i,
                              strategy_params=params)

    start = time.perf_counter()
    with applied(cfg.mutant, cfg.fixes):
        block = run_block(program(cfg), make_strategy(strategy, seed, **params),
                          first, end, command=command, seen=set(), keep_going=True)
    counts: dict[str, int] = {}
    for r in block.executions:
        if r.signature is not None:
            counts[r.signature] = counts.get(r.signature, 0) + 1
    findings = [{"execution": d.finding.execution, "kind": d.finding.kind,
                 "message": d.finding.message[:200],
                 "count": counts[d.finding.signature],
                 "replay": d.finding.replay_command} for d in block.findings]
    return {"key": chunk_key((scenario, design, first, end)),
            "executions": len(block.executions),
            "steps": sum(r.steps for r in block.executions), "findings": findings,
            "seconds": time.perf_counter() - start}


def run_threaded_clean(task: tuple[str, str, float, int]) -> dict[str, Any]:
    """The correct scenario on OS threads for a fixed time; every finding."""
    from rcu_harness.runner.threaded import run_threaded
    from rcu_harness.scenarios import configure, program

    scenario, design, seconds, seed = task
    r = run_threaded(program(configure(scenario, {"design": design})),
                     duration=seconds, seed=seed, stop_on_first=False)
    return {"key": threaded_key(scenario, design, seconds),
            "executions": r.executions, "seconds": r.wall_time,
            "findings": [{"execution": f.execution, "kind": f.kind,
                          "message": f.message[:200]} for f in r.findings]}


def threaded_key(scenario: str, design: str, seconds: float) -> str:
    """Identity of an OS-thread run in the state file."""
    return f"threads/{scenario}/{design}/{seconds:g}s"


def chunk_key(c: Chunk) -> str:
    """Identity of a chunk in the state file."""
    return f"{c[0]}/{c[1]}/{c[2]}-{c[3]}"


def chunks(configs: list[tuple[str, str]], executions: int, size: int) -> list[Chunk]:
    """Every chunk, round robin over the configurations."""
    out = []
    for first in range(0, executions, size):
        for scenario, design in configs:
            out.append((scenario, design, first, min(first + size, executions)))
    return out


def state_path(strategy: str, seed: int, memory_model: str = "sc") -> Path:
    """The resumable state file of one campaign."""
    model = "" if memory_model == "sc" else f"-{memory_model}"
    return ROOT / "reports" / "runs" / f"clean-{strategy}-seed{seed}{model}.json"


def load_state(path: Path) -> dict[str, Any]:
    """Finished chunks by key (empty if none yet)."""
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write @state atomically (a kill never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=0, sort_keys=True))
    os.replace(tmp, path)


def strategy_params(configs: list[tuple[str, str]], strategy: str,
                    seed: int, memory_model: str = "sc") -> dict[str, dict[str, Any]]:
    """Per configuration, the strategy parameters (pct: calibrated steps)."""
    from rcu_harness.runner.block import calibrate
    from rcu_harness.scenarios import applied, configure, program

    out = {}
    for s, d in configs:
        cfg = configure(s, settings(d, memory_model))
        with applied(cfg.mutant, cfg.fixes):
            out[f"{s}/{d}"] = calibrate(program(cfg), strategy, seed)
    return out


def run(args: argparse.Namespace, configs: list[tuple[str, str]],
        path: Path | None = None) -> float:
    """Run every missing chunk (into the state file @path, by default the
    campaign's own); returns the wall seconds spent."""
    path = path or state_path(args.strategy, args.seed, args.memory_model)
    state = load_state(path)
    done = {f"{s}/{d}": ranges(state, s, d) for s, d in configs}
    todo = [c for c in chunks(configs, args.executions, args.chunk)
            if not any(a <= c[2] and c[3] <= b for a, b in done[f"{c[0]}/{c[1]}"])]
    params = strategy_params(configs, args.strategy, args.seed, args.memory_model)
    tasks = [(c, args.strategy, args.seed, params[f"{c[0]}/{c[1]}"],
              args.memory_model) for c in todo]
    start = time.perf_counter()
    if getattr(args, "threaded_seconds", 0):
        threaded = [(s, d, args.threaded_seconds, args.seed) for s, d in configs
                    if threaded_key(s, d, args.threaded_seconds) not in state]
        _collect(pool_results(run_threaded_clean, threaded, args.jobs, 10), state,
                 path, start)
    _collect(pool_results(run_chunk, tasks, args.jobs, 10), state, path, start)
    return time.perf_counter() - start


def _collect(records: Iterator[dict[str, Any]], state: dict[str, Any],
             path: Path, start: float) -> None:
    """Save each finished record at once and print progress."""
    for rec in records:
        state[rec["key"]] = rec
        save_state(path, state)
        print(f"[{time.perf_counter() - start:7.0f}s] {rec['key']}: "
              f"{rec['executions']} executions in {rec['seconds']:.0f} s, "
              f"{len(rec['findings'])} findings", flush=True)


def records(state: dict[str, Any], scenario: str, design: str) -> list[dict[str, Any]]:
    """The chunk records of one configuration (a record may cover more than
    one chunk: a range carried from an earlier table, say)."""
    return [r for k, r in state.items() if k.startswith(f"{scenario}/{design}/")
            and k[len(scenario) + len(design) + 2:][:1].isdigit()]


def ranges(state: dict[str, Any], scenario: str, design: str) -> list[tuple[int, int]]:
    """The execution index ranges [first, end) recorded for one configuration,
    sorted."""
    return sorted((int(a), int(b)) for a, b in
                  (r["key"].rsplit("/", 1)[1].split("-")
                   for r in records(state, scenario, design)))


def totals(state: dict[str, Any], scenario: str, design: str) -> dict[str, Any]:
    """Executions, findings, steps and seconds of one configuration."""
    recs = records(state, scenario, design)
    prefix = 0
    for first, end in ranges(state, scenario, design):
        if first != prefix:
            break
        prefix = end
    return {"executions": sum(r["executions"] for r in recs), "prefix": prefix,
            "findings": [f for r in recs for f in r["findings"]],
            "steps": sum(r["steps"] for r in recs),
            "seconds": sum(r["seconds"] for r in recs)}


def report(args: argparse.Namespace, configs: list[tuple[str, str]],
           wall: float) -> str:
    """The BENCHMARKS.md section."""
    path = state_path(args.strategy, args.seed, args.memory_model)
    state = load_state(path)
    rows = ["| scenario | design | executions (indices 0..n-1 complete) | findings "
            "| steps per execution | worker wall s (sum of chunks) "
            "| ms per execution |",
            "|---|---|---|---|---|---|---|"]
    notes = []
    for s, d in configs:
        t = totals(state, s, d)
        n = max(1, t["executions"])
        rows.append(f"| {s} | {d} | {t['executions']:,} ({t['prefix']:,}) | "
                    f"{len(t['findings'])} | {t['steps'] / n:,.0f} | "
                    f"{t['seconds']:,.0f} | {1000 * t['seconds'] / n:.1f} |")
        notes += [f"- {s}/{d} execution {f['execution']}: {f['kind']}: "
                  f"{f['message']} (`{f['replay']}`)" for f in t["findings"][:5]]
    command = "python stress/scoreboard.py --clean " + " ".join(
        a for a in sys.argv[1:] if a not in ("--clean", "--write"))
    threaded = threaded_rows(state, configs)
    return "\n".join([
        heading(args.strategy, args.memory_model), "",
        f"Command: `{command.strip()}` (target {args.executions:,} executions "
        f"per scenario and design, strategy {args.strategy}, base seed "
        f"{args.seed}, chunks of {args.chunk:,} in {args.jobs} processes; "
        f"{wall / 60:.0f} min wall time in the last invocation)."
        + (f" {args.note}" if args.note else ""), "",
        *machine(), "", *rows, "", *(notes or ["No findings."]), "", *threaded,
        "Execution i's schedule depends only on the base seed and i, so the "
        "chunks split the campaign exactly; the state file "
        f"`reports/runs/{path.name}` keeps each "
        "finished chunk, and rerunning the command runs only what is missing "
        "(`--fresh` starts over).",
        ""])


def threaded_rows(state: dict[str, Any], configs: list[tuple[str, str]]
                  ) -> list[str]:
    """The OS-thread runs of the correct model, if any were made."""
    recs = [(s, d, r) for s, d in configs for k, r in sorted(state.items())
            if k.startswith(f"threads/{s}/{d}/")]
    if not recs:
        return []
    rows = ["The same correct scenarios on OS threads "
            "(rcu_harness.runner.threaded, not replayable), every finding kept:",
            "", "| scenario | design | seconds | executions | findings |",
            "|---|---|---|---|---|"]
    for s, d, r in recs:
        found = "; ".join(f"execution {f['execution']}: {f['message']}"
                          for f in r["findings"]) or "none"
        rows.append(f"| {s} | {d} | {r['seconds']:.0f} | {r['executions']:,} | "
                    f"{found} |")
    return [*rows, ""]


def estimate(args: argparse.Namespace, configs: list[tuple[str, str]]) -> None:
    """Time --estimate executions per configuration; print the projection."""
    total = 0.0
    for s, d in configs:
        params = strategy_params([(s, d)], args.strategy, args.seed,
                                 args.memory_model)[f"{s}/{d}"]
        rec = run_chunk(((s, d, 0, args.estimate), args.strategy, args.seed, params,
                         args.memory_model))
        per = rec["seconds"] / args.estimate
        total += per * args.executions
        print(f"{s}/{d}: {per * 1000:.1f} ms per execution, "
              f"{len(rec['findings'])} findings in {args.estimate}", flush=True)
    print(f"projection for {args.executions:,} each: {total / 3600:.2f} CPU hours,"
          f" {total / 3600 / args.jobs:.2f} h on {args.jobs} processes")


KEPT = ("every finished chunk is kept in reports/runs/; "
        "the same command resumes from it")


def main(argv: list[str]) -> int:
    """Run (or estimate) the long clean runs; the exit status."""
    return interruptible(lambda: _main(argv), KEPT)


def _main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--executions", type=int, default=100_000)
    p.add_argument("--chunk", type=int, default=2000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--strategy", default="random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--designs", default=",".join(DESIGNS))
    p.add_argument("--estimate", type=int, default=0)
    p.add_argument("--note", default="", help="a sentence for the report")
    p.add_argument("--threaded-seconds", type=float, default=0.0,
                   help="also run each configuration on OS threads this long")
    p.add_argument("--memory-model", default="sc", choices=("sc", "lkmm"))
    p.add_argument("--fresh", action="store_true",
                   help="start over: remove the campaign's state file first "
                        "(its chunks may be of another tree)")
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    configs = [(s, d) for s in args.scenarios.split(",") if s
               for d in args.designs.split(",") if d]
    if args.estimate:
        estimate(args, configs)
        return
    if args.fresh:
        state_path(args.strategy, args.seed, args.memory_model).unlink(missing_ok=True)
    wall = run(args, configs)
    text = report(args, configs, wall)
    print(text)
    if args.write:
        write_section(heading(args.strategy, args.memory_model), text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
