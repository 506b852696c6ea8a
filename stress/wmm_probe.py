"""One measurement of bench_wmm.py, in a fresh process per source tree.

``python stress/wmm_probe.py TREE WORKLOAD MODEL N``: imports rcu_harness
from @TREE (put first on ``sys.path``), runs @N executions of @WORKLOAD
under memory model @MODEL (``sc`` in a tree without memory models) and
prints one JSON line: executions, scheduling points, CPU seconds.
Workloads: ``simstruct`` and ``maple`` (bench_sched.py's programs, one
execution each, strategy random, seed = execution index), or a scenario name
(executions 0..N-1 under mix, base seed 0, calibrated once, as a campaign
worker runs them); ``page_fault:modern`` and ``page_fault:vma_refcnt`` are
page_fault in one per-VMA lock design, with the parameters of
stress/page_fault_runs.py.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def _program(workload: str, model: str) -> tuple[Any, str, bool]:
    """(program, strategy, calibrated)."""
    sys.path.insert(1, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    if workload in ("simstruct", "maple"):
        from stress import bench_sched

        program = (bench_sched.simstruct_program(2000) if workload == "simstruct"
                   else bench_sched.maple_program(60))
        if model != "sc":
            from rcu_harness.memory.wmm import with_memory_model

            program = with_memory_model(program, model)
        return program, "random", False
    from rcu_harness.scenarios import configure
    from rcu_harness.scenarios import program as scenario

    name, _, design = workload.partition(":")
    params: dict[str, Any] = {} if model == "sc" else {"memory_model": model}
    if design:  # page_fault:DESIGN, with the parameters of its long runs
        from stress.page_fault_runs import DESIGN_PARAMS

        params.update(DESIGN_PARAMS[design])
    return scenario(configure(name, params)), "mix", True


def main() -> None:
    tree, workload, model, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sys.path.insert(0, tree)
    import rcu_harness

    if not rcu_harness.__file__.startswith(tree):
        raise SystemExit(f"imported {rcu_harness.__file__}, not from {tree}")
    from rcu_harness.runner.block import calibrate
    from rcu_harness.runner.run import run_execution
    from rcu_harness.sched.registry import make_strategy

    program, strategy, calibrated = _program(workload, model)
    params = calibrate(program, strategy, 0) if calibrated else {}
    inner = make_strategy(strategy, 0, **params)
    steps = 0
    start = time.process_time()
    for i in range(n):
        inner.new_execution(i)
        ex = run_execution(program, inner, i, max_steps=10**8, record=0)
        assert ex.violation is None, ex.violation.message
        steps += ex.step
    print(json.dumps({"n": n, "steps": steps, "cpu": time.process_time() - start}))


if __name__ == "__main__":
    main()
