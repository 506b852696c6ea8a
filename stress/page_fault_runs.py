"""page_fault long runs: both per-VMA lock designs clean, every per-VMA lock
mutant found on every seed.

Usage:
  python stress/page_fault_runs.py clean [--executions 100000] [--chunk 1000]
      [--jobs 1] [--designs modern,vma_refcnt] [--write]
  python stress/page_fault_runs.py mutants [--seeds 10] [--max-executions 10000]
      [--jobs 1] [--mutants a,b] [--write]
  python stress/page_fault_runs.py race [--seeds 10] [--max-executions 10000]
      [--jobs 1] [--write]
  python stress/page_fault_runs.py known [--seeds 10] [--max-executions 10000]
      [--write]
  (clean and mutants also take --memory-model lkmm: their own state files,
  page-fault-clean-lkmm.json and page-fault-mutants-lkmm.json, and sections)

``clean``: executions 0..N-1 of mix (base seed 0; the default strategy
when these runs were recorded, before aimed) of
``page_fault`` in each design with no mutant, in chunks (execution i
depends only on the seed and i, so the split is exact; pct's ``steps`` is
calibrated once per design); ``vma_refcnt`` runs with the candidate fix
``maps-restart-at-last-addr`` of the known finding proc-maps-stale-iterator
(without it that finding is what the run finds: ``known`` measures how
often).  ``mutants``: for each per-VMA lock mutant (``VMA_MUTANTS``) and
base seed 0..S-1, ``explore_scenario`` with mix until the
first finding, at most --max-executions executions; the kinds of the
findings are recorded and shown (a clean model finds nothing: any finding
is the mutant's).  ``race``: the writer-side mutants
(``WRITER_MUTANTS``) again with ``assert_write_locked=false``, so that
only a race a reader sees can find them, not the vma_assert_write_locked()
rule at the first store.  ``known``: the vma_refcnt design
without the fix, the executions to the first ``proc-maps-stale-iterator``
finding on seeds 0..9.  Each finished chunk or attempt is saved at once to
reports/runs/page-fault-<what>.json: a killed run resumes where it stopped.
--write puts the section into reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import interruptible, machine, pool_results, write_section

ROOT = Path(__file__).resolve().parents[1]
FIX = "maps-restart-at-last-addr"
DESIGN_PARAMS = {"modern": {"design": "modern"},
                 "vma_refcnt": {"design": "vma_refcnt", "kernel_fixes": FIX}}
HEADINGS = {
    "clean": "## page_fault: both per-VMA lock designs clean "
             "(stress/page_fault_runs.py)",
    "mutants": "## page_fault: per-VMA lock mutants, 10 seeds "
               "(stress/page_fault_runs.py)",
    "race": "## page_fault: writer-side per-VMA lock mutants found by a race "
            "(stress/page_fault_runs.py)",
    "known": "## page_fault: the known finding proc-maps-stale-iterator "
             "(stress/page_fault_runs.py)",
}
WRITER_MUTANTS = ("dup-mmap-skips-parent-vma-lock", "mprotect-skips-vma-start-write",
                  "mm-lock-seq-bump-before-tree-update")
"""Mutants the writer-side rule (vma_assert_write_locked()) finds at once."""
RACE_PARAMS = {"assert_write_locked": False}


def state_path(what: str, memory_model: str = "sc") -> Path:
    """The resumable state file of one kind of run (under @memory_model)."""
    suffix = "" if memory_model == "sc" else f"-{memory_model}"
    return ROOT / "reports" / "runs" / f"page-fault-{what}{suffix}.json"


def design_params(design: str, memory_model: str) -> dict[str, Any]:
    """The scenario parameters of @design's runs under @memory_model."""
    extra = {} if memory_model == "sc" else {"memory_model": memory_model}
    return {**DESIGN_PARAMS[design], **extra}


def heading(what: str, memory_model: str) -> str:
    """The section heading of @what under @memory_model."""
    if memory_model == "sc":
        return HEADINGS[what]
    return HEADINGS[what].replace(", 10 seeds", "").replace(
        " (stress/", f" under {memory_model} (stress/")


def model_option(memory_model: str) -> str:
    """The command line's --memory-model option ('' for sc)."""
    return "" if memory_model == "sc" else f" --memory-model {memory_model}"


def load(path: Path) -> dict[str, Any]:
    """Finished records by key."""
    return json.loads(path.read_text()) if path.exists() else {}


def save(path: Path, state: dict[str, Any]) -> None:
    """Write @state atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=0, sort_keys=True))
    os.replace(tmp, path)


# -- clean -------------------------------------------------------------------


def clean_chunk(task: tuple[str, int, int, dict[str, Any], str]) -> dict[str, Any]:
    """Executions [first, end) of page_fault in @design; its record (each
    distinct finding once, with the executions that saw it)."""
    from rcu_harness.runner.block import run_block
    from rcu_harness.scenarios import applied, configure, program, replay_command
    from rcu_harness.scenarios.catalog import default_max_steps
    from rcu_harness.sched.registry import make_strategy

    design, first, end, params, memory_model = task
    cfg = configure("page_fault", design_params(design, memory_model))

    def command(i: int, _schedule: Any) -> str:
        return replay_command(cfg, strategy="mix", seed=0, execution=i,
                              strategy_params=params)

    start = time.perf_counter()
    with applied(cfg.mutant, cfg.fixes):
        block = run_block(program(cfg), make_strategy("mix", 0, **params), first,
                          end, command=command, seen=set(), keep_going=True,
                          max_steps=default_max_steps(cfg))
    counts: dict[str, int] = {}
    for r in block.executions:
        if r.signature is not None:
            counts[r.signature] = counts.get(r.signature, 0) + 1
    findings = [{"execution": d.finding.execution, "kind": d.finding.kind,
                 "message": d.finding.message[:200],
                 "count": counts[d.finding.signature],
                 "replay": d.finding.replay_command} for d in block.findings]
    return {"key": f"{design}/{first}-{end}", "executions": len(block.executions),
            "steps": sum(r.steps for r in block.executions), "findings": findings,
            "seconds": time.perf_counter() - start}


def calibrated(design: str, memory_model: str) -> dict[str, Any]:
    """mix's calibrated parameters for @design (pct's steps)."""
    from rcu_harness.runner.block import calibrate
    from rcu_harness.scenarios import configure, program
    from rcu_harness.scenarios.catalog import default_max_steps

    cfg = configure("page_fault", design_params(design, memory_model))
    return calibrate(program(cfg), "mix", 0, max_steps=default_max_steps(cfg))


def run_clean(args: argparse.Namespace) -> None:
    """Every missing chunk of every design, round robin."""
    path = state_path("clean", args.memory_model)
    state = load(path)
    designs = [d for d in args.designs.split(",") if d]
    params = {d: calibrated(d, args.memory_model) for d in designs}
    tasks = [(d, first, min(first + args.chunk, args.executions), params[d],
              args.memory_model)
             for first in range(0, args.executions, args.chunk) for d in designs
             if f"{d}/{first}-{min(first + args.chunk, args.executions)}" not in state]
    _pool(clean_chunk, tasks, state, path, args.jobs)


def clean_section(args: argparse.Namespace) -> str:
    """The BENCHMARKS.md section of the clean runs."""
    path = state_path("clean", args.memory_model)
    state = load(path)
    rows = ["| design | executions (indices 0..n-1 complete) | findings | steps per "
            "execution | ms per execution (worker) |", "|---|---|---|---|---|"]
    notes = []
    for design in DESIGN_PARAMS:
        recs = [r for k, r in state.items() if k.startswith(f"{design}/")]
        if not recs:
            continue
        execs = sum(r["executions"] for r in recs)
        prefix = _prefix([r["key"] for r in recs])
        found = [f for r in recs for f in r["findings"]]
        steps = sum(r["steps"] for r in recs)
        secs = sum(r["seconds"] for r in recs)
        fix = f" (kernel_fixes={FIX})" if design == "vma_refcnt" else ""
        per = 1000 * secs / max(execs, 1)
        rows.append(f"| {design}{fix} | {execs:,} ({prefix:,}) | {len(found)} | "
                    f"{steps / max(execs, 1):,.0f} | {per:.1f} |")
        notes += [f"- {design}: {f['kind']}: {f['message']} (`{f['replay']}`)"
                  for f in found[:5]]
        if prefix < args.executions:
            notes.append(f"- {design}: not complete, executions 0..{prefix - 1:,} "
                         f"of the target {args.executions:,}; the same command "
                         f"resumes from reports/runs/{path.name}")
    return "\n".join([
        heading("clean", args.memory_model), "",
        "Command: `nice -n 10 python stress/page_fault_runs.py clean "
        f"--executions {args.executions} --chunk {args.chunk} --jobs {args.jobs}"
        f"{model_option(args.memory_model)} --write` (the same --chunk "
        "resumes it; mix, base seed 0, scenario defaults; "
        "vma_refcnt with the candidate fix of the known finding "
        "proc-maps-stale-iterator, docs/kernel-findings.md).", "", *machine(),
        "", *rows, "", *notes]).rstrip() + "\n"


def _prefix(keys: list[str]) -> int:
    spans = sorted(tuple(int(x) for x in k.rsplit("/", 1)[1].split("-")) for k in keys)
    prefix = 0
    for first, end in spans:
        if first != prefix:
            break
        prefix = end
    return prefix


# -- mutants and the known finding -------------------------------------------------


def attempt(task: tuple[str, int, int, dict[str, Any]]) -> dict[str, Any]:
    """One seed of one mutant (or of the known finding): executions to the
    first finding."""
    from rcu_harness.scenarios import explore_scenario

    name, seed, cap, params = task
    mutant = None if name == "known" else name
    start = time.perf_counter()
    r = explore_scenario("page_fault", params=params or None, mutant=mutant,
                         strategy="mix", executions=cap, seed=seed)
    f = r.findings[0] if r.findings else None
    return {"key": f"{name}/{seed}", "found": f is not None,
            "executions": r.executions, "kind": f.kind if f else "",
            "message": f.message[:160] if f else "",
            "seconds": time.perf_counter() - start}


def run_attempts(args: argparse.Namespace, what: str, names: list[str],
                 params: dict[str, Any] | None = None) -> None:
    """Every missing (name, seed) attempt."""
    path = state_path(what, args.memory_model)
    state = load(path)
    params = dict(params or {})
    if args.memory_model != "sc":
        params["memory_model"] = args.memory_model
    tasks = [(n, s, args.max_executions, params) for s in range(args.seeds)
             for n in names if f"{n}/{s}" not in state]
    _pool(attempt, tasks, state, path, args.jobs)


def mutants_section(args: argparse.Namespace, names: list[str],
                    what: str = "mutants") -> str:
    """The BENCHMARKS.md section of the mutant attempts (@what: mutants or
    race)."""
    from rcu_harness.scenarios.mutants import MUTANTS

    state = load(state_path(what, args.memory_model))
    rows = ["| mutant | design | seeds found (of run) | executions to find: median "
            "| max | caught by |", "|---|---|---|---|---|---|"]
    for name in names:
        outs = [state[k] for k in sorted(state) if k.startswith(f"{name}/")]
        if not outs:
            continue
        found = [o for o in outs if o["found"]]
        execs = [o["executions"] for o in found]
        kinds = sorted({o["kind"] for o in found})
        median = f"{statistics.median(execs):,}" if execs else "not found"
        most = f"{max(execs):,}" if execs else "-"
        rows.append(f"| {name} | {MUTANTS[name].params.get('design', '')} | "
                    f"{len(found)}/{len(outs)} | {median} | {most} | "
                    f"{', '.join(kinds) or '-'} |")
    extra = (" with `assert_write_locked=false`: only a reader that sees the "
             "change can find them" if what == "race" else "")
    return "\n".join([
        heading(what, args.memory_model), "",
        f"Command: `nice -n 10 python stress/page_fault_runs.py {what} --seeds "
        f"{args.seeds} --max-executions {args.max_executions} --jobs {args.jobs}"
        f"{model_option(args.memory_model)} --write` (mix "
        "from base seeds 0..S-1, each mutant in page_fault with its own "
        f"parameters{extra}, to the first finding).", "",
        *machine(), "", *rows]).rstrip() + "\n"


def known_section(args: argparse.Namespace) -> str:
    """The BENCHMARKS.md section of the known finding without its fix."""
    state = load(state_path("known"))
    outs = [state[k] for k in sorted(state)]
    found = [o for o in outs if o["found"]]
    execs = [o["executions"] for o in found]
    return "\n".join([
        HEADINGS["known"], "",
        "Command: `nice -n 10 python stress/page_fault_runs.py known --seeds "
        f"{args.seeds} --max-executions {args.max_executions} --write` "
        "(page_fault, design=vma_refcnt, no kernel_fixes, mix "
        "from base seeds 0..S-1, to the first finding).", "",
        f"- seeds that found it: {len(found)}/{len(outs)}; executions to find: "
        f"median {statistics.median(execs) if execs else '-'}, max "
        f"{max(execs) if execs else '-'}",
        *(f"- seed {o['key'].split('/')[1]}: {o['executions']} executions: "
          f"{o['kind']}: {o['message']}" for o in outs)]).rstrip() + "\n"


def _pool(fn: Any, tasks: list[Any], state: dict[str, Any], path: Path,
          jobs: int) -> None:
    start = time.perf_counter()
    for rec in pool_results(fn, tasks, jobs):
        state[rec["key"]] = rec
        save(path, state)
        print(f"[{time.perf_counter() - start:7.0f}s] {rec['key']}: "
              f"{rec.get('executions')} executions, "
              f"{len(rec['findings']) if 'findings' in rec else rec['found']}",
              flush=True)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=("clean", "mutants", "race", "known"))
    p.add_argument("--executions", type=int, default=100_000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--designs", default="modern,vma_refcnt")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--max-executions", type=int, default=10_000)
    p.add_argument("--mutants", default="")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--memory-model", default="sc", choices=("sc", "lkmm"))
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    if args.what == "clean":
        run_clean(args)
        text = clean_section(args)
    elif args.what == "mutants":
        from rcu_harness.scenarios.mutants import VMA_MUTANTS

        names = [n for n in args.mutants.split(",") if n] or \
            [m.name for m in VMA_MUTANTS]
        run_attempts(args, "mutants", names)
        text = mutants_section(args, names)
    elif args.what == "race":
        names = [n for n in args.mutants.split(",") if n] or list(WRITER_MUTANTS)
        run_attempts(args, "race", names, RACE_PARAMS)
        text = mutants_section(args, names, "race")
    else:
        run_attempts(args, "known", ["known"], {"design": "vma_refcnt"})
        text = known_section(args)
    print(text)
    if args.write:
        write_section(heading(args.what, args.memory_model), text)


if __name__ == "__main__":
    sys.exit(interruptible(lambda: main(sys.argv[1:]),
                           "every finished chunk or attempt is kept in "
                           "reports/runs/; the same command resumes from it"))
