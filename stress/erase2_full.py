"""Replay every kernel erase2 set with mt_validate() after every operation.

Usage: python stress/erase2_full.py
The CI test (tests/maple/test_erase2_sets.py) validates the five largest sets
every eighth operation; this job validates every operation of every set.
"""

from __future__ import annotations

import sys
import time

from maple import MapleTree
from tests.maple.intervals import IntervalMap
from tests.maple.test_erase2_sets import SETS, _flags, replay, run_after


def main() -> int:
    """Replay all sets; print a line per set and a total."""
    start = time.perf_counter()
    total = 0
    for erase2_set in SETS:
        mt = MapleTree(_flags(erase2_set["flags"]))
        ref = IntervalMap()
        replay(mt, ref, erase2_set["ops"], validate_every=1)
        for check in erase2_set.get("after", []):
            run_after(mt, ref, check)
        total += len(erase2_set["ops"])
        print(f"{erase2_set['name']:>6}: {len(erase2_set['ops'])} ops identical, valid")
    print(f"{len(SETS)} sets, {total} ops, validated after every op, "
          f"{time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
