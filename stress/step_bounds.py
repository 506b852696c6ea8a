"""Step bounds: measured steps per execution against each scenario's work estimate.

Usage:
  python stress/step_bounds.py [--executions 4] [--write]

The default step bound of a scenario is ``STEP_BOUND_FACTOR`` times its
``work(cfg)`` estimate (``rcu_harness/scenarios/spec.py``), at least
``MIN_STEP_BOUND``.  An estimate must stay above the steps a fair execution
really takes at every size, or a large scenario would report a false
livelock.  This measures the steps of ``--executions`` random executions
(the fairest strategy) on a grid of parameters per scenario and prints
the largest beside the estimate; --write puts the table into
reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

HEADING = "## Step bounds (stress/step_bounds.py)"
GRID: tuple[tuple[str, dict[str, object]], ...] = (
    ("dup_mmap", {}), ("dup_mmap", {"vmas": 100}), ("dup_mmap", {"vmas": 300}),
    ("dup_mmap", {"vmas": 100, "parent_readers": 4, "child_readers": 4}),
    ("dup_mmap", {"vmas": 100, "parent_ops": 20}),
    ("rcu_transitions", {}), ("rcu_transitions", {"vmas": 100}),
    ("rcu_transitions", {"vmas": 300}),
    ("rcu_transitions", {"vmas": 100, "readers": 4}),
    ("rcu_transitions", {"vmas": 100, "reads": 8}),
    ("rcu_transitions", {"vmas": 100, "ops": 64}),
    ("rcu_transitions", {"vmas": 100, "read_kind": "iterate"}),
    ("mmput_race", {}), ("mmput_race", {"vmas": 100}), ("mmput_race", {"vmas": 300}),
    ("mmput_race", {"vmas": 100, "racers": 8}),
    ("mmput_race", {"vmas": 100, "ops": 50}),
    ("rcu_transitions", {"vmas": 100, "read_kind": "all", "op_set": "all"}),
    ("rcu_transitions", {"vmas": 300, "read_kind": "all", "reads": 8}),
    ("stack_expand", {}), ("stack_expand", {"vmas": 100}),
    ("stack_expand", {"vmas": 300, "readers": 4, "locked_readers": 4}),
    ("stack_expand", {"vmas": 100, "grows": 32}),
    ("tree_destroy", {}), ("tree_destroy", {"vmas": 100}),
    ("tree_destroy", {"vmas": 300, "readers": 4, "reads": 8}),
)


def main() -> int:
    """Measure the grid; print (and --write) the table."""
    from rcu_harness.runner.run import run_execution
    from rcu_harness.scenarios.catalog import (
        configure,
        default_max_steps,
        get_scenario,
        program,
    )
    from rcu_harness.sched.registry import make_strategy

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--executions", type=int, default=4)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = []
    worst = 0.0
    for name, params in GRID:
        cfg = configure(name, params)
        began = time.perf_counter()
        steps = []
        for i in range(args.executions):
            strategy = make_strategy("random", i)
            strategy.new_execution(i)
            ex = run_execution(program(cfg), strategy, i, max_steps=10**9, record=0)
            steps.append(ex.step)
        work = get_scenario(name).work
        estimate = work(cfg) if work else 0
        worst = max(worst, max(steps) / estimate)
        settings = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
        rows.append(f"| {name} | {settings} | {max(steps):,} | {estimate:,} | "
                    f"{max(steps) / estimate:.2f} | {default_max_steps(cfg):,} | "
                    f"{(time.perf_counter() - began) / args.executions:.2f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        HEADING, "",
        f"Command: `python stress/step_bounds.py --executions {args.executions} "
        "--write` (most steps over that many random executions, seeds 0.."
        f"{args.executions - 1}).", "", *machine(), "",
        "| scenario | parameters | steps (max) | work estimate | steps / estimate "
        "| default step bound | s per execution |",
        "|---|---|---|---|---|---|---|", *rows, "",
        f"Every estimate is above the measured steps (largest ratio {worst:.2f}); "
        "the default step bound is 10 times the estimate, at least 200,000.  "
        "Reaching it therefore means a spin, or starvation by the strategy, which "
        "the fair continuation tells apart (docs: livelocks and fairness)."])
    if args.write:
        write_section(HEADING, text)
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
