"""The page-fault report: per-fault steps and retries, the VMA_LOCK_* events
and the rcutorture-style fault histograms, checked against the stored samples."""

import numpy as np
import pytest

from rcu_harness.report.faults import HIST_LEN, step_buckets
from rcu_harness.report.html import report_html
from rcu_harness.report.model import load_run
from rcu_harness.scenarios import configure, program
from rcu_harness.store.runstore import RunStore
from tests.report.runs import record_run

EXECUTIONS = 4


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    """page_fault in the 6.15+ design (with the candidate maps fix), no finding."""
    params = {"design": "vma_refcnt", "kernel_fixes": "maps-restart-at-last-addr"}
    cfg = configure("page_fault", params)
    return record_run(tmp_path_factory.mktemp("report") / "page_fault",
                      [(program(cfg), None)] * EXECUTIONS, seed=3,
                      meta={"scenario": "page_fault", "parameters": params})


def _samples(run_dir):
    store = RunStore.open(run_dir)
    try:
        return store.samples()
    finally:
        store.close()


def test_every_fault_is_counted_once_and_its_events_add_up(fault_run):
    cfg = configure("page_fault")
    f = load_run(fault_run).faults
    assert f is not None
    assert f.faults == EXECUTIONS * cfg["faulters"] * cfg["faults"]
    events = {e.name: e.total for e in f.events}
    # do_user_addr_fault() counts exactly one of SUCCESS, ABORT (no VMA lock)
    # and RETRY (VM_FAULT_RETRY under the VMA lock) per fault
    assert events["VMA_LOCK_SUCCESS"] + events["VMA_LOCK_ABORT"] + \
        events["VMA_LOCK_RETRY"] == f.faults
    for e in f.events:
        assert e.per_fault == pytest.approx(e.total / f.faults)
    assert f.fallback <= f.faults
    assert f.sigsegv <= f.faults


def test_fault_histograms_match_the_samples(fault_run):
    f = load_run(fault_run).faults
    samples = _samples(fault_run)
    steps = samples["span.fault.steps"]
    assert f.steps.count == steps.size
    assert f.steps.max == steps.max()
    assert f.step_hist == step_buckets(steps.astype(np.int64))
    assert len(f.retry_hist) == len(f.step_hist) == HIST_LEN + 1
    assert sum(f.retry_hist) == sum(f.step_hist) == f.faults
    assert f.retries.count == f.faults


def test_step_buckets_are_powers_of_two_from_32():
    # bucket k: fewer than 2^(k+5) steps; the last bucket collects the rest
    got = step_buckets(np.array([0, 31, 32, 63, 64, 127, 10**9]))
    assert got == (2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 1)


def test_the_html_page_has_the_page_fault_sections(fault_run):
    html = report_html(load_run(fault_run))
    for title in ("Page faults under per-VMA locks, per fault",
                  "VMA lock events (the kernel&#x27;s vmstat VMA_LOCK_*)",
                  "rcutorture-style fault histograms (buckets 0..10)"):
        assert f"<h2>{title}" in html
    assert "VMA_LOCK_SUCCESS" in html


def test_a_run_without_faults_has_no_page_fault_section(tmp_path):
    cfg = configure("dup_mmap", {"vmas": 4})
    run = record_run(tmp_path / "dup", [(program(cfg), None)], seed=1)
    assert load_run(run).faults is None
    assert "Page faults under per-VMA locks" not in report_html(load_run(run))
