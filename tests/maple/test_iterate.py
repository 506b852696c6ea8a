"""Walking and iterating: mas_walk, mas_find, mas_pause, mas_next/prev, mt_find."""

from __future__ import annotations

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_find,
    mas_find_rev,
    mas_for_each,
    mas_next,
    mas_pause,
    mas_prev,
    mas_walk,
    mt_find,
    mt_find_after,
    mtree_store_range,
)
from tests.maple.helpers import vma_ranges

RANGES = vma_ranges(50)


def tree() -> MapleTree:
    mt = MapleTree(MT_FLAGS_ALLOC_RANGE)
    for i, (first, last) in enumerate(RANGES):
        mtree_store_range(mt, first, last, i)
    return mt


def test_mas_for_each_sets_index_and_last_to_each_entrys_range():
    mas = MaState(tree(), 0, 0)
    got = [(mas.index, mas.last, e) for e in mas_for_each(mas, ULONG_MAX)]
    assert got == [(f, l, i) for i, (f, l) in enumerate(RANGES)]


def test_first_find_returns_the_entry_covering_index():
    mas = MaState(tree(), RANGES[3][0] + 5, RANGES[3][0] + 5)
    assert mas_find(mas, ULONG_MAX) == 3
    assert (mas.index, mas.last) == RANGES[3]
    assert mas_find(mas, ULONG_MAX) == 4


def test_find_stops_at_max():
    mas = MaState(tree(), 0, 0)
    assert list(mas_for_each(mas, RANGES[4][0])) == [0, 1, 2, 3, 4]


def test_paused_iteration_resumes_after_last_even_if_the_tree_changed():
    mt = tree()
    mas = MaState(mt, 0, 0)
    seen = [mas_find(mas, ULONG_MAX) for _ in range(5)]
    mas_pause(mas)
    mtree_store_range(mt, RANGES[2][0], RANGES[2][1], "behind")
    mtree_store_range(mt, RANGES[7][0], RANGES[7][1], "ahead")
    seen += list(mas_for_each(mas, ULONG_MAX))
    assert seen == [0, 1, 2, 3, 4, 5, 6, "ahead", *range(8, 50)]


def test_mas_walk_reports_the_null_range_around_an_empty_index():
    mas = MaState(tree(), RANGES[3][1] + 1, RANGES[3][1] + 1)
    assert mas_walk(mas) is None
    assert (mas.index, mas.last) == (RANGES[3][1] + 1, RANGES[4][0] - 1)


def test_next_and_prev_step_between_neighbours():
    mas = MaState(tree(), RANGES[10][0], RANGES[10][0])
    assert mas_walk(mas) == 10
    assert mas_next(mas, ULONG_MAX) == 11
    assert mas_prev(mas, 0) == 10
    assert mas_prev(mas, 0) == 9


def test_reverse_iteration_visits_entries_downwards():
    mas = MaState(tree(), ULONG_MAX, ULONG_MAX)
    got = []
    while (e := mas_find_rev(mas, 0)) is not None:
        got.append(e)
    assert got == list(range(49, -1, -1))


def test_mt_find_returns_the_index_after_the_entry():
    mt = tree()
    entry, index = mt_find(mt, 0, ULONG_MAX)
    assert (entry, index) == (0, RANGES[0][1] + 1)
    assert mt_find(mt, RANGES[49][1] + 1, ULONG_MAX) == (None, RANGES[49][1] + 1)
    assert mt_find_after(mt, 0, ULONG_MAX) == (None, 0)
