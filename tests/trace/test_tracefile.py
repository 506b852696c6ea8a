"""Trace files: versioned JSON, validated on load with distinct errors."""

import json

import pytest

from rcu_harness.trace.fingerprint import model_fingerprint
from rcu_harness.trace.tracefile import (
    FORMAT,
    TraceFile,
    TraceFinding,
    TraceFingerprintError,
    TraceMissingError,
    TraceNotJsonError,
    TraceTruncatedError,
    TraceVersionError,
    load_trace,
    write_trace,
)


def _trace(**overrides):
    fields = dict(
        harness_version="0.1.0", model_fingerprint=model_fingerprint(),
        scenario="dup_mmap", schedule="UkgBAA", parameters={"vmas": 3},
        mutant="no_rcu", strategy="pct", strategy_params={"depth": 3}, seed=7,
        execution=12, finding=TraceFinding("use-after-free", "abc", "msg", "rep"))
    fields.update(overrides)
    return TraceFile(**fields)


def test_trace_roundtrips(tmp_path):
    path = tmp_path / "t.json"
    write_trace(path, _trace())
    loaded = load_trace(path)
    assert loaded == _trace()
    assert json.loads(path.read_text())["format"] == FORMAT


def test_missing_truncated_not_json_version_and_fingerprint_errors(tmp_path):
    with pytest.raises(TraceMissingError, match="re-run the campaign"):
        load_trace(tmp_path / "nope.json")
    path = tmp_path / "t.json"
    text = _trace().to_json()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TraceTruncatedError, match="truncated; re-run"):
        load_trace(path)
    path.write_text("")
    with pytest.raises(TraceTruncatedError):
        load_trace(path)
    path.write_text("schedule: abc\n")
    with pytest.raises(TraceNotJsonError, match="not a JSON trace file"):
        load_trace(path)
    write_trace(path, _trace(format=99))
    with pytest.raises(TraceVersionError, match="format 99"):
        load_trace(path)
    write_trace(path, _trace(model_fingerprint="0" * 32))
    with pytest.raises(TraceFingerprintError, match="maple/ or the scenario changed"):
        load_trace(path)
    assert load_trace(path, check_fingerprint=False).seed == 7


def test_every_trace_error_message_is_one_line(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("[1, 2")
    with pytest.raises(TraceTruncatedError) as info:
        load_trace(path)
    assert "\n" not in str(info.value)


def test_model_fingerprint_covers_scenario_module(tmp_path):
    a = tmp_path / "scen.py"
    a.write_text("X = 1\n")
    first = model_fingerprint(str(a))
    assert model_fingerprint(str(a)) == first
    a.write_text("X = 2\n")
    assert model_fingerprint(str(a)) != first


def test_replay_accepts_a_trace_file_written_for_a_finding(tmp_path):
    from rcu_harness import explore, replay
    from rcu_harness.kernel import SimStruct
    from rcu_harness.trace.tracefile import trace_for

    class Cell(SimStruct):
        fields = ("value",)

    def program(h):
        cell = h.static(Cell, value=0)

        def inc():
            cell.value = cell.value + 1

        h.spawn("a", inc)
        h.spawn("b", inc)
        h.at_exit(lambda: None if cell.value == 2 else 1 / 0)

    finding = explore(program, executions=100, seed=1).findings[0]
    path = tmp_path / "finding.json"
    write_trace(path, trace_for(finding, scenario="lost-update",
                                harness_version="0.1.0", seed=1))
    result = replay(path, program=program)
    assert result.finding is not None
    assert result.finding.signature == finding.signature
