"""Bad input: a one-line error on stderr and exit status 2, never a traceback."""

import re
import shutil

import pytest

from rcu_harness.report import ReportError, report_command, write_report
from rcu_harness.store.runstore import RunStore


def _expect_2(capsys, run_dir, match, **kw):
    code = report_command([run_dir], as_json=kw.get("as_json", False),
                          html=False, compare=kw.get("compare"))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rcu-harness report: error: ")
    assert match in lines[0]
    with pytest.raises(ReportError, match=re.escape(match)):
        write_report(run_dir)


def test_a_missing_directory(tmp_path, capsys):
    _expect_2(capsys, tmp_path / "nope", "no such run directory")


def test_a_directory_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    _expect_2(capsys, tmp_path / "x", "is not a run directory")


def test_a_file_instead_of_a_directory(tmp_path, capsys):
    (tmp_path / "f").write_text("hello")
    _expect_2(capsys, tmp_path / "f", "is not a directory")


def test_an_empty_run(tmp_path, capsys):
    RunStore.create(tmp_path / "run", {"scenario": "x"}).close()
    _expect_2(capsys, tmp_path / "run", "empty run (no executions stored)")


@pytest.mark.parametrize("garbage", [b"not numpy at all", b"PK\x03\x04trunc",
                                     b""])
def test_a_corrupt_sample_file(scenario_run, tmp_path, capsys, garbage):
    run = tmp_path / "copy"
    shutil.copytree(scenario_run, run)
    chunk = sorted((run / "samples").glob("*.npz"))[0]
    chunk.write_bytes(garbage)
    _expect_2(capsys, run, "corrupt")


def test_a_missing_sample_file(scenario_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(scenario_run, run)
    sorted((run / "samples").glob("*.npz"))[0].unlink()
    _expect_2(capsys, run, "missing or corrupt")


def test_a_bad_baseline_for_compare(scenario_run, tmp_path, capsys):
    code = report_command([scenario_run], as_json=False, html=False,
                          compare=tmp_path / "nope")
    captured = capsys.readouterr()
    assert code == 2
    assert "no such run directory" in captured.err
    assert captured.out == ""


def test_no_run_directory_at_all(capsys):
    assert report_command([], as_json=False, html=False, compare=None) == 2
    assert "no run directory given" in capsys.readouterr().err


def test_a_missing_trace_file_is_noted_not_fatal(bug_run, tmp_path):
    from rcu_harness.report.model import load_run

    run = tmp_path / "copy"
    shutil.copytree(bug_run, run)
    for trace in (run / "findings").glob("*.json"):
        trace.unlink()
    (f,) = load_run(run).findings
    assert "no such trace file" in f.problem
    write_report(run)
    assert "No swimlane" in (run / "report.html").read_text()
