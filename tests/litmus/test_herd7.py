"""The lkmm model against herd7 and the kernel's tools/memory-model.

For every litmus test it can read (the kernel's own tools/memory-model
litmus tests, the maple patterns of stress/litmus/, the unit tests of
tests/memory/test_lkmm_litmus.py), the set of final states the harness's
model allows, enumerated with dfs, is herd7's set, except where
docs/weak-memory.md says the model is stronger than LKMM (load buffering
and the stores it never reorders: LB, S, 2+2W), where it is a strict subset.
A state the model allows and herd7 does not would be a false alarm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rcu_harness.litmus.herd import run_herd
from rcu_harness.litmus.parse import LitmusError, parse
from rcu_harness.litmus.run import outcomes
from tests.memory import test_lkmm_litmus as unit

ROOT = Path(__file__).resolve().parents[2]
MAPLE = sorted((ROOT / "stress" / "litmus").glob("*.litmus"))
STRONGER = {"LB+poonceonces", "S+poonceonces", "LB"}
"""Tests whose LKMM-allowed outcome the model never produces (documented)."""
pytestmark = pytest.mark.timeout(900)


def _project(states, names):
    return {frozenset((n, v) for n, v in s if n in names) for s in states}


def _compare(herd, path: Path, text: str):
    test = parse(text)
    mine = outcomes(test)
    theirs = run_herd(herd, path)
    names = set(test.cond.names())
    herd_states = _project(theirs.states, names)
    model_states = _project(mine.states, names)
    assert model_states <= herd_states, (test.name, model_states - herd_states)
    if test.name not in STRONGER:
        assert model_states == herd_states, (test.name, herd_states - model_states)
        assert mine.verdict == theirs.verdict
    return test, mine, theirs


@pytest.mark.parametrize("path", MAPLE, ids=lambda p: p.stem)
def test_maple_patterns_match_herd7_and_their_stated_result(herd, path):
    test, mine, theirs = _compare(herd, path, path.read_text())
    assert test.expected in ("Never", "Sometimes")
    assert theirs.verdict == test.expected
    assert mine.verdict == test.expected


def test_the_kernels_litmus_tests(herd):
    paths = sorted((herd.lkmm / "litmus-tests").glob("*.litmus"))
    assert len(paths) > 30
    compared = []
    for path in paths:
        try:
            parse(path.read_text())
        except LitmusError:
            continue  # spin_is_locked(), plain C accesses
        test, _, theirs = _compare(herd, path, path.read_text())
        compared.append(test.name)
        if test.expected:
            assert theirs.verdict == test.expected
    assert len(compared) >= 30


UNIT = {
    "MP": unit.mp(), "MP+wmb+rmb": unit.mp("smp_wmb();", "smp_rmb();"),
    "MP+rel+acq": unit.mp(release=True, acquire=True),
    "SB": unit.sb("", ""), "SB+mbs": unit.sb("smp_mb();", "smp_mb();"),
    "LB": unit.lb(""), "LB+ctrl+mb": unit.lb("ctrl+mb"),
    "MP+addr": unit.pointer_mp("WRITE_ONCE(*p, x);", "rcu_dereference"),
    "MP+rel+addr": unit.pointer_mp("rcu_assign_pointer(*p, x);", "READ_ONCE"),
    "RCU+sync": unit.rcu_gp("synchronize_rcu();"), "RCU": unit.rcu_gp(""),
    "MP+rmw-rel+rmw-acq": unit.rmw_mp("_release", "_acquire"),
    "MP+rmw-mb+rmw-mb": unit.rmw_mp("", ""),
    "MP+rmw-po+rmw-acq": unit.rmw_mp("_relaxed", "_acquire"),
    "MP+rmw-rel+rmw-po": unit.rmw_mp("_release", "_relaxed"),
    "MP+rel+rmw+acq": unit.rmw_sequence("atomic_inc(y);"),
    "MP+rel+st+acq": unit.rmw_sequence("WRITE_ONCE(*y, 2);"),
    "RMW+atomicity": unit.RMW_ATOMICITY, "RMW+newest": unit.RMW_NEWEST,
    "RMW+forms": unit.RMW_FORMS,
}


@pytest.mark.parametrize("name", sorted(UNIT))
def test_the_unit_tests_tables_are_herd7s(herd, tmp_path, name):
    path = tmp_path / f"{name}.litmus"
    text = UNIT[name]
    path.write_text(f"C {name}" + text[text.index("\n"):]
                    if name.startswith("MP") else text)
    _compare(herd, path, path.read_text())
