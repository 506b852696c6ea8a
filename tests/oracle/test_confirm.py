"""``rcu-harness oracle confirm``: findings replayed on the real lib/maple_tree.c."""

import pytest

from rcu_harness.oracle.agree import driver_for
from rcu_harness.oracle.build import OracleUnavailable
from rcu_harness.oracle.confirm import confirm
from rcu_harness.oracle.ops import MFind, MSet, RLock
from tests.cli.helpers import cli

pytestmark = [pytest.mark.oracle, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def oracle():
    try:
        return driver_for(())
    except OracleUnavailable as err:
        pytest.skip(err.reason)


def _finding(tmp_path, capsys, *argv):
    """Run a short campaign; the trace file of its (first) finding."""
    code, _, err = cli(capsys, "stress", *argv, "--out", tmp_path / "runs",
                       "--quiet", "--no-report")
    assert code in (0, 1), err
    traces = sorted((tmp_path / "runs").glob("*/findings/*.json"))
    assert traces
    return traces[0]


NULL_NODE = ("--scenario", "rcu_transitions", "--set", "vmas=2", "--set",
             "ops_seed=5", "--executions", "3")


def test_the_null_node_finding_is_confirmed_and_the_fix_holds(oracle, tmp_path,
                                                               capsys):
    trace = _finding(tmp_path, capsys, *NULL_NODE)
    emitted = tmp_path / "repro.c"
    code, out, _ = cli(capsys, "oracle", "confirm", trace, "--emit", emitted)
    assert code == 1
    assert out.startswith("kernel: confirmed: the kernel fails")
    assert "mas_next_slot" in out
    program = emitted.read_text()
    assert "entry = mas_find(&rmas, ULONG_MAX);" in program
    assert "rcu_read_lock();" in program
    assert "EXPECT(" in program
    code, out, _ = cli(capsys, "oracle", "confirm", trace, "--kernel-fix",
                       "rewalk-no-node")
    assert code == 0
    assert out.startswith("kernel: clean-with-fix: the kernel with rewalk-no-node")


def test_the_coarsened_trace_is_the_readers_calls_between_the_writes(oracle,
                                                                     tmp_path,
                                                                     capsys):
    result = confirm(_finding(tmp_path, capsys, *NULL_NODE))
    ops = list(result.ops)
    start = ops.index(RLock())
    assert ops[start + 1:start + 3] == [MSet(0), MFind((1 << 64) - 1)]
    assert ops[-1] == MFind((1 << 64) - 1)
    assert result.verdict == "confirmed"


def test_stress_confirm_marks_the_stored_finding(oracle, tmp_path, capsys):
    code, out, _ = cli(capsys, "stress", *NULL_NODE, "--out", tmp_path / "runs",
                       "--quiet", "--no-report", "--confirm")
    assert code == 0
    assert "    kernel: confirmed (the kernel fails" in out


@pytest.mark.parametrize(("mutant", "status", "why"), [
    ("free-without-grace-period", 1, "heap-use-after-free"),
    ("publish-before-fill", 2, "needs a finer interleaving"),
    ("in-place-write-in-rcu", 2, "needs a finer interleaving"),
])
def test_mutants_are_confirmed_on_c_with_the_same_defect_or_not_expressible(
        oracle, tmp_path, capsys, mutant, status, why):
    trace = _finding(tmp_path, capsys, "--mutant", mutant, "--executions", "300")
    code, out, _ = cli(capsys, "oracle", "confirm", trace)
    assert code == status, out
    assert why in out


def test_bad_input_is_one_line_and_exit_2(oracle, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for argv in (["oracle", "confirm", tmp_path / "missing.json"],
                 ["oracle", "confirm", bad],
                 ["oracle", "confirm", bad, "--kernel-fix", "nope"]):
        code, out, err = cli(capsys, *argv)
        assert code == 2
        assert out == ""
        assert len(err.strip().splitlines()) == 1
