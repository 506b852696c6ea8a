"""Every figure of a loaded run, cross-checked against the raw stored samples."""

import numpy as np
import pytest

from rcu_harness.report.model import load_run
from rcu_harness.store.runstore import RunStore, chunk_arrays
from tests.report.conftest import BROKEN, LEGAL


def _raw(run_dir):
    store = RunStore.open(run_dir)
    try:
        return store.meta(), store.executions(), store.samples()
    finally:
        store.close()


def _check(summary, values):
    x = np.asarray(values, dtype=float)
    assert summary.count == x.size
    assert summary.mean == pytest.approx(x.mean())
    assert summary.std == pytest.approx(x.std())
    p50, p90, p99, p999 = np.percentile(x, [50, 90, 99, 99.9])
    assert (summary.p50, summary.p90, summary.p99, summary.p999) == pytest.approx(
        (p50, p90, p99, p999))
    assert (summary.min, summary.max) == (x.min(), x.max())


def test_reader_pipe_and_batch_histograms_are_known_by_hand(controlled_run):
    r = load_run(controlled_run)
    assert r.pipe.counts == (0, LEGAL, 0, BROKEN, 0, 0, 0, 0, 0, 0, 0)
    assert r.batch.counts == (LEGAL, 0, BROKEN, 0, 0, 0, 0, 0, 0, 0, 0)
    assert r.retired_ages == r.pipe.counts
    assert r.pipe.illegal == r.batch.illegal == BROKEN
    assert r.pipe.verdict.startswith("!!! 2 sections past bucket 1")
    assert "if any entries past the first two are non-zero, RCU is broken" in \
        r.pipe.rule


def test_memory_held_by_rcu_peaks_and_means_by_hand(controlled_run):
    r = load_run(controlled_run)
    _meta, rows, s = _raw(controlled_run)
    assert s["rcu.waiting_peak"].tolist() == [4] * LEGAL + [1] * BROKEN
    _check(r.rcu.waiting_peak.summary, [4] * LEGAL + [1] * BROKEN)
    means = []
    for row in rows:  # hold each count from its step to the next change
        mine = s["rcu.waiting"][s["rcu.waiting@exec"] == row.idx]
        total, (prev_step, prev_n) = 0, (0, 0)
        for step, n in mine.tolist():
            total += (step - prev_step) * prev_n
            prev_step, prev_n = step, n
        total += (row.steps - prev_step) * prev_n
        means.append(total / row.steps)
    _check(r.rcu.waiting_mean.summary, means)


def test_grace_period_and_free_delay_figures_match_the_samples(scenario_run):
    r = load_run(scenario_run)
    _meta, _rows, s = _raw(scenario_run)
    _check(r.rcu.gp_steps.summary, s["value.rcu.gp_steps"])
    _check(r.rcu.free_delay.summary, s["rcu.free_delay_steps"])
    assert sum(r.rcu.gp_steps.hist.counts) == len(s["value.rcu.gp_steps"])


def test_every_span_latency_matches_numpy_on_the_samples(scenario_run):
    r = load_run(scenario_run)
    _meta, _rows, s = _raw(scenario_run)
    names = {k[5:-6] for k in s if k.startswith("span.") and k.endswith(".steps")}
    assert {x.name for x in r.spans} == names
    assert {"dup_mmap", "dup_mmap.store", "reader.iterate"} <= names
    for span in r.spans:
        _check(span.steps.summary, s[f"span.{span.name}.steps"])
        _check(span.ns.summary, s[f"span.{span.name}.ns"])
    groups = {x.name: x.group for x in r.spans}
    assert groups["reader.iterate"] == "reader"
    assert groups["dup_mmap.store"] == groups["dup_mmap"] == "writer"
    assert groups["exit_mmap"] == "writer"


def test_reader_restarts_per_walk_count_every_walk(scenario_run):
    r = load_run(scenario_run)
    _meta, _rows, s = _raw(scenario_run)
    walk = next(x for x in r.spans if x.name == "reader.iterate")
    restarts = walk.extra("restarts").summary
    assert restarts.count == len(s["span.reader.iterate.steps"])
    assert restarts.mean * restarts.count == pytest.approx(
        s.get("span.reader.iterate.restarts", np.zeros(0)).sum())


def test_campaign_rates_come_from_the_rows_or_the_meta(scenario_run, bug_run):
    r = load_run(scenario_run)
    _meta, rows, _s = _raw(scenario_run)
    wall = sum(x.wall_ns for x in rows) / 1e9
    steps = sum(x.steps for x in rows)
    assert r.campaign.executions == len(rows) == 5
    assert r.campaign.steps == steps
    assert r.campaign.executions_per_s == pytest.approx(5 / wall)
    assert r.campaign.points_per_s == pytest.approx(steps / wall)
    b = load_run(bug_run)
    _meta, brows, _s = _raw(bug_run)
    assert b.campaign.executions_per_s == pytest.approx(4 / 2.0)  # elapsed_s
    assert b.campaign.points_per_s == pytest.approx(sum(x.steps for x in brows) / 2)
    assert b.campaign.rate_basis.startswith("campaign elapsed")


def test_benign_counters_are_summed_over_executions(scenario_run):
    r = load_run(scenario_run)
    _meta, rows, _s = _raw(scenario_run)
    for b in r.benign:
        assert b.total == sum(x.counters.get(b.name, 0) for x in rows)
        assert b.executions == sum(1 for x in rows if x.counters.get(b.name))
    assert "teardown_in_rcu_mode" in {b.name for b in r.benign}


def test_coverage_pairs_add_up_the_stored_counts(scenario_run):
    r = load_run(scenario_run)
    _meta, _rows, s = _raw(scenario_run)
    assert r.coverage
    for p in r.coverage:
        key = f"cover.{p.level}.{p.span}.{p.store}"
        assert p.loads == int(s[key].sum())
        assert p.executions == int(np.count_nonzero(s[key]))


def test_findings_come_with_their_trace_events_and_life_cycle(bug_run):
    r = load_run(bug_run)
    assert r.campaign.violations == 4
    (f,) = r.findings
    assert f.count == 4
    assert f.problem == ""
    assert f.events
    assert f.addr.startswith("0x")
    assert f.lifecycle[0].what == "alloc"
    assert f.thread == "fork/1"


def test_a_counter_missing_from_some_executions_counts_zeros_there(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    from rcu_harness.store.runstore import ExecutionRow

    store.add_executions([ExecutionRow(i, 0, 10, 1000, None, {}) for i in range(2)])
    with_restarts = {"span.reader.walk.steps": np.array([5, 6]),
                     "span.reader.walk.ns": np.array([50, 60]),
                     "span.reader.walk.restarts": np.array([0.0, 2.0])}
    without = {"span.reader.walk.steps": np.array([7, 8, 9]),
               "span.reader.walk.ns": np.array([70, 80, 90])}
    store.add_samples("c", 0, 1, 2, chunk_arrays([(0, with_restarts), (1, without)]))
    store.close()
    walk = load_run(tmp_path / "run").spans[0]
    assert walk.extra("restarts").summary.count == 5
    assert walk.extra("restarts").summary.mean == pytest.approx(2 / 5)
