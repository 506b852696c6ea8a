"""Hypothesis drives the tree against an interval-map oracle, validating each step."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from maple import (
    MT_FLAGS_ALLOC_RANGE,
    ULONG_MAX,
    MapleTree,
    MaState,
    mas_find,
    mas_pause,
    mt_clear_in_rcu,
    mt_find,
    mt_in_rcu,
    mt_set_in_rcu,
    mt_validate,
    mtree_destroy,
    mtree_erase,
    mtree_insert_range,
    mtree_load,
    mtree_store_range,
)
from tests.maple.helpers import scan
from tests.maple.intervals import IntervalMap

SPACE = 600
indexes = st.integers(0, SPACE)
lengths = st.one_of(st.integers(0, 8), st.integers(0, 120))
values = st.integers(0, 1_000)  # includes 0: a value entry, never NULL


class MapleTreeMachine(RuleBasedStateMachine):
    """Random stores, NULL stores, erases and reads, in and out of RCU mode."""

    def __init__(self) -> None:
        super().__init__()
        self.ref = IntervalMap()
        self.mt = MapleTree(0)

    @initialize(flags=st.sampled_from([0, MT_FLAGS_ALLOC_RANGE]), rcu=st.booleans())
    def make_tree(self, flags: int, rcu: bool) -> None:
        self.mt = MapleTree(flags)
        if rcu:
            mt_set_in_rcu(self.mt)

    @rule(first=indexes, length=lengths, value=values)
    def store_range(self, first: int, length: int, value: int) -> None:
        assert mtree_store_range(self.mt, first, first + length, value) == 0
        self.ref.store(first, first + length, value)

    @rule(first=indexes, value=values)
    def store_to_the_end(self, first: int, value: int) -> None:
        assert mtree_store_range(self.mt, first, ULONG_MAX, value) == 0
        self.ref.store(first, ULONG_MAX, value)

    @rule(first=indexes, length=lengths)
    def store_null(self, first: int, length: int) -> None:
        assert mtree_store_range(self.mt, first, first + length, None) == 0
        self.ref.store(first, first + length, None)

    @rule(index=indexes)
    def erase(self, index: int) -> None:
        assert mtree_erase(self.mt, index) == self.ref.erase(index)

    @rule(first=indexes, length=lengths, value=values)
    def insert_range(self, first: int, length: int, value: int) -> None:
        last = first + length
        occupied = any(a <= last and b >= first for a, b, _ in self.ref.items())
        ret = mtree_insert_range(self.mt, first, last, value)
        assert ret == (-17 if occupied else 0)
        if not occupied:
            self.ref.store(first, last, value)

    @rule(index=st.integers(0, SPACE + 200))
    def load(self, index: int) -> None:
        assert mtree_load(self.mt, index) == self.ref.load(index)

    @rule(index=indexes, span=st.integers(0, 300))
    def find(self, index: int, span: int) -> None:
        entry, new_index = mt_find(self.mt, index, index + span)
        found = self.ref.find(index, index + span)
        if found is None:
            assert (entry, new_index) == (None, index)
        else:
            assert (entry, new_index) == (found[2], (found[1] + 1) & ULONG_MAX)

    @rule(start=indexes, every=st.integers(1, 5))
    def iterate_with_pauses(self, start: int, every: int) -> None:
        mas = MaState(self.mt, start, start)
        seen = []
        self.mt.port.rcu_read_lock()
        while (entry := mas_find(mas, ULONG_MAX)) is not None:
            seen.append((mas.index, mas.last, entry))
            if len(seen) % every == 0:
                mas_pause(mas)  # as if the lock were dropped here
                self.mt.port.rcu_read_unlock()
                self.mt.port.rcu_read_lock()
        self.mt.port.rcu_read_unlock()
        assert seen == [r for r in self.ref.items() if r[1] >= start]

    @rule()
    def toggle_rcu_mode(self) -> None:
        if mt_in_rcu(self.mt):
            mt_clear_in_rcu(self.mt)
        else:
            mt_set_in_rcu(self.mt)

    @invariant()
    def tree_is_valid_and_equals_the_oracle(self) -> None:
        mt_validate(self.mt)
        assert scan(self.mt) == self.ref.items()

    def teardown(self) -> None:
        mtree_destroy(self.mt)
        self.mt.port.rcu_barrier()
        assert self.mt.port.accounting().allocated == 0


MapleTreeMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_tree_matches_interval_oracle_under_random_operations = pytest.mark.slow(
    MapleTreeMachine.TestCase)
