"""Findings carry their execution's events; trace files (format 2) store them."""

import json

import pytest

from rcu_harness import explore
from rcu_harness.kernel import (
    SimStruct,
    kfree,
    kmalloc,
    rcu_assign_pointer,
    rcu_dereference,
    rcu_read_lock,
    rcu_read_unlock,
)
from rcu_harness.runner.findings import KEEP_EVENTS
from rcu_harness.trace.fingerprint import model_fingerprint
from rcu_harness.trace.tracefile import (
    FORMAT,
    READABLE,
    TraceVersionError,
    load_trace,
    trace_for,
    write_trace,
)


class Head(SimStruct):
    fields = ("ptr",)


class Box(SimStruct):
    fields = ("val",)


def uaf_program(h):
    """The writer frees the old object at once: readers can touch it freed."""
    head = h.static(Head, ptr=None)
    head.ptr = kmalloc(Box, val=1)

    def reader():
        for _ in range(3):
            rcu_read_lock()
            p = rcu_dereference(head, "ptr")
            p.val  # noqa: B018
            rcu_read_unlock()

    def writer():
        for k in range(3):
            old = head.ptr
            rcu_assign_pointer(head, "ptr", kmalloc(Box, val=k + 2))
            kfree(old)

    h.spawn("reader", reader)
    h.spawn("writer", writer)
    h.at_exit(lambda: kfree(head.ptr))


@pytest.fixture(scope="module")
def finding():
    result = explore(uaf_program, executions=200, seed=2)
    assert result.findings
    return result.findings[0]


def test_a_use_after_free_finding_names_its_object_and_its_life(finding):
    assert finding.kind == "use-after-free"
    assert finding.addr
    whats = [what for what, _thread, _step in finding.lifecycle]
    assert whats[0] == "alloc"
    assert "free" in whats
    free_step = dict((w, s) for w, _t, s in finding.lifecycle)["free"]
    assert free_step < finding.step


def test_a_finding_keeps_the_events_of_its_diagnosing_rerun(finding):
    assert 0 < len(finding.events) <= KEEP_EVENTS + 8
    assert finding.threads[0] == "rcu_gp/0"
    frees = [e for e in finding.events if e.kind.name == "FREE"
             and e.addr == finding.addr]
    assert len(frees) == 1
    steps = [e.step for e in finding.events]
    assert steps == sorted(steps)
    assert steps[-1] <= finding.step


def test_trace_file_stores_events_with_thread_labels_and_round_trips(finding,
                                                                     tmp_path):
    trace = trace_for(finding, scenario="uaf", harness_version="0.1.0", seed=2)
    assert trace.format == FORMAT == 3
    assert len(trace.events) == len(finding.events)
    labels = {e.thread for e in trace.events}
    assert labels <= set(finding.threads)
    assert trace.finding.addr == hex(finding.addr)
    assert trace.finding.thread == finding.thread
    assert trace.finding.lifecycle[0].what == "alloc"
    free = next(e for e in trace.events if e.kind == "free")
    assert free.addr.startswith("0x")
    path = tmp_path / "t.json"
    write_trace(path, trace)
    assert load_trace(path) == trace
    first = json.loads(path.read_text())["events"][0]
    assert set(first) == {"step", "thread", "kind", "addr", "word", "index",
                          "value", "function", "reads", "stale"}
    assert (first["reads"], first["stale"]) == ("", "")  # sequentially consistent


def test_a_format_1_trace_still_loads_without_events(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({
        "format": 1, "harness_version": "0.1.0",
        "model_fingerprint": model_fingerprint(), "scenario": "x",
        "schedule": "UkgBAA", "finding": {"kind": "k", "signature": "s",
                                          "message": "m", "report": "r"}}))
    trace = load_trace(path)
    assert trace.events == ()
    assert trace.finding.lifecycle == ()
    assert 1 in READABLE


def test_an_unknown_format_is_still_refused(tmp_path):
    path = tmp_path / "new.json"
    path.write_text(json.dumps({"format": 4, "schedule": "x"}))
    with pytest.raises(TraceVersionError, match="reads formats 1, 2, 3"):
        load_trace(path)


def test_the_interleaving_names_the_setup_column_setup():
    from rcu_harness.trace.events import EventKind
    from rcu_harness.trace.interleaving import excerpt

    raws = [(0, -1, EventKind.WAKE.value, 0, "rcu_gp", 0, None, None),
            (1, 1, EventKind.RCU_LOCK.value, 0, None, 1, None, None)]
    header = excerpt(raws, {0: "rcu_gp/0", 1: "reader/1"}).splitlines()[1]
    assert header.split("|")[1].strip() == "setup"
    assert "-1" not in header
