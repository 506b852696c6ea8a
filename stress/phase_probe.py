"""What an execution pays once, beside what it pays per point: callgrind
counts of the parts of the speed probe's executions (issue 17, seventh round).

Run as ``python stress/phase_probe.py TREE SCENARIO N [--no-gc]``: imports
``rcu_harness`` from @TREE, prepares the scenario as
``stress/speed_probe.py`` does (``mix``, base seed 0, calibrated, one
warm-up execution, no events), wraps the functions an execution calls
once (the strategy's ``new_execution``, the checkers' construction, the
execution's and the harness's constructors, the setup steps of the
default scenarios, the threads' run, teardown, ``sample_lists()``...) so that
each call marks its entry and exit (``getppid()``, where
:func:`stress.benchlib.callgrind` dumps its counters), runs executions
0..N-1 and prints one JSON line: the label of every part in order (the
innermost wrapped function running when it began, ``top`` for the rest)
and the executions' steps.  Under :func:`stress.benchlib.callgrind`,
``python stress/phase_probe.py --count TREE SCENARIO N`` prints each
label's instructions per execution and share; ``threads`` is everything
the simulated threads do between the first decision and the last exit
(their points included).  No wrapped function decides anything, so the
executions are the probe's.  ``--no-gc`` disables the cyclic collector,
whose passes otherwise land in whichever part allocates when they fall
due (about 2% of an execution, in parts of a few hundred thousand
instructions).

Wraps only functions that run on the runner's greenlet or never switch
(a wrapped call that switched would mark in another thread's part).
"""

from __future__ import annotations

import collections
import functools
import gc
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ONCE = (
    ("rcu_harness.runner.run", "hooks_for", "hooks_for"),
    ("rcu_harness.runtime.execution", "Execution.__init__", "Execution.__init__"),
    ("rcu_harness.runtime.execution", "Execution.run", "run (other)"),
    ("rcu_harness.runtime.execution", "Execution._schedule_loop", "threads"),
    ("rcu_harness.runtime.execution", "Execution._teardown", "teardown"),
    ("rcu_harness.runtime.execution", "Execution.release", "release"),
    ("rcu_harness.runtime.execution", "Execution.schedule", "schedule"),
    ("rcu_harness.runner.harness", "Harness.__init__", "Harness.__init__"),
    ("rcu_harness.runner.harness", "Harness.initial_contents", "initial_contents"),
    ("rcu_harness.runner.harness", "Harness.spawn", "spawn"),
    ("rcu_harness.scenarios.readers", "mm_alloc", "mm_alloc"),
    ("rcu_harness.scenarios.readers", "aim_points", "aim_points"),
    ("rcu_harness.scenarios.readers", "aim_windows", "aim_windows"),
    ("rcu_harness.scenarios.readers", "aim_faults", "aim_faults"),
    ("rcu_harness.scenarios.populate_cache", "replay_or_build", "setup replay"),
    ("rcu_harness.scenarios.populate_cache", "populate_key", "populate_key"),
    ("rcu_harness.runtime.metrics", "collect", "collect"),
    ("rcu_harness.runtime.metrics", "sample_lists", "sample_lists"),
    ("rcu_harness.memory.heap", "Heap.check_leaks", "check_leaks"),
)
"""(module, attribute path, label) of each wrapped function; a missing one
(an older tree) is skipped."""


class Marks:
    """The labels of the parts, in order."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.stack = ["top"]

    def mark(self, label: str) -> None:
        """End the current part; the next one is @label's."""
        self.labels.append(label)
        os.getppid()

    def wrap(self, fn: Any, label: str) -> Any:
        """@fn, marking its entry and exit."""
        @functools.wraps(fn)
        def marked(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(label)
            self.mark(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                self.mark(self.stack[-1])
        return marked


def install(marks: Marks) -> None:
    """Wrap every function of :data:`ONCE` this tree has."""
    for module, path, label in ONCE:
        owner: Any = importlib.import_module(module)
        *outer, name = path.split(".")
        try:
            for part in outer:
                owner = getattr(owner, part)
            setattr(owner, name, marks.wrap(getattr(owner, name), label))
        except AttributeError:
            continue


def probe(tree: str, scenario: str, n: int) -> None:
    """Run the marked executions and print their labels and steps."""
    sys.path.insert(0, tree)
    from rcu_harness.runner.block import calibrate
    from rcu_harness.runner.run import run_execution
    from rcu_harness.scenarios.catalog import configure, program
    from rcu_harness.sched.registry import make_strategy

    if "--no-gc" in sys.argv:
        gc.disable()
    setup = program(configure(scenario))
    params = calibrate(setup, "mix", 0)
    strategy = make_strategy("mix", 0, **params)
    strategy.new_execution(0)
    run_execution(setup, strategy, 0, record=0)  # warm caches and imports
    marks = Marks()
    install(marks)  # after the warm-up: every mark is one of the counted parts
    run = importlib.import_module("rcu_harness.runner.run").run_execution
    metrics = importlib.import_module("rcu_harness.runtime.metrics")
    # the samples as a block takes them (plain lists since the thirteenth round)
    collect = getattr(metrics, "sample_lists", None) or metrics.collect
    steps = []
    marks.mark("top")
    for i in range(n):
        marks.mark("new_execution")
        strategy.new_execution(i)
        marks.mark("top")
        ex = run(setup, strategy, i, record=0)
        collect(ex)
        ex.schedule()
        steps.append(ex.step)
    marks.mark("end")
    print(json.dumps({"labels": marks.labels, "steps": steps}))


def count(tree: str, scenario: str, n: int) -> None:
    """Count the probe's parts under callgrind and print each label's share."""
    from stress.benchlib import callgrind

    argv = [__file__, tree, scenario, str(n)]
    if "--no-gc" in sys.argv:
        argv.append("--no-gc")
    parts, out = callgrind(argv)
    result = json.loads(out.strip().splitlines()[-1])
    labels = result["labels"]
    per: collections.Counter[str] = collections.Counter()
    for label, cost in zip(labels, parts[1:], strict=False):
        if label != "end":
            per[label] += cost
    total = sum(per.values())
    print(f"{scenario}: {total / n / 1e6:.2f} M instructions per execution, "
          f"{sum(result['steps']) / n:.0f} points")
    for label, cost in per.most_common():
        print(f"  {label:20s} {cost / n / 1e3:9,.0f} k  {100 * cost / total:5.1f}%")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        raise SystemExit("usage: phase_probe.py [--count] [--no-gc] TREE SCENARIO N")
    tree, scenario, n = args[0], args[1], int(args[2])
    if "--count" in sys.argv:
        count(tree, scenario, n)
    else:
        probe(tree, scenario, n)


if __name__ == "__main__":
    main()
