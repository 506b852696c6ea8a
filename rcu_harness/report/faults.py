"""The page-fault latency report: faults under per-VMA locks.

From the ``fault`` spans (one per ``do_user_addr_fault()``, see
:mod:`rcu_harness.scenarios.fault`) and the benign counters of a run:

* per fault: scheduling steps, and its retries -- ``lock_vma_under_rcu()``
  walking again after a VMA was detached under it (``misses``,
  VMA_LOCK_MISS) plus a fault that had to be retried under the mmap_lock
  (``vm_retry``, VMA_LOCK_RETRY);
* how faults ended: under the VMA lock, on the mmap_lock path
  (``fallback``), with SIGSEGV;
* the kernel's vmstat events ``VMA_LOCK_SUCCESS`` / ``ABORT`` / ``MISS`` /
  ``RETRY`` (the counters ``vma_lock_success`` ...) as totals and as rates
  per fault -- a fault counts one SUCCESS or one ABORT or (ABORT
  and) RETRY, and any number of MISSes;
* two rcutorture-style histograms, buckets 0..10 (the last collects the
  rest): retries per fault, and steps per fault in powers of two
  (bucket k: fewer than 2^(k+5) steps, i.e. 0: < 32, 1: < 64 ...).

A run without ``fault`` spans has no page-fault report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rcu_harness.report.stats import Summary, buckets, summarize

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rcu_harness.store.runstore import ExecutionRow

EVENTS = (("VMA_LOCK_SUCCESS", "vma_lock_success",
           "faults handled under the VMA lock (a bad access included)"),
          ("VMA_LOCK_ABORT", "vma_lock_abort",
           "lock_vma_under_rcu() found no VMA, or could not lock or revalidate it"),
          ("VMA_LOCK_MISS", "vma_lock_miss",
           "the VMA was detached after the walk found it: walk again"),
          ("VMA_LOCK_RETRY", "vma_lock_retry",
           "the fault needed the mmap_lock after all (VM_FAULT_RETRY)"))
"""The kernel's vmstat event, the harness counter, what it means."""
HIST_LEN = 10
STEP_BASE = 32


@dataclass(frozen=True, slots=True)
class LockEvent:
    """One VMA_LOCK_* event over the run."""

    name: str
    counter: str
    total: int
    per_fault: float
    meaning: str


@dataclass(frozen=True, slots=True)
class FaultFigures:
    """Everything the page-fault report shows."""

    faults: int
    steps: Summary | None
    retries: Summary | None
    fallback: int
    sigsegv: int
    events: tuple[LockEvent, ...]
    retry_hist: tuple[int, ...]
    step_hist: tuple[int, ...]
    extra_counters: tuple[tuple[str, int], ...]
    """Other counters the fault path keeps (stack expansions, reuse...)."""


def _span(samples: Mapping[str, np.ndarray], key: str, n: int) -> np.ndarray:
    """Per-fault counter @key (0 where a fault did not add it)."""
    values = samples.get(f"span.fault.{key}")
    if values is None:
        return np.zeros(n)
    have = samples.get(f"span.fault.{key}@exec")
    owners = samples.get("span.fault.steps@exec")
    if have is None or owners is None:
        return values.astype(np.float64)
    missing = int(np.count_nonzero(~np.isin(owners, have)))
    return np.concatenate([values.astype(np.float64), np.zeros(missing)])


def step_buckets(steps: np.ndarray) -> tuple[int, ...]:
    """Steps per fault in powers of two from STEP_BASE (see the module)."""
    ks = np.maximum(0, np.ceil(np.log2(np.maximum(steps + 1, 1) / STEP_BASE)))
    return buckets(ks.astype(np.int64), HIST_LEN)


def fault_figures(samples: Mapping[str, np.ndarray],
                  rows: list[ExecutionRow]) -> FaultFigures | None:
    """The page-fault figures of a run, None without fault spans."""
    steps = samples.get("span.fault.steps")
    if steps is None or not len(steps):
        return None
    n = len(steps)
    retries = _span(samples, "misses", n) + _span(samples, "vm_retry", n)
    totals = {name: sum(int(r.counters.get(name, 0)) for r in rows)
              for name in {k for r in rows for k in r.counters}}
    events = tuple(LockEvent(name, counter, totals.get(counter, 0),
                             totals.get(counter, 0) / n, meaning)
                   for name, counter, meaning in EVENTS)
    extra = tuple((k, totals[k]) for k in sorted(totals)
                  if k in ("stack_expanded", "fault_sigsegv", "fault_cow",
                           "vma_reuse_across_mm", "vma_reused_other_mm"))
    return FaultFigures(
        faults=n, steps=summarize(steps), retries=summarize(retries),
        fallback=int(_span(samples, "fallback", n).sum()),
        sigsegv=int(_span(samples, "sigsegv", n).sum()),
        events=events,
        retry_hist=buckets(retries.astype(np.int64), HIST_LEN),
        step_hist=step_buckets(steps.astype(np.int64)),
        extra_counters=extra)
