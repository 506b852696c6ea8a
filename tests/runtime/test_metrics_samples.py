"""RCU samples of an execution, checked by hand and against its own events;
the same arrays as before samples were plain lists."""

import pickle

import numpy as np
import pytest

from rcu_harness.kernel import SimStruct
from rcu_harness.rcu import gp
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.metrics import RCU_SAMPLES, collect, sample_lists
from rcu_harness.scenarios import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.store.samples import sample_kind
from rcu_harness.trace.events import EventKind
from tests.report.programs import controlled
from tests.runtime.samples_before import collect_before, differences


def _run(prog, i=0, seed=7, record=1):
    strategy = make_strategy("random", seed)
    strategy.new_execution(i)
    return run_execution(prog, strategy, i, record=record)


@pytest.mark.parametrize("i", range(4))
def test_legal_grace_periods_give_pipe_one_batch_zero_and_peak_four(i):
    ex = _run(controlled(broken=False), i)
    assert ex.violation is None
    c = collect(ex)
    assert c["rcu.pipe"].tolist() == [1]
    assert c["rcu.batch"].tolist() == [0]
    assert c["rcu.retired_age"].tolist() == [1]
    assert c["rcu.waiting_peak"].tolist() == [4]


@pytest.mark.parametrize("i", range(4))
def test_grace_periods_that_ignore_readers_show_past_the_legal_buckets(i, monkeypatch):
    monkeypatch.setattr(gp, "pre_existing_readers", lambda ex: {})
    ex = _run(controlled(broken=True), i)
    assert ex.violation is None
    c = collect(ex)
    assert c["rcu.batch"].tolist() == [2]
    assert c["rcu.pipe"].tolist() == [3]
    assert c["rcu.retired_age"].tolist() == [3]
    assert c["rcu.waiting_peak"].tolist() == [1]


def _waiting_from_events(ex):
    """The waiting series rebuilt from call_rcu and free events."""
    queued, count, rows = set(), 0, []
    for step, _tid, kind, addr, *_ in ex.events:
        if kind == EventKind.CALL_RCU:
            queued.add(addr)
            count += 1
        elif kind == EventKind.FREE and addr in queued:
            queued.discard(addr)
            count -= 1
        else:
            continue
        if rows and rows[-1][0] == step:
            rows[-1][1] = count
        else:
            rows.append([step, count])
    if count:  # the rest is freed at teardown, which records no events
        if rows[-1][0] == ex.step:
            rows[-1][1] = 0
        else:
            rows.append([ex.step, 0])
    return rows


def _free_delays_from_events(ex):
    called, out = {}, []
    for step, _tid, kind, addr, *_ in ex.events:
        if kind == EventKind.CALL_RCU:
            called[addr] = step
        elif kind == EventKind.FREE and addr in called:
            out.append(step - called.pop(addr))
    return out


def _gp_steps_from_events(ex):
    starts, out = {}, []
    for step, _tid, kind, addr, *_ in ex.events:
        if kind == EventKind.GP_START:
            starts[addr] = step
        elif kind == EventKind.GP_END:
            out.append(step - starts.pop(addr))
    return out


def _batch_from_events(ex):
    """Grace periods ended inside each outermost read-side section."""
    open_at, ended, out = {}, 0, []
    for _step, tid, kind, _addr, _word, index, *_ in ex.events:
        if kind == EventKind.GP_END:
            ended += 1
        elif kind == EventKind.RCU_LOCK and index == 1:
            open_at[tid] = ended
        elif kind == EventKind.RCU_UNLOCK and index == 0:
            out.append(ended - open_at.pop(tid))
    return out


@pytest.mark.parametrize("i", range(3))
def test_waiting_free_delay_and_gp_samples_match_the_event_stream(i):
    ex = _run(controlled(broken=False), i)
    c = collect(ex)
    assert c["rcu.waiting"].shape[1] == 2
    assert c["rcu.waiting"].tolist() == _waiting_from_events(ex)
    assert c["rcu.free_delay_steps"].tolist() == _free_delays_from_events(ex)
    assert c["value.rcu.gp_steps"].tolist() == _gp_steps_from_events(ex)
    assert len(c["rcu.free_delay_steps"]) == 3  # A is freed at exit, unsampled


@pytest.mark.parametrize(("scenario", "i"), [("rcu_transitions", 0),
                                             ("rcu_transitions", 1),
                                             ("dup_mmap", 0), ("mmput_race", 2)])
def test_scenario_samples_match_the_event_stream(scenario, i):
    ex = _run(program(configure(scenario, {})), i, seed=3)
    assert ex.violation is None
    c = collect(ex)
    assert c["rcu.batch"].tolist() == _batch_from_events(ex)
    assert c["rcu.waiting"].tolist() == _waiting_from_events(ex)
    assert c["rcu.free_delay_steps"].tolist() == _free_delays_from_events(ex)
    assert c["value.rcu.gp_steps"].tolist() == _gp_steps_from_events(ex)
    assert int(c["rcu.waiting_peak"][0]) == max(
        [n for _, n in c["rcu.waiting"].tolist()], default=0)
    assert len(c["rcu.pipe"]) == len(c["rcu.batch"])


def test_every_reader_restart_is_attributed_to_the_reader_span_it_happened_in():
    ex = _run(program(configure("rcu_transitions", {"read_kind": "mixed"})), 1,
              seed=3, record=0)
    c = collect(ex)
    restarts = sum(float(v.sum()) for k, v in c.items()
                   if k.startswith("span.reader.") and k.endswith(".restarts"))
    assert ex.counters.get("reader_restart", 0) > 0
    assert restarts == ex.counters["reader_restart"]


class Cell(SimStruct):
    fields = ("value",)


def test_a_span_aborted_by_a_finding_gives_no_sample():
    def prog(h):
        cell = h.static(Cell, value=0)

        def t():
            with h.span("done"):
                cell.value = 1
            with h.span("aborted"):
                cell.value = 1 / 0

        h.spawn("t", t)

    ex = _run(prog)
    assert ex.violation is not None
    c = collect(ex)
    assert c["span.done.steps"].tolist() == [1]
    assert "span.aborted.steps" not in c


def test_collect_always_names_the_rcu_samples_even_when_empty():
    def prog(h):
        h.spawn("t", lambda: None)

    c = collect(_run(prog))
    for key in ("rcu.free_delay_steps", "rcu.pipe", "rcu.batch", "rcu.retired_age"):
        assert c[key].dtype == np.int64
        assert c[key].size == 0
    assert c["rcu.waiting"].shape == (0, 2)
    assert c["rcu.waiting_peak"].tolist() == [0]


def _executions(scenario, strategy, n=4):
    prog = program(configure(scenario, {}))
    s = make_strategy(strategy, 5)
    for i in range(n):
        s.new_execution(i)
        yield run_execution(prog, s, i, record=0)


@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race",
                                      "page_fault", "stack_expand"])
@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_collect_gives_the_arrays_it_gave_before_samples_were_plain_lists(
        scenario, strategy):
    for ex in _executions(scenario, strategy):
        assert differences(collect(ex), collect_before(ex)) == []


def test_sample_lists_are_collects_arrays_as_lists():
    for ex in _executions("rcu_transitions", "random", 2):
        lists, arrays = sample_lists(ex), collect(ex)
        assert list(lists) == list(arrays)
        for key, values in lists.items():
            if not key.endswith(".ns"):
                assert arrays[key].tolist() == values


def test_the_rcu_samples_are_of_the_kinds_the_store_gives_their_names():
    ex = next(_executions("rcu_transitions", "random", 1))
    arrays = collect(ex)
    for key in RCU_SAMPLES:
        kind = sample_kind(key)
        assert arrays[key].dtype == kind.dtype
        assert arrays[key].ndim == (1 if kind.width == 1 else 2)


def test_a_span_counter_named_like_the_spans_own_samples_is_refused_where_it_is_added():
    """The program's own mistake: an exception finding naming it, not a
    failing block."""
    def prog(h):
        def t():
            with h.span("walk") as sp:
                sp.add("restarts", 1)
                sp.add("ns", 3)

        h.spawn("t", t)

    ex = _run(prog)
    assert ex.violation is not None
    assert str(ex.violation.kind) == "exception"
    assert "span 'walk': a counter named 'ns' would hide" in ex.violation.message


def test_an_executions_sample_lists_pickle_to_under_half_its_arrays():
    for ex in _executions("mmput_race", "random", 3):
        lists = len(pickle.dumps(sample_lists(ex)))
        assert lists < len(pickle.dumps(collect(ex))) / 2
