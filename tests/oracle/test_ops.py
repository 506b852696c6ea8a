"""Unit tests of the oracle's op vocabulary, text format and trace sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcu_harness.oracle.erase2 import erase2_op, load_erase2_sets
from rcu_harness.oracle.ops import (
    OP_TYPES,
    ULONG_MAX,
    BDestroy,
    BNull,
    BStore,
    Bulk,
    Destroy,
    Erase,
    Find,
    FindAfter,
    Init,
    Insert,
    Load,
    MFind,
    MFindRev,
    MForEach,
    MNext,
    MNextRange,
    MPause,
    MPrev,
    MPrevRange,
    MReset,
    MSet,
    MWalk,
    Null,
    OpParseError,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Validate,
    format_op,
    format_trace,
    parse_op,
    parse_trace,
)
from rcu_harness.oracle.tracegen import random_trace

REPO = Path(__file__).resolve().parents[2]

EXAMPLES = [
    (Init(1), "init 1"),
    (Store(0, ULONG_MAX, 5), f"store 0 {ULONG_MAX} 5"),
    (Null(4096, 8191), "null 4096 8191"),
    (Insert(1, 1, 2), "insert 1 1 2"),
    (Erase(4194304), "erase 4194304"),
    (Load(ULONG_MAX), f"load {ULONG_MAX}"),
    (Find(10, 20), "find 10 20"),
    (RcuOn(), "rcu_on"),
    (RcuOff(), "rcu_off"),
    (Bulk(3), "bulk 3"),
    (BStore(4096, 8191, 1), "bstore 4096 8191 1"),
    (BNull(4096, 8191), "bnull 4096 8191"),
    (BDestroy(), "bdestroy"),
    (Destroy(), "destroy"),
    (Validate(), "validate"),
    (FindAfter(0, 9), "findafter 0 9"),
    (RLock(), "rlock"),
    (RUnlock(), "runlock"),
    (MSet(7), "mset 7"),
    (MReset(), "mreset"),
    (MPause(), "mpause"),
    (MWalk(), "mwalk"),
    (MFind(ULONG_MAX), f"mfind {ULONG_MAX}"),
    (MFindRev(0), "mfindrev 0"),
    (MNext(5), "mnext 5"),
    (MPrev(1), "mprev 1"),
    (MNextRange(9), "mnextr 9"),
    (MPrevRange(2), "mprevr 2"),
    (MForEach(ULONG_MAX, 64), f"mforeach {ULONG_MAX} 64"),
]


@pytest.mark.parametrize(("op", "text"), EXAMPLES)
def test_format_and_parse_round_trip(op, text):
    assert format_op(op) == text
    assert parse_op(text) == op
    assert parse_op("  " + text.replace(" ", "\t") + " ") == op


def test_every_op_type_has_an_example():
    assert {type(op).name for op, _ in EXAMPLES} == set(OP_TYPES)


@pytest.mark.parametrize("line", [
    "", "frobnicate 1", "store 1 2", "store 1 2 3 4", "erase -1", "erase 0x10",
    f"erase {ULONG_MAX + 1}", f"store 0 0 {1 << 62}", "rcu_on 1", "load one",
    "mforeach 5 65", "mset", "rlock 1",
])
def test_parse_rejects_bad_lines(line):
    with pytest.raises(OpParseError):
        parse_op(line)


def test_parse_trace_skips_comments_and_names_the_bad_line():
    assert parse_trace("# a trace\n\ninit 0\nload 3\n") == [Init(0), Load(3)]
    with pytest.raises(OpParseError, match="line 3"):
        parse_trace("init 0\n\nbogus\n")


def test_format_trace_one_line_per_op():
    ops = [Init(0), Store(1, 2, 3)]
    assert format_trace(ops) == "init 0\nstore 1 2 3\n"
    assert parse_trace(format_trace(ops)) == ops


def test_erase2_op_conversion():
    assert erase2_op([1, 4096, 8191]) == Store(4096, 8191, 4096)
    assert erase2_op([2, 4096, 8191]) == Null(4096, 8191)
    assert erase2_op([3, 4096, 8191]) == Erase(4096)
    with pytest.raises(ValueError, match="unknown erase2 op"):
        erase2_op([4, 0, 0])


def test_erase2_sets_load():
    sets = load_erase2_sets()
    assert len(sets) == 43
    assert sum(len(s.ops) - 2 for s in sets) == 32656
    by_name = {s.name: s for s in sets}
    assert by_name["set"].flags == 0
    assert by_name["set2"].flags == 1
    for trace in sets:
        assert trace.ops[0] == Init(trace.flags)
        assert trace.ops[-1] == Validate()
    every = load_erase2_sets(validate_each=True)
    assert len(every[0].ops) == 1 + 2 * (len(sets[0].ops) - 2)


@pytest.mark.parametrize("flags", [0, 1])
def test_random_trace_is_deterministic(flags):
    first = random_trace(7, 3000, flags=flags)
    assert len(first) == 3000
    assert first == random_trace(7, 3000, flags=flags)
    assert first != random_trace(8, 3000, flags=flags)
    assert first[0] == Init(flags)
    assert parse_trace(format_trace(first)) == first


def test_random_trace_mixes_every_kind_of_op():
    ops = random_trace(1, 10000, flags=1)
    names = {op.name for op in ops}
    assert names >= {"init", "store", "null", "insert", "erase", "load", "find",
                     "rcu_on", "rcu_off", "bulk", "bstore", "bdestroy", "destroy",
                     "validate"}
    indexes = [i for op in ops for i in (getattr(op, "first", None),
                                          getattr(op, "last", None)) if i is not None]
    assert 0 in indexes
    assert ULONG_MAX in indexes
    assert sum(0x400000 <= i <= 0x7FFFFFFFFFFF for i in indexes) > 0.9 * len(indexes)


def test_random_trace_bulk_sequences_are_well_formed():
    ops = random_trace(3, 10000, flags=0)
    for i, op in enumerate(ops):
        if isinstance(op, Bulk):
            assert isinstance(ops[i - 1], Init)
            j = i + 1
            while isinstance(ops[j], BStore):
                assert ops[j].first <= ops[j].last
                if isinstance(ops[j - 1], BStore):
                    assert ops[j - 1].last < ops[j].first
                j += 1
            assert j - i - 1 <= op.n
            assert isinstance(ops[j], BDestroy)


def test_random_trace_does_not_depend_on_hash_seed():
    code = ("from rcu_harness.oracle.ops import format_trace;"
            "from rcu_harness.oracle.tracegen import random_trace;"
            "import hashlib;"
            "print(hashlib.sha256(format_trace(random_trace(5, 2000, flags=1))"
            ".encode()).hexdigest())")
    digests = set()
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                             capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
