"""Stored runs for report tests: executions run directly, stored as a campaign does.

Each execution runs through ``run_execution`` (no events, as exploration
does); a finding's execution is diagnosed (re-run with events) and stored
with its trace file; samples go to chunks of a few executions
(``chunk_arrays``), so reports must concatenate across chunks.
"""

import time

from rcu_harness.runner.findings import diagnose, finalize
from rcu_harness.runner.run import DEFAULT_MAX_STEPS, run_execution
from rcu_harness.runtime.metrics import sample_lists
from rcu_harness.scenarios import applied
from rcu_harness.sched.registry import make_strategy
from rcu_harness.store.runstore import ExecutionRow, FindingRow, RunStore, chunk_arrays
from rcu_harness.trace.tracefile import trace_for
from rcu_harness.version import __version__

CHUNK = 3


def _signed(seed):
    return seed - (1 << 64) if seed >= 1 << 63 else seed


def _store_finding(store, prog, ex):
    full = diagnose(prog, ex, max_steps=DEFAULT_MAX_STEPS, checkers=None)
    finding = finalize(full, ex.schedule(), f"replay execution {ex.index}")
    trace = trace_for(finding, scenario="test", harness_version=__version__)
    row = FindingRow(finding.signature, finding.kind, finding.message, ex.index,
                     1, f"findings/{finding.signature}.json", finding.replay_command)
    store.add_finding(row, trace.to_json())
    return finding.signature


def record_run(run_dir, plan, *, seed=1, meta=None):
    """Run and store one execution per entry of @plan: (program, mutant)."""
    store = RunStore.create(run_dir, meta or {"scenario": "test", "seed": seed})
    strategy = make_strategy("random", seed)
    rows, samples = [], []
    for i, (prog, mutant) in enumerate(plan):
        strategy.new_execution(i)
        with applied(mutant):
            t0 = time.perf_counter_ns()
            ex = run_execution(prog, strategy, i, record=0)
            wall = time.perf_counter_ns() - t0
            sig = None
            if ex.violation is not None:
                sig = _store_finding(store, prog, ex)
        rows.append(ExecutionRow(i, _signed(ex.schedule().seed), ex.step, wall, sig,
                                 dict(ex.counters)))
        samples.append((i, sample_lists(ex)))
        if len(samples) == CHUNK or i == len(plan) - 1:
            store.add_executions(rows)
            first, last = samples[0][0], samples[-1][0]
            store.add_samples(f"{first:06d}", first, last, len(samples),
                              chunk_arrays(samples))
            rows, samples = [], []
    store.close()
    return run_dir
