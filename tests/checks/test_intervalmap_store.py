"""IntervalMap.store by bisection gives the ranges of the plain definition."""

from __future__ import annotations

import random

from rcu_harness.checks.intervalmap import IntervalMap, Range


def reference_store(ranges: tuple[Range, ...], index: int, last: int,
                    entry: object) -> tuple[Range, ...]:
    """The definition: keep what does not overlap, split what does, sort."""
    out: list[Range] = []
    for start, end, value in ranges:
        if end < index or start > last:
            out.append((start, end, value))
            continue
        if start < index:
            out.append((start, index - 1, value))
        if end > last:
            out.append((last + 1, end, value))
    if entry is not None:
        out.append((index, last, entry))
    out.sort(key=lambda r: r[0])
    return tuple(out)


def test_store_matches_the_definition_on_random_histories() -> None:
    rng = random.Random(17)
    for _ in range(300):
        m = IntervalMap()
        for step in range(40):
            index = rng.randrange(0, 200)
            last = index + rng.choice((0, 0, 1, 3, 10, 60))
            entry = None if rng.random() < 0.3 else f"e{step}"
            want = reference_store(m.ranges, index, last, entry)
            m = m.store(index, last, entry)
            assert m.ranges == want


def test_store_at_the_edges() -> None:
    m = IntervalMap(((0, 9, "a"), (10, 19, "b"), (30, 39, "c")))
    for index, last in ((0, 0), (9, 10), (5, 35), (20, 29), (40, 50), (0, 100),
                        (15, 15), (19, 30)):
        for entry in (None, "x"):
            assert m.store(index, last, entry).ranges == \
                reference_store(m.ranges, index, last, entry)
