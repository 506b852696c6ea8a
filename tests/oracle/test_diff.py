"""Unit tests of the differential runner's line handling (no kernel needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcu_harness.oracle.diff import (
    Divergence,
    driver_argv,
    first_difference,
    last_full_match,
    parse_line,
    side_by_side,
)
from rcu_harness.oracle.model import dump_full
from rcu_harness.oracle.ops import Load, Validate

ROOT = "0-ffffffffffffffff"
KERNEL = f"0 h2 n3 R{ROOT}|59|- L0-59|f|-,v1 L5a-ffffffffffffffff|5f|v6,-"
MODEL = f"0 h2 n3 R{ROOT}|59|- L0-59|f|-,v2 L5a-ffffffffffffffff|5f|v7,-"


def test_parse_line():
    line = parse_line(KERNEL)
    assert (line.ret, line.height, line.nr) == ("0", 2, 3)
    assert line.node_count == 3
    assert parse_line("v5 h0 n0 ptr:v5").node_count == 0
    assert parse_line("-17 h1 n1 .").tree is None
    assert parse_line("error bogus: unknown operation") is None
    assert parse_line("crash exit 1: boom") is None
    with pytest.raises(ValueError, match="not an oracle line"):
        parse_line("garbage")


def test_side_by_side_marks_the_first_differing_node():
    rows = side_by_side(KERNEL, MODEL).splitlines()
    assert rows[0].split() == ["kernel", "model"]
    assert rows[1].startswith("  ret 0  h2  n3")
    assert rows[2].startswith(f"  R{ROOT}")
    assert rows[3].startswith("> L0-59|f|-,v1")
    assert rows[3].endswith("L0-59|f|-,v2")
    assert rows[4].startswith("~ L5a")
    width = rows[1].index("ret 0", 10)
    assert all(row[width:].startswith(("ret", "R0", "L")) for row in rows[1:])


def test_side_by_side_of_crash_and_missing_lines():
    text = side_by_side("crash exit 1: boom", "(no line)")
    assert "> crash exit 1: boom" in text


def test_first_difference():
    assert first_difference(["a", "b"], ["a", "b"]) is None
    assert first_difference(["a", "b"], ["a", "c"]) == 1
    assert first_difference(["a"], ["a", "b"]) == 1
    assert first_difference([], []) is None


def test_elision_schedule():
    assert dump_full(0, Load(1), 8, None)
    assert not dump_full(3, Load(1), 8, None)
    assert dump_full(3, Validate(), 8, None)
    assert dump_full(3, Load(1), 8, 2)
    assert last_full_match(["x", "y .", "z .", "w"], 3) == 0
    assert last_full_match(["x", "y", "z .", "w"], 3) == 1


def test_driver_argv():
    binary = Path("/bin/driver")
    assert driver_argv(binary, 1, None) == ["/bin/driver"]
    assert driver_argv(binary, 8, None) == ["/bin/driver", "--every", "8"]
    assert driver_argv(binary, 8, 5) == ["/bin/driver", "--every", "8", "--from",
                                         "5"]


def test_divergence_both_crashed():
    same = Divergence(3, Load(1), "crash exit 1: a", "crash RuntimeError: b", "")
    assert same.both_crashed
    assert same.describe() == "op #3: load 1"
    assert not Divergence(3, None, KERNEL, MODEL, "").both_crashed
