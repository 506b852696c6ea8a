"""Campaigns and known kernel bugs: counted and shown, exit 0; --strict: 1."""

from tests.cli.helpers import cli, stress_json

NULL_NODE = ("--scenario", "rcu_transitions", "--set", "vmas=2", "--set",
             "ops_seed=5", "--executions", "40")


def test_a_known_kernel_bug_is_counted_shown_and_does_not_fail_the_run(capsys,
                                                                        tmp_path):
    code, out = stress_json(capsys, tmp_path, *NULL_NODE)
    assert code == 0
    [finding] = out["findings"]
    assert finding["kind"] == "null-ptr-deref"
    assert finding["known"] == "maple-rewalk-null-node"
    assert finding["kernel"] == "unchecked"
    assert out["executions"] == 40  # a known bug does not end the run
    assert finding["count"] > 1


def test_strict_counts_known_bugs_as_new(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, *NULL_NODE, "--strict")
    assert code == 1
    assert out["findings"][0]["known"] == "maple-rewalk-null-node"


def test_the_report_is_the_kernel_oops(capsys, tmp_path):
    code, out, _ = cli(capsys, "stress", *NULL_NODE, "--out", tmp_path / "runs",
                       "--quiet", "--no-report")
    assert code == 0
    assert "1 known kernel bug (catalogued; not counted as new), 0 new" in out
    assert "known kernel bug maple-rewalk-null-node" in out
    assert "candidate fix: --set kernel_fixes=rewalk-no-node" in out
    [trace] = (tmp_path / "runs").glob("*/findings/*.json")
    report = trace.read_text()
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000000" in report
    assert "Call Trace:" in report
    assert "ma_dead_node (maple/node.py" in report
    assert "nullptr.py" not in report


def test_the_candidate_fix_makes_the_scenario_clean(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, *NULL_NODE, "--set",
                            "kernel_fixes=rewalk-no-node")
    assert code == 0
    assert out["findings"] == []
    assert out["plan"]["params"]["kernel_fixes"] == "rewalk-no-node"


def test_an_unknown_fix_is_a_one_line_error(capsys, tmp_path):
    code, _, err = cli(capsys, "stress", "--scenario", "mmput_race", "--set",
                       "kernel_fixes=nope", "--out", tmp_path / "runs")
    assert code == 2
    assert "unknown kernel fix 'nope'" in err
    assert len(err.strip().splitlines()) == 1


REVERSE = ("--scenario", "rcu_transitions", "--set", "op_set=mprotect", "--set",
           "read_kind=reverse", "--strategy", "mix", "--executions", "100", "--seed",
           "0")
"""mix finds the stale parent slot at execution 94 of seed 0; aimed, the
default before aimed-surw, first at 908 (a fine-grained window inside a rebalance, which
only its plain pct and random quarters reach)."""


def test_a_reverse_walk_ended_by_a_stale_parent_slot_is_known(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, *REVERSE)
    assert code == 0
    [finding] = out["findings"]
    assert finding["kind"] == "warning"  # before the entry is missed
    assert finding["message"].startswith(
        "WARNING in mas_prev_slot <- mas_find_rev <- iterate_rev <- read_once: "
        "WARN_ON_ONCE(mas_is_underflow(mas))")
    assert finding["known"] == "maple-rebalance-stale-parent-slot"
    code, out = stress_json(capsys, tmp_path, *REVERSE, "--set",
                            "kernel_fixes=rebalance-parent-slot")
    assert code == 0
    assert out["findings"] == []


MAPS = ("--scenario", "page_fault", "--set", "design=vma_refcnt", "--set",
        "maps_reads=3", "--set", "faulters=1", "--set", "ops=14", "--strategy",
        "pct", "--seed", "1", "--executions", "4")
"""page_fault with maps-skips-gap-check's parameters but neither the mutant
nor the fix: pct's seed 1 shows the stale-iterator hole at execution 2."""

GAP_CHECK = ("--mutant", "maps-skips-gap-check", "--strategy", "pct-site", "--seed",
             "0", "--executions", "4")
"""The mutant runs with proc-maps-stale-iterator's candidate fix applied;
pct-site's seed 0 shows its hole at execution 0."""


def test_the_stale_maps_iterator_without_its_fix_is_the_known_bug(capsys, tmp_path):
    code, out = stress_json(capsys, tmp_path, *MAPS)
    assert code == 0
    [finding] = out["findings"]
    assert finding["message"].startswith("maps0/3: showed a hole")
    assert finding["known"] == "proc-maps-stale-iterator"


def test_a_hole_shown_with_the_known_bugs_fix_applied_is_a_new_finding(capsys,
                                                                       tmp_path):
    code, out = stress_json(capsys, tmp_path, *GAP_CHECK)
    assert out["plan"]["params"]["kernel_fixes"] == "maps-restart-at-last-addr"
    [finding] = out["findings"]
    assert finding["message"].startswith("maps0/3: showed a hole")
    assert finding["known"] is None
    assert code == 1
    assert out["executions"] == 1  # a new finding ends the run


def test_the_same_hole_without_the_fix_is_labelled_known_again(capsys, tmp_path):
    """Taking the fix away (an empty kernel_fixes) puts the bug back in the run."""
    code, out = stress_json(capsys, tmp_path, *GAP_CHECK, "--set", "kernel_fixes=")
    assert "kernel_fixes" not in out["plan"]["params"]
    assert [f["known"] for f in out["findings"]][:1] == ["proc-maps-stale-iterator"]
    assert code == 0
