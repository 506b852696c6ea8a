"""IntervalMap.store and its queries by bisection give the answers of the
plain definitions."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from rcu_harness.checks.intervalmap import IntervalMap, Range

if TYPE_CHECKING:
    from collections.abc import Callable


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


def test_ascending_stores_as_setup_makes_them_give_their_ranges() -> None:
    """Stores past every range (the result checker's setup writes) append;
    an erase there leaves the map as it was."""
    m = IntervalMap()
    for k in range(12):
        m = m.store(100 * k, 100 * k + 49, f"v{k}")
        assert m.store(100 * k + 60, 100 * k + 70, None) == m
    assert m.ranges == tuple((100 * k, 100 * k + 49, f"v{k}") for k in range(12))
    assert m == IntervalMap(m.ranges)


def test_store_at_the_edges() -> None:
    m = IntervalMap(((0, 9, "a"), (10, 19, "b"), (30, 39, "c")))
    for index, last in ((0, 0), (9, 10), (5, 35), (20, 29), (40, 50), (0, 100),
                        (15, 15), (19, 30)):
        for entry in (None, "x"):
            assert m.store(index, last, entry).ranges == \
                reference_store(m.ranges, index, last, entry)


def test_queries_match_the_definitions_on_random_histories() -> None:
    """lookup, has_exact, empty_over and overlapping, by bisection, answer
    as scans of every range do, at, inside, between and past the ranges."""
    rng = random.Random(29)
    answers = set()
    for _ in range(200):
        m = IntervalMap()
        for step in range(30):
            index = rng.randrange(0, 200)
            m = m.store(index, index + rng.choice((0, 1, 3, 10, 60)),
                        None if rng.random() < 0.3 else f"e{step % 4}")
            ranges = m.ranges
            for _ in range(4):
                first = rng.randrange(0, 280)
                last = first + rng.choice((0, 0, 1, 5, 30))
                entry = rng.choice([None, "e0", "e1", *(r[2] for r in ranges)])
                if ranges and rng.random() < 0.5:  # a range's own bounds
                    first, last, entry = rng.choice(ranges)
                    last += rng.choice((0, 0, 1, -1))
                covering = [r[2] for r in ranges if r[0] <= first <= r[1]]
                exact = any(r == (first, last, entry) for r in ranges)
                overlap = [r for r in ranges if r[0] <= last and r[1] >= first]
                assert m.lookup(first) == (covering[0] if covering else None)
                assert m.has_exact(first, last, entry) is exact
                assert m.empty_over(first, last) is (not overlap)
                assert m.overlapping(first, last) == overlap
                answers.add((exact, bool(overlap)))
    assert answers == {(True, True), (False, True), (False, False)}


def _store_all_mismatches(store_all: Callable[[IntervalMap, list[Range]], IntervalMap],
                          ) -> int:
    """Random runs of entries, mostly ascending past every range (as setup
    declares them), some not, some erases, from random maps: how many
    times @store_all gave other ranges than storing each in turn."""
    rng = random.Random(23)
    wrong = 0
    for _ in range(500):
        m = IntervalMap()
        for step in range(rng.randrange(0, 4)):
            index = rng.randrange(0, 100)
            m = m.store(index, index + rng.randrange(0, 20), f"s{step}")
        entries: list[Range] = []
        at = rng.randrange(0, 150)
        for n in range(rng.randrange(0, 10)):
            if rng.random() < 0.15:
                at -= rng.randrange(0, 40)
            last = at + rng.randrange(0, 9)
            entries.append((at, last, None if rng.random() < 0.2 else f"e{n}"))
            at = last + 1 + rng.randrange(0, 4)
        want = m
        for index, last, entry in entries:
            want = want.store(index, last, entry)
        wrong += store_all(m, entries).ranges != want.ranges
    return wrong


def test_store_all_is_each_store_in_turn() -> None:
    assert _store_all_mismatches(IntervalMap.store_all) == 0


def test_a_store_all_that_appends_what_overlaps_gives_other_ranges() -> None:
    """A seeded bug: every non-NULL entry appended, overlapping or not."""
    def appends(m: IntervalMap, entries: list[Range]) -> IntervalMap:
        return IntervalMap((*m.ranges, *(r for r in entries if r[2] is not None)))

    assert _store_all_mismatches(appends) > 0
