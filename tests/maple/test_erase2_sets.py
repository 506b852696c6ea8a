"""The kernel's recorded operation sequences (check_erase2_sets) replayed.

After every operation the tree's contents must equal an interval-map
oracle's and mt_validate() must pass; then each set's own checks run.  The
five sets of more than 2,000 operations validate every eighth operation
here, to keep CI fast; ``stress/erase2_full.py`` validates every operation
of every set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_empty_area_rev,
    mas_for_each,
    mas_prev,
    mt_find,
    mt_validate,
    mtree_erase,
    mtree_load,
    mtree_store_range,
)
from tests.maple.helpers import contents, scan
from tests.maple.intervals import IntervalMap

DATA = Path(__file__).resolve().parents[1] / "data" / "kernel-erase2-sets.json"
SETS: list[dict[str, Any]] = json.loads(DATA.read_text())["sets"]
STORE, SNULL, ERASE = 1, 2, 3


def _flags(names: list[str]) -> int:
    return MT_FLAGS_ALLOC_RANGE if "MT_FLAGS_ALLOC_RANGE" in names else 0


BIG_SET = 2000
"""Sets with more operations than this validate every VALIDATE_STRIDE-th op in CI."""
VALIDATE_STRIDE = 8


def replay(mt: MapleTree, ref: IntervalMap, ops: list[list[int]], *,
           validate_every: int = 1) -> None:
    """Apply @ops to both trees, checking contents (and validity) after each."""
    for i, (op, first, last) in enumerate(ops):
        if op == STORE:
            assert mtree_store_range(mt, first, last, first) == 0
            ref.store(first, last, first)
        elif op == SNULL:
            assert mtree_store_range(mt, first, last, None) == 0
            ref.store(first, last, None)
        else:
            assert mtree_erase(mt, first) == ref.erase(first) == first
        if i % validate_every == 0 or i == len(ops) - 1:
            mt_validate(mt)
        assert scan(mt) == ref.items(), f"op {i}: {op} {first:#x}-{last:#x}"


def run_after(mt: MapleTree, ref: IntervalMap, check: dict[str, Any]) -> None:
    """One of the set's after-checks (see the data file's after_kinds)."""
    kind = check["kind"]
    if kind == "no_entry_in_range":
        assert mt_find(mt, check["first"], check["last"])[0] is None
    elif kind == "empty_area_rev":
        mas = MaState(mt, 0, 0)
        mt.port.mtree_lock(mt)
        ret = mas_empty_area_rev(mas, check["min"], check["max"], check["size"])
        mt.port.mtree_unlock(mt)
        assert ret == 0
        if "expect_last" in check:
            assert mas.last == check["expect_last"]
        if "expect_aligned_start" in check:
            start = (mas.last + 1 - check["size"]) & ~check["align_clear_mask"]
            assert start == check["expect_aligned_start"]
    elif kind == "max_entries":
        mas = MaState(mt, 0, 0)
        assert sum(1 for _ in mas_for_each(mas, ULONG_MAX)) <= check["count"]
    elif kind == "erase":
        mtree_erase(mt, check["index"])
        ref.erase(check["index"])
        mt_validate(mt)
    elif kind == "find_then_prev":
        mas = MaState(mt, check["index"], check["index"])
        found = next(iter(mas_for_each(mas, ULONG_MAX)))
        assert found == check["expect_find"]
        assert mas_prev(mas, 0) == check["expect_prev"]
    elif kind == "load":
        assert mtree_load(mt, check["index"]) == check["expect"]
    elif kind == "load_differs":
        assert mtree_load(mt, check["a"]) != mtree_load(mt, check["b"])
    else:  # pragma: no cover - the data file lists every kind
        pytest.fail(f"unknown after-check kind {kind}")


@pytest.mark.slow
@pytest.mark.parametrize("erase2_set", SETS, ids=[s["name"] for s in SETS])
def test_kernel_erase2_set_matches_interval_oracle_after_every_op(
        erase2_set: dict[str, Any]) -> None:
    mt = MapleTree(_flags(erase2_set["flags"]))
    ref = IntervalMap()
    ops = erase2_set["ops"]
    replay(mt, ref, ops, validate_every=VALIDATE_STRIDE if len(ops) > BIG_SET else 1)
    for check in erase2_set.get("after", []):
        run_after(mt, ref, check)
    assert contents(mt) == ref.items()


def test_erase2_data_holds_every_recorded_set() -> None:
    assert len(SETS) == 43
    assert sum(len(s["ops"]) for s in SETS) == 32656
