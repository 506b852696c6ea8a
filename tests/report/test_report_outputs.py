"""report.json, report.txt, report.html, the terminal summary and --compare."""

import io
import json
import re

import pytest

from rcu_harness.report import report_command, write_report
from rcu_harness.report.compare import compare_dict
from rcu_harness.report.json_out import report_dict
from rcu_harness.report.model import load_run
from rcu_harness.report.tables import report_tables
from rcu_harness.report.text import print_tables


def test_write_report_writes_json_text_and_html(controlled_run):
    write_report(controlled_run)
    data = json.loads((controlled_run / "report.json").read_text())
    r = load_run(controlled_run)
    assert data == json.loads(json.dumps(report_dict(r)))
    assert data["pipeline"]["pipe"]["counts"] == [0, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0]
    assert data["pipeline"]["batch"]["illegal"] == 2
    walk = data["spans"]["reader.walk"]["steps"]["summary"]
    assert set(walk) == {"count", "mean", "std", "min", "p50", "p90", "p99",
                         "p99.9", "max"}
    assert data["rcu"]["waiting_peak"]["summary"]["max"] == 4
    text = (controlled_run / "report.txt").read_text()
    assert "Reader Pipe" in text
    html = (controlled_run / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")


def test_the_rules_are_printed_right_under_the_pipe_and_batch_histograms(
        controlled_run):
    write_report(controlled_run)
    text = (controlled_run / "report.txt").read_text()
    table = text.index("rcutorture-style reader histograms")
    pipe_row = text.index("Reader Pipe (sections)", table)
    rule = text.index("Reader Pipe: per read-side section", table)
    batch_rule = text.index("Reader Batch: per read-side section", table)
    next_table = text.index("Benign outcomes", table)
    assert table < pipe_row < rule < batch_rule < next_table
    assert re.search(r"Reader Pipe \(sections\)\s+0 3 0 2 0 0 0 0 0 0 0\s+5\s+!!!",
                     text)
    assert re.search(r"Reader Batch \(sections\)\s+3 0 2 0 0 0 0 0 0 0 0\s+5\s+!!!",
                     text)


def test_report_command_prints_the_summary_and_returns_0(scenario_run, capsys):
    assert report_command([scenario_run], as_json=False, html=False,
                          compare=None) == 0
    out = capsys.readouterr().out
    for title in ("Campaign", "Reader latency, scheduling steps",
                  "Writer latency, scheduling steps", "Grace periods",
                  "Coverage: reader position x writer operation",
                  "extra RCU cycles"):
        assert title in out
    assert "\x1b[" not in out  # not a terminal: plain text


def test_report_command_json_is_one_document_and_html_path_goes_to_stderr(
        scenario_run, capsys):
    assert report_command([scenario_run], as_json=True, html=True,
                          compare=None) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["campaign"]["executions"] == 5
    assert captured.err.strip() == str(scenario_run / "report.html")
    assert (scenario_run / "report.html").is_file()


def test_report_command_html_prints_its_path(scenario_run, capsys):
    assert report_command([scenario_run], as_json=False, html=True,
                          compare=None) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == str(scenario_run / "report.html")


def test_several_runs_give_a_json_list(scenario_run, controlled_run, capsys):
    assert report_command([scenario_run, controlled_run], as_json=True,
                          html=False, compare=None) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["campaign"]["executions"] for d in data] == [5, 5]


def test_compare_shows_both_runs_and_deltas_this_minus_baseline(
        scenario_run, bug_run, capsys):
    this, base = load_run(bug_run), load_run(scenario_run)
    data = compare_dict(this, base)
    row = data["figures"]["executions"]
    assert (row["baseline"], row["this"], row["delta"]) == (5, 4, -1)
    assert row["delta_pct"] == pytest.approx(-20.0)
    gp = data["figures"]["grace period steps p50"]
    assert gp["delta"] == pytest.approx(this.rcu.gp_steps.summary.p50
                                        - base.rcu.gp_steps.summary.p50)
    assert data["findings"]["only_this"] == [this.findings[0].signature]
    assert report_command([bug_run], as_json=False, html=True,
                          compare=scenario_run) == 0
    out = capsys.readouterr().out
    assert "Comparison (delta = this - baseline)" in out
    assert re.search(r"executions\s+5\s+4\s+-1\s+-20.0%", out)
    page = bug_run / f"compare-{scenario_run.name}.html"
    assert out.rstrip().splitlines()[-1] == str(page)
    assert "data:image/png;base64," in page.read_text()


def test_rich_renders_the_same_tables_on_a_terminal(scenario_run):
    buf = io.StringIO()
    tables = report_tables(load_run(scenario_run))
    print_tables(tables, buf, terminal=True)
    out = buf.getvalue()
    for t in tables:
        assert t.title in out


def _cli_run(capsys, out, *argv):
    from rcu_harness.cli import main

    before = set(out.iterdir()) if out.exists() else set()
    main(["stress", *argv, "--executions", "3", "--out", str(out), "--quiet",
          "--no-report"])
    capsys.readouterr()
    (run_dir,) = set(out.iterdir()) - before
    return run_dir


def test_compare_across_programs_warns_and_heads_with_both_plans(tmp_path, capsys):
    from rcu_harness.cli import main

    runs = tmp_path / "runs"
    clean = _cli_run(capsys, runs, "--scenario", "mmput_race", "--set", "vmas=2")
    other = _cli_run(capsys, runs, "--scenario", "mmput_race", "--set", "vmas=2",
                     "--seed", "5")
    bug = _cli_run(capsys, runs, "--scenario", "rcu_transitions", "--mutant",
                   "free-without-grace-period", "--strategy", "random")
    assert main(["report", str(clean), "--compare", str(bug)]) == 0
    out, err = capsys.readouterr()
    assert err == ("rcu-harness report: warning: comparing runs of different "
                   "programs (scenario mmput_race against baseline rcu_transitions;"
                   " mutant none against baseline free-without-grace-period): the "
                   "deltas are not the effect of a change\n")
    head = out.splitlines()[:3]
    assert head[1].startswith("  this:     mmput_race/aimed-data seed 0; params "
                              "design=")
    assert head[2].startswith("  baseline: rcu_transitions+free-without-grace-period"
                              "/random seed 0; params")
    assert main(["report", str(clean), "--compare", str(other), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == "", "another seed of the same program is a fair comparison"
    data = json.loads(out)
    assert (data["plans"]["this"]["seed"], data["plans"]["baseline"]["seed"]) == (0, 5)
    assert data["warnings"] == []
