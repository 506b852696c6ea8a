"""``replay TRACE.json --litmus OUT.litmus``: a finding's pattern for herd7.

For barrier mutants found under lkmm, the exported test has the outcome
the finding needed, and the Linux kernel memory model allows it
(``Sometimes``); the fixed pattern, with the kernel's ordering put back,
forbids it (``Never``).  The harness's own model says the same on both
files (always checked), herd7 where it is available.
"""

from __future__ import annotations

import pytest

from rcu_harness import __version__
from rcu_harness.campaign.replay import from_trace, replay
from rcu_harness.litmus.export import NoPatternError, export
from rcu_harness.litmus.herd import run_herd
from rcu_harness.litmus.parse import parse
from rcu_harness.scenarios import configure
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.trace.tracefile import trace_for, write_trace
from tests.cli.helpers import cli

pytestmark = pytest.mark.timeout(900)
FOUND = {  # mutant -> (seed, exported shape, fixed shape)
    "dead-node-no-rmb": (1, "maple-MP+wmb+po", "maple-MP+wmb+rmb"),
    "dead-mark-no-wmb": (0, "maple-MP+po+addr", "maple-MP+wmb+addr"),
    "replace-node-no-release": (1, "maple-MP+po+rmb", "maple-MP+rel+rmb"),
}


def _trace(tmp_path, mutant, seed):
    cfg = configure("rcu_transitions", None, mutant)
    result = explore_scenario(cfg, executions=60, seed=seed)
    assert result.findings, f"{mutant} not found"
    finding = result.findings[0]
    path = tmp_path / f"{mutant}.json"
    write_trace(path, trace_for(
        finding, scenario="rcu_transitions", harness_version=__version__,
        parameters=dict(cfg.values), mutant=mutant, strategy="mix", seed=seed,
        strategy_params={}, max_steps=200_000,
        scenario_module="rcu_harness.scenarios.transitions"))
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = {}
    for mutant, (seed, _, _) in FOUND.items():
        tmp = tmp_path_factory.mktemp(mutant)
        target = from_trace(_trace(tmp, mutant, seed))
        r = replay(target)
        assert r.finding is not None
        fault = next(t for t, label in r.names.items() if label == r.finding.thread)
        out[mutant] = export(r.memory_model, r.names, tmp / f"{mutant}.litmus",
                             fault_tid=fault, source=str(target.trace_path))
    return out


@pytest.mark.parametrize("mutant", sorted(FOUND))
def test_the_exported_pattern_is_allowed_and_its_fix_forbidden(exported, mutant):
    out = exported[mutant]
    _, shape, fixed = FOUND[mutant]
    assert (out.pattern.name(), out.pattern.fixed().name()) == (shape, fixed)
    assert out.model_verdicts == ("Sometimes", "Never")
    for path in (out.path, out.fixed_path):
        text = path.read_text()
        test = parse(text)
        assert len(test.procs) == 2
        assert all(len(p) <= 6 for p in test.procs)
        assert "stale: store at step" in text


@pytest.mark.parametrize("mutant", sorted(FOUND))
def test_herd7_agrees(herd, exported, mutant):
    out = exported[mutant]
    assert run_herd(herd, out.path).verdict == "Sometimes"
    assert run_herd(herd, out.fixed_path).verdict == "Never"


def test_the_cli_writes_both_files(capsys, tmp_path):
    trace = _trace(tmp_path, "dead-node-no-rmb", 1)
    out = tmp_path / "dn.litmus"
    code, stdout, _ = cli(capsys, "replay", trace, "--litmus", out)
    assert code == 1
    assert out.is_file()
    assert (tmp_path / "dn.fixed.litmus").is_file()
    assert "(stale: store at step" in stdout  # the report's stale loads
    assert f"Wrote {out} (maple-MP+wmb+po): rcu-harness lkmm: Sometimes" in stdout
    assert "(maple-MP+wmb+rmb): rcu-harness lkmm: Never" in stdout


def test_litmus_needs_lkmm_and_a_weak_memory_finding(capsys, tmp_path):
    cfg = configure("rcu_transitions", None, "free-without-grace-period")
    found = explore_scenario(cfg, executions=200, seed=0).findings[0]
    path = tmp_path / "sc.json"
    write_trace(path, trace_for(found, scenario="rcu_transitions",
                                harness_version=__version__,
                                parameters=dict(cfg.values),
                                mutant="free-without-grace-period",
                                scenario_module="rcu_harness.scenarios.transitions"))
    code, _, err = cli(capsys, "replay", path, "--litmus", tmp_path / "x.litmus")
    assert code == 2
    assert err.strip().endswith("(this one is sequentially consistent)")
    assert len(err.strip().splitlines()) == 1


def test_no_pattern_without_a_stale_load():
    from rcu_harness.memory.wmm.model import LkmmModel

    class Ex:
        record = 1

    with pytest.raises(NoPatternError, match="does not depend on weak memory"):
        export(LkmmModel(Ex()), {}, None)  # type: ignore[arg-type]


def test_a_pattern_through_an_rmw_is_not_exported_as_plain_accesses(tmp_path):
    from rcu_harness import explore
    from rcu_harness import replay as replay_schedule
    from rcu_harness.kernel import SimStruct
    from rcu_harness.memory.access import RmwOrder
    from rcu_harness.memory.simstruct import field_rmw

    class Cell(SimStruct):
        fields = ("v",)

    def program(h):  # the flag is raised by a relaxed fetch-add: no ordering
        data, flag = h.static(Cell, v=0), h.static(Cell, v=0)

        def writer():
            data.v = 1
            field_rmw(flag, "v", lambda c: c + 1, RmwOrder.RELAXED)

        def reader():
            seen = flag.v
            assert not (seen and data.v == 0), "saw the flag but not the data"

        h.spawn("writer", writer)
        h.spawn("reader", reader)

    found = explore(program, strategy="dfs", executions=1000, preemption_bound=100,
                    memory_model="lkmm").findings[0]
    r = replay_schedule(found.schedule, program=program, memory_model="lkmm")
    with pytest.raises(NoPatternError, match="atomic read-modify-writes are not "
                                             "exported"):
        export(r.memory_model, r.names, tmp_path / "x.litmus")
