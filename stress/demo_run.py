"""Build a small stored run of a registered scenario and write its report.

A stand-in for ``rcu-harness stress`` that needs only the runner and the run
store: executions of a scenario (optionally with a mutant) under one
strategy, each stored as the campaign does (per-execution rows, findings
with trace files whose events come from the diagnosing re-run, sample
chunks from ``metrics.collect``), then ``write_report``.  Used to make the
page that ``stress/html_screenshot.py`` checks when given none.

Usage: python stress/demo_run.py OUT_DIR [--scenario dup_mmap] [--set k=v]...
       [--mutant NAME] [--executions 40] [--seed 1] [--strategy random]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness import __version__
from rcu_harness.report import write_report
from rcu_harness.runtime.metrics import collect
from rcu_harness.runtime.runner import (
    DEFAULT_MAX_STEPS,
    diagnose,
    finalize,
    run_execution,
)
from rcu_harness.scenarios import applied, configure, program, replay_command
from rcu_harness.sched.registry import make_strategy
from rcu_harness.store.runstore import ExecutionRow, FindingRow, RunStore, chunk_arrays
from rcu_harness.trace.tracefile import trace_for

CHUNK = 25


def _finding(store, cfg, prog, ex, *, strategy, seed):
    """Diagnose and store the finding of @ex; its signature."""
    schedule = ex.schedule()
    full = diagnose(prog, ex, max_steps=DEFAULT_MAX_STEPS, checkers=None)
    command = replay_command(cfg, strategy=strategy, seed=seed, execution=ex.index)
    finding = finalize(full, schedule, command)
    trace = trace_for(finding, scenario=cfg.scenario, harness_version=__version__,
                      parameters=dict(cfg.values), mutant=cfg.mutant,
                      strategy=strategy, seed=seed, max_steps=DEFAULT_MAX_STEPS)
    row = FindingRow(finding.signature, finding.kind, finding.message, ex.index, 1,
                     f"findings/{finding.signature}.json", command)
    store.add_finding(row, trace.to_json())
    return finding.signature


def build_run(run_dir: Path, scenario: str, params: dict[str, str] | None = None, *,
              mutant: str | None = None, executions: int = 40, seed: int = 1,
              strategy: str = "random") -> Path:
    """Run and store @executions executions of @scenario into @run_dir."""
    cfg = configure(scenario, params or {}, mutant)
    prog = program(cfg)
    store = RunStore.create(run_dir, {
        "scenario": scenario, "parameters": dict(cfg.values), "mutant": mutant,
        "strategy": strategy, "seed": seed, "harness_version": __version__})
    inner = make_strategy(strategy, seed)
    start = time.time()
    rows, samples = [], []
    with applied(mutant):
        for i in range(executions):
            if not inner.new_execution(i):
                break
            t0 = time.perf_counter_ns()
            ex = run_execution(prog, inner, i, record=0)
            wall = time.perf_counter_ns() - t0
            sig = None
            if ex.violation is not None:
                sig = _finding(store, cfg, prog, ex, strategy=strategy, seed=seed)
            rows.append(ExecutionRow(i, _signed(ex.schedule().seed), ex.step, wall,
                                     sig, dict(ex.counters)))
            samples.append((i, collect(ex)))
            if len(samples) == CHUNK:
                _flush(store, rows, samples)
    _flush(store, rows, samples)
    store.set_meta("elapsed_s", time.time() - start)
    store.close()
    return run_dir


def _signed(seed: int) -> int:
    """A 64-bit seed as SQLite's signed INTEGER holds it."""
    return seed - (1 << 64) if seed >= 1 << 63 else seed


def _flush(store, rows, samples) -> None:
    if not rows:
        return
    store.add_executions(rows)
    first, last = samples[0][0], samples[-1][0]
    store.add_samples(f"{first:08d}-{last:08d}", first, last, len(samples),
                      chunk_arrays(samples))
    rows.clear()
    samples.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scenario", default="dup_mmap")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--mutant")
    parser.add_argument("--executions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strategy", default="random")
    args = parser.parse_args()
    params = dict(kv.split("=", 1) for kv in args.set)
    run_dir = build_run(args.out, args.scenario, params, mutant=args.mutant,
                        executions=args.executions, seed=args.seed,
                        strategy=args.strategy)
    write_report(run_dir)
    print(run_dir / "report.html")


if __name__ == "__main__":
    main()
