"""The kernel's recorded erase2 sets as oracle traces.

:func:`load_erase2_sets` converts the sequences of lib/test_maple_tree.c's
``check_erase2_sets()`` (recorded in ``tests/data/kernel-erase2-sets.json``)
into traces of the operation vocabulary (:mod:`.ops`).
"""

from __future__ import annotations

import json
from pathlib import Path

from rcu_harness.oracle.ops import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    Erase,
    Init,
    NamedTrace,
    Null,
    Op,
    Store,
    Validate,
)

ERASE2_STORE, ERASE2_SNULL, ERASE2_ERASE = 1, 2, 3
_FLAG_NAMES = {"MT_FLAGS_ALLOC_RANGE": MT_FLAGS_ALLOC_RANGE,
               "MT_FLAGS_USE_RCU": MT_FLAGS_USE_RCU}
ERASE2_FILE = "kernel-erase2-sets.json"


def erase2_path() -> Path:
    """Where the recorded erase2 sets live (repo tests/data, or package data)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "tests" / "data" / ERASE2_FILE,
                  here.parents[1] / "data" / ERASE2_FILE]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


def erase2_flags(names: list[str]) -> int:
    """The mt_init_flags() value of a set's flag list."""
    flags = 0
    for name in names:
        if name not in _FLAG_NAMES:
            raise ValueError(f"unknown tree flag {name!r}")
        flags |= _FLAG_NAMES[name]
    return flags


def erase2_op(triple: list[int]) -> Op:
    """Convert one recorded [op, first, last] triple."""
    kind, first, last = triple
    if kind == ERASE2_STORE:
        return Store(first, last, first)
    if kind == ERASE2_SNULL:
        return Null(first, last)
    if kind == ERASE2_ERASE:
        return Erase(first)
    raise ValueError(f"unknown erase2 op {kind}")


def load_erase2_sets(path: Path | None = None, *,
                     validate_each: bool = False) -> list[NamedTrace]:
    """Convert the recorded erase2 sets into traces.

    Each trace starts with ``init <flags>`` and ends with ``validate``;
    with @validate_each a ``validate`` follows every op, as in the kernel's
    check_erase2_testset().  The sets' ``after`` checks are not converted.
    """
    data = json.loads((path or erase2_path()).read_text())
    traces = []
    for entry in data["sets"]:
        flags = erase2_flags(entry["flags"])
        ops: list[Op] = [Init(flags)]
        for triple in entry["ops"]:
            ops.append(erase2_op(triple))
            if validate_each:
                ops.append(Validate())
        if not validate_each:
            ops.append(Validate())
        traces.append(NamedTrace(entry["name"], flags, ops))
    return traces
