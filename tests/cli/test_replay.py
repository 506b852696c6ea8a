"""``rcu-harness replay``: by trace or by seed, exactly; events; --minimize."""

import json
import re
import time
from pathlib import Path

import pytest

from rcu_harness.trace.tracefile import load_trace
from tests.cli.helpers import cli, command_args, stress_json

SEED_ARGS = ("--scenario", "rcu_transitions", "--mutant", "free-without-grace-period",
             "--strategy", "random", "--seed", "0")


@pytest.fixture(scope="module")
def finding(tmp_path_factory):
    """One stored finding (made through the real entry point)."""
    from rcu_harness.cli import main

    out = tmp_path_factory.mktemp("runs")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(["stress", *SEED_ARGS, "--executions", "30", "--out", str(out),
                     "--json", "--quiet", "--no-report"])
    assert code == 1
    return json.loads(buf.getvalue())["findings"][0]


def _digest(text):
    return re.search(r"events digest ([0-9a-f]{32})", text).group(1)


def test_replaying_a_trace_prints_the_report_and_matches_its_events(capsys,
                                                                    finding):
    code, out, err = cli(capsys, "replay", finding["trace"])
    assert code == 1
    assert "BUG: KASAN: slab-use-after-free" in out
    assert "Interleaving (last" in out
    assert f"replay {finding['trace']}" in out
    assert "The event stream matches the trace's" in out
    assert err == ""


def test_replaying_by_seed_is_the_same_execution_as_by_trace(capsys, finding):
    _, by_trace, _ = cli(capsys, "replay", finding["trace"])
    code, by_seed, _ = cli(capsys, "replay", *SEED_ARGS, "--execution",
                           finding["first_execution"])
    assert code == 1
    assert _digest(by_seed) == _digest(by_trace)
    assert finding["replay"] in by_seed


def test_events_prints_every_event(capsys, finding):
    code, out, _ = cli(capsys, "replay", finding["trace"], "--events")
    assert code == 1
    count = int(re.search(r"Events \((\d+)\):", out).group(1))
    assert count > 100
    assert len([ln for ln in out.splitlines() if " LOAD " in ln]) > 50


def test_a_passing_execution_replays_with_exit_0(capsys):
    code, out, _ = cli(capsys, "replay", "--scenario", "mmput_race", "--set",
                       "vmas=4", "--strategy", "random", "--seed", "1",
                       "--execution", "2")
    assert code == 0
    assert out.startswith("No violation: execution 2 of mmput_race")


def test_minimize_writes_a_smaller_trace_that_fails_the_same_way(capsys, finding,
                                                                 tmp_path):
    target = tmp_path / "small.json"
    code, out, _ = cli(capsys, "replay", finding["trace"], "--minimize",
                       "--output", target, "--max-runs", "150")
    assert code == 1
    before, after = map(int, re.search(r"Minimized: (\d+) -> (\d+) preemptions",
                                       out).groups())
    assert after < before
    assert f"Same failure: yes (signature {finding['signature']}); {after} " \
           "preemptions" in out
    small = load_trace(target, scenario_module="rcu_harness.scenarios.transitions")
    assert small.finding.signature == finding["signature"]
    code, again, _ = cli(capsys, "replay", target)
    assert code == 1
    assert f"{after} preemptions" in again
    assert "The event stream matches the trace's" in again


def test_minimize_never_overwrites_a_file(capsys, finding, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        code, _, _ = cli(capsys, "replay", finding["trace"], "--minimize",
                         "--max-runs", "3")
        assert code == 1
    names = sorted(p.name for p in tmp_path.glob("*.min*.json"))
    sig = finding["signature"]
    prefix = f"rcu_transitions-free-without-grace-period-{sig}"
    assert names == [f"{prefix}.min-2.json", f"{prefix}.min.json"]


def test_minimize_of_a_passing_execution_has_nothing_to_do(capsys):
    code, out, _ = cli(capsys, "replay", "--scenario", "mmput_race", "--set",
                       "vmas=4", "--execution", "1", "--minimize")
    assert code == 0
    assert "Nothing to minimize" in out


def test_stress_and_replay_agree_on_strategy_parameters(capsys, tmp_path):
    _, out = stress_json(capsys, tmp_path, "--scenario", "rcu_transitions",
                         "--mutant", "gp-ignores-readers", "--strategy", "pct",
                         "--strategy-param", "depth=2", "--executions", "60")
    f = out["findings"][0]
    assert "--strategy-param depth=2" in f["replay"]
    code, text, _ = cli(capsys, *command_args(f["replay"]))
    assert code == 1
    _, by_trace, _ = cli(capsys, "replay", f["trace"])
    assert _digest(text) == _digest(by_trace)


@pytest.mark.parametrize("strategy", ["random", "pct", "mix", "dfs", "pct-sync",
                                      "random-sync", "aimed", "aimed-surw",
                                      "pct-site", "aimed-site", "pct-relay",
                                      "aimed-relay", "aimed-stale",
                                      "aimed-pct", "aimed-rcu", "aimed-class",
                                      "aimed-conflict", "aimed-data"])
def test_execution_i_by_seed_is_execution_i_of_the_run(strategy):
    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import resolve
    from rcu_harness.campaign.worker import WorkUnit, run_unit
    from rcu_harness.runner.replay import schedule_of
    from rcu_harness.runner.run import run_execution
    from rcu_harness.scenarios.catalog import applied, program
    from rcu_harness.sched.replay import ReplayStrategy

    plan = resolve(RunSpec("mmput_race", strategy=strategy, params={"vmas": 3}))
    ran = run_unit(WorkUnit(plan, 0, 8)).executions
    cfg = plan.config()
    with applied(cfg.mutant, cfg.fixes):
        for i in (0, 5, 7):
            schedule = schedule_of(program(cfg), strategy=strategy, seed=plan.seed,
                                   execution=i, max_steps=plan.max_steps,
                                   strategy_params=dict(plan.strategy_params))
            assert schedule.seed == ran[i].seed
            strict = ReplayStrategy(schedule)
            strict.new_execution(0)
            again = run_execution(program(cfg), strict, i,
                                  max_steps=plan.max_steps, record=0)
            assert again.step == ran[i].steps, i


@pytest.mark.parametrize("args", [
    ("--scenario", "page_fault", "--mutant", "vma-freed-without-rcu"),
    ("--scenario", "rcu_transitions", "--mutant", "vma-used-after-rcu-unlock"),
    ("--scenario", "rcu_transitions", "--mutant", "dead-mark-no-wmb"),
    ("--scenario", "tree_destroy", "--mutant", "destroy-frees-at-once"),
    # calibration scores its fault addresses: the finding's values are chosen
    ("--scenario", "rcu_transitions", "--mutant", "fault-skips-vma-recheck")])
def test_replay_and_stress_default_to_the_aimed_data_strategy(capsys, tmp_path,
                                                              args):
    code, out = stress_json(capsys, tmp_path, *args, "--executions", "60")
    assert code == 1
    assert "--strategy aimed-data " in out["findings"][0]["replay"]
    execution = str(out["findings"][0]["first_execution"])
    _, default, _ = cli(capsys, "replay", *args, "--execution", execution)
    _, named, _ = cli(capsys, "replay", *args, "--execution", execution,
                      "--strategy", "aimed-data")
    _, by_trace, _ = cli(capsys, "replay", out["findings"][0]["trace"])
    assert _digest(default) == _digest(named) == _digest(by_trace)


def test_a_far_execution_replays_at_once_and_the_index_is_bounded(capsys):
    started = time.monotonic()
    code, out, _ = cli(capsys, "replay", "--scenario", "mmput_race", "--set",
                       "vmas=2", "--strategy", "random", "--execution", "10000000")
    assert code == 0, out
    assert out.startswith("No violation: execution 10000000 of mmput_race")
    assert time.monotonic() - started < 30, "replay by seed is not linear in N"
    code, out, err = cli(capsys, "replay", "--scenario", "mmput_race",
                         "--execution", str(10**23))
    assert (code, out) == (2, "")
    assert "--execution 100000000000000000000000 is beyond the largest execution " \
           "index 9223372036854775807" in err
    code, _, err = cli(capsys, "replay", "--scenario", "mmput_race", "--strategy",
                       "dfs", "--execution", "100001")
    assert code == 2
    assert "at most 100000 by seed); replay the finding's trace file instead" in err


@pytest.mark.parametrize("option", [("--max-steps", "5"), ("--seed", "3"),
                                    ("--execution", "2"), ("--strategy", "pct")])
def test_a_trace_file_refuses_options_it_fixes(capsys, finding, option):
    code, out, err = cli(capsys, "replay", finding["trace"], *option)
    assert (code, out) == (2, "")
    assert f"drop {option[0]}" in err
    if option[0] == "--max-steps":
        assert "replays under the step bound it was recorded with" in err


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: t["events"][3].update(value="0xdead"), "its recorded event 3 (step "),
    (lambda t: t["events"].pop(), "it records"),
    (lambda t: t.update(events_digest="0" * 32), "its digest is 000000"),
])
def test_an_edited_trace_does_not_pass_for_the_execution(capsys, finding, tmp_path,
                                                          edit, says):
    data = json.loads(Path(finding["trace"]).read_text())
    edit(data)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, out, err = cli(capsys, "replay", edited)
    assert code == 1
    assert "The event stream DIFFERS from the trace's: " + says in out
    assert "matches" not in out
    assert err.startswith("rcu-harness: warning: this replay is not the execution "
                          "the trace records (was the trace edited?): " + says)
