"""A campaign's stored sample chunks, and the report built from them, are the
ones main 79f7af0 stored when each execution's samples were numpy arrays
(its ``collect`` and ``chunk_arrays``: tests/runtime/samples_before.py)."""

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest

from rcu_harness.campaign import coordinator
from rcu_harness.campaign.coordinator import Interrupt
from rcu_harness.campaign.executor import InlineExecutor
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import start_run
from rcu_harness.report.model import load_run
from rcu_harness.runner import block
from rcu_harness.store.runstore import RunStore
from tests.runtime.samples_before import (
    chunk_arrays_before,
    collect_before,
    differences,
)

EXECUTIONS = 20


def _campaign(monkeypatch, out, spec, *, before=False):
    """The first EXECUTIONS executions of @spec, a chunk
    stored per block (16 executions, then 4), with a clock that counts (so
    that a span's nanoseconds are the same in both runs)."""
    with monkeypatch.context() as m:
        clock = itertools.count(10_000, 7)
        m.setattr(time, "perf_counter_ns", lambda: next(clock))
        m.setattr(coordinator, "FLUSH_EXECUTIONS", 1)
        m.setattr(coordinator, "FLUSH_SECONDS", float("inf"))
        if before:
            m.setattr(block, "sample_lists", collect_before)
            m.setattr(coordinator, "chunk_arrays", chunk_arrays_before)
        return start_run(resolve(spec),
                         Budget(EXECUTIONS), out=out, jobs=1, progress=NoProgress(),
                         interrupt=Interrupt(),
                         executor_for=lambda plan, jobs: InlineExecutor()).run_dir


def _chunks(run_dir):
    store = RunStore.open(run_dir)
    try:
        names = store.sample_chunks()
    finally:
        store.close()
    out = {}
    for name in names:
        with np.load(run_dir / "samples" / f"{name}.npz") as npz:
            out[name] = {key: npz[key] for key in npz.files}
    return out


@pytest.mark.parametrize(("scenario", "strategy"), [
    ("dup_mmap", "random"), ("dup_mmap", "mix"),
    ("rcu_transitions", "pct"), ("rcu_transitions", "mix"),
    ("mmput_race", "random"), ("mmput_race", "mix"),
    ("page_fault", "pct"), ("page_fault", "random"),
    ("stack_expand", "random"), ("stack_expand", "pct")])
def test_stored_chunks_and_report_are_the_ones_per_execution_arrays_made(
        tmp_path, monkeypatch, scenario, strategy):
    spec = RunSpec(scenario, strategy=strategy)
    now = _campaign(monkeypatch, tmp_path / "now", spec)
    then = _campaign(monkeypatch, tmp_path / "then", spec, before=True)
    chunks, want = _chunks(now), _chunks(then)
    assert list(chunks) == list(want)
    assert len(want) == 2
    for name, arrays in want.items():
        assert differences(chunks[name], arrays) == [], name
    report, wanted = load_run(now), load_run(then)
    assert replace(report, campaign=None) == replace(wanted, campaign=None)
    assert report.campaign.steps_per_execution == wanted.campaign.steps_per_execution
    assert report.spans  # every one of these scenarios times some span


def _kept_going(monkeypatch, tmp_path, mutant):
    """rcu_transitions under @mutant, kept going past its findings: the
    chunks stored now, after checking they are the ones stored before."""
    spec = RunSpec("rcu_transitions", strategy="random", mutant=mutant,
                   keep_going=True)
    chunks = _chunks(_campaign(monkeypatch, tmp_path / "now", spec))
    want = _chunks(_campaign(monkeypatch, tmp_path / "then", spec, before=True))
    assert list(chunks) == list(want)
    for name, arrays in want.items():
        assert differences(chunks[name], arrays) == [], name
    return chunks


def test_executions_that_end_before_any_span_completes_are_stored_as_before(
        tmp_path, monkeypatch):
    chunks = _kept_going(monkeypatch, tmp_path, "set-in-rcu-unlocked")
    for chunk in chunks.values():
        assert not [key for key in chunk if key.startswith("span.")]
        assert chunk["rcu.waiting"].shape == (0, 2)
        assert chunk["rcu.waiting@exec"].shape == (0,)
        peaks = chunk["rcu.waiting_peak@exec"].tolist()
        assert chunk["rcu.waiting_peak"].tolist() == [0] * len(set(peaks))


def test_executions_without_waiting_rows_among_others_are_stored_as_before(
        tmp_path, monkeypatch):
    chunks = _kept_going(monkeypatch, tmp_path, "free-without-grace-period")
    owners = {int(i) for c in chunks.values() for i in c["rcu.waiting@exec"]}
    assert owners
    assert set(range(EXECUTIONS)) - owners
    assert all(c["rcu.waiting"].shape[1:] == (2,) for c in chunks.values())
