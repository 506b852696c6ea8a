"""One callgrind measurement of bench_sched.py, in a fresh process per case.

``python stress/sched_probe.py TREE POINTS ROUNDS SEED CASE...``: imports
``rcu_harness`` and ``maple`` from @TREE (put first on ``sys.path``, so
another checkout can be measured with the workloads of this one), and for
each @CASE in turn (a name of :func:`stress.sched_workloads.cases`, its
workload of size @POINTS, or a round-trip baseline of
:data:`stress.sched_workloads.BASELINES`, ``ROUNDTRIPS`` round trips a
round) prepares it from @SEED and runs @ROUNDS rounds, calling
:func:`stress.benchlib.mark` after the setup and after each round, so that
``valgrind --tool=callgrind`` run by :func:`stress.benchlib.callgrind`
counts the instructions of each part apart: a case's setup (with the
imports, for the first), then each of its rounds; the last part is the
exit.  Prints one JSON line: for each case, the points of each round and
the digest of each round's schedules.  bench_sched.py runs one case per
process (the cases do not share a heap); the test measures two in one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    tree = str(Path(sys.argv[1]).resolve())
    points, rounds, seed = (int(a) for a in sys.argv[2:5])
    sys.path.insert(0, tree)
    import maple
    import rcu_harness

    for package in (rcu_harness, maple):
        if not str(package.__file__).startswith(tree):
            raise SystemExit(f"imported {package.__file__}, not from {tree}")
    sys.path.insert(0, str(ROOT))  # this checkout's workloads, @TREE's harness
    from stress.benchlib import mark
    from stress.sched_workloads import (
        BASELINES,
        ROUNDTRIPS,
        cases,
        checkers_of,
        prepare,
        run_round,
    )

    out: dict[str, dict[str, list[object]]] = {}
    for name in sys.argv[5:]:
        made = out[name] = {"points": [], "schedules": []}
        if name in BASELINES:
            roundtrips = BASELINES[name]
            roundtrips(100)  # warm
            mark()
            for _ in range(rounds):
                roundtrips(ROUNDTRIPS)
                mark()
                made["points"].append(ROUNDTRIPS)
            continue
        case = cases()[name]
        program = case.program(points)
        strategy, indices = prepare(program, case.strategy, seed, case.params)
        checkers = checkers_of(case)
        mark()
        for _ in range(rounds):
            n, digest = run_round(program, strategy, indices, case.record, checkers)
            mark()
            made["points"].append(n)
            made["schedules"].append(digest)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
