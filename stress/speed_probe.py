"""One measurement of bench_speedup.py, run in a fresh process per tree.

Run as ``python stress/speed_probe.py TREE SCENARIO N [--bare] [--strategy
NAME] [--young N]``: imports ``rcu_harness`` from @TREE (a source tree put first on
``sys.path``, so an older checkout can be measured with this probe), runs
the scenario's executions 0..N-1 the way a campaign worker runs a block's,
all on one program (no per-block costs: stress/bench_campaign_speed.py;
strategy ``mix`` or ``--strategy NAME``, base seed 0, calibrated once, no
events recorded, samples collected), and prints one JSON line: CPU
seconds, wall seconds,
scheduling points, a digest of every execution's schedule (the same
executions in every tree), and, with ``--bare``, the bare greenlet switch
round trip measured in this process.
With ``--young N`` the cyclic collector's young threshold is N during the
measured executions (a campaign's blocks run at
``rcu_harness.runner.collector.YOUNG``; the probe calls no block, so by
default it runs at CPython's 700): the same tree measured both ways is the
collector's share (docs/performance.md, *Twelfth round*).
With ``--count`` (under callgrind, :func:`stress.benchlib.callgrind`) it
marks the parts: the measured executions, a warm-up of the bare round
trip, then :data:`ROUNDTRIPS` bare round trips, so that a scheduling
point's instructions and a round trip's are counted in one process.

Uses only the API that every version of the harness has (``configure``,
``program``, ``calibrate``, ``make_strategy``, ``run_execution``,
``collect``), so that the probe itself is the same for both trees; the
samples are taken as a block takes them (``sample_lists`` where the tree
has it, plain lists since the thirteenth round; ``collect`` before).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

ROUNDTRIPS = 20_000
"""Bare round trips counted after the executions with ``--count``."""


def _bare(n: int = 200_000) -> float:
    import greenlet

    def pong() -> None:
        while True:
            ping.switch()

    def run() -> None:
        for _ in range(n):
            g_pong.switch()

    ping = greenlet.greenlet(run)
    g_pong = greenlet.greenlet(pong)
    start = time.process_time()
    ping.switch()
    return (time.process_time() - start) / n


def main() -> None:
    tree, scenario, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path.insert(0, tree)
    import rcu_harness

    if not rcu_harness.__file__.startswith(tree):
        raise SystemExit(f"imported {rcu_harness.__file__}, not from {tree}")
    try:  # this tree, or one from before the runner package (bench_speedup)
        from rcu_harness.runner.block import calibrate
        from rcu_harness.runner.run import run_execution
        from rcu_harness.scenarios.catalog import configure, program
    except ImportError:
        from rcu_harness.runtime.runner import (  # type: ignore[import-not-found,no-redef]
            calibrate,
            run_execution,
        )
        from rcu_harness.scenarios.registry import (  # type: ignore[import-not-found,no-redef]
            configure,
            program,
        )

    from rcu_harness.runtime import metrics

    collect = getattr(metrics, "sample_lists", None) or metrics.collect
    from rcu_harness.sched.registry import make_strategy

    name = sys.argv[sys.argv.index("--strategy") + 1] \
        if "--strategy" in sys.argv else "mix"
    setup = program(configure(scenario))
    params = calibrate(setup, name, 0)
    strategy = make_strategy(name, 0, **params)
    strategy.new_execution(0)
    run_execution(setup, strategy, 0, record=0)  # warm caches and imports
    schedules = []
    steps = 0
    counting = "--count" in sys.argv
    if "--young" in sys.argv:
        import gc

        young = int(sys.argv[sys.argv.index("--young") + 1])
        gc.set_threshold(young, *gc.get_threshold()[1:])
    if counting:
        os.getppid()  # stress/benchlib.py's mark(): callgrind dumps here
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=0)
        collect(ex)
        steps += ex.step
        schedules.append(ex.schedule())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if counting:  # the executions, then ROUNDTRIPS bare round trips
        os.getppid()
        _bare(100)
        os.getppid()
        _bare(ROUNDTRIPS)
        os.getppid()
    digest = hashlib.blake2b(digest_size=8)
    for schedule in schedules:
        digest.update(schedule.encode().encode())
    out = {"cpu": cpu, "wall": wall, "steps": steps, "n": n,
           "schedules": digest.hexdigest()}
    if "--bare" in sys.argv:
        out["bare"] = _bare()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
