"""Hypothesis drives the ma_state reader API against a reference cursor.

The reference (:class:`RefCursor`) knows nothing of nodes: it keeps the
tree's contents as an interval map and the cursor as (index, last, status),
and answers each call with the status machine of lib/maple_tree.c 6.12
(``mas_walk()``, ``mas_find_setup()``, ``mas_find_rev_setup()``,
``mas_next_setup()``, ``mas_prev_setup()``, transcribed from the kernel
source) over that map, the node-level steps (``mas_next_slot()``,
``mas_prev_slot()``) being "the next/previous range".  Only the shape of
the root (empty, a single entry in ``ma_root``, or a node) is read from the
tree.  Entries and their exact ranges are checked strictly, every status
strictly; a NULL range may be split where a node boundary falls inside it,
so a NULL result must lie inside a gap, contain what it must, and continue
the previous range.

Trees include the empty tree and the single entry at 0 held in ``ma_root``.
Stores happen between calls after ``mas_pause()`` of a state that holds a
node (the documented way to let go of the tree), or with the cursor reset.
The comparison with the real lib/maple_tree.c is the oracle's reader-API
differential (tests/oracle/test_reader_api.py); this test compares the
model with the reference.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from maple import (
    ULONG_MAX,
    MapleEnode,
    MapleTree,
    MaState,
    mas_find,
    mas_find_rev,
    mas_next,
    mas_next_range,
    mas_pause,
    mas_prev,
    mas_prev_range,
    mas_reset,
    mas_set,
    mas_walk,
    mtree_store_range,
)
from maple.defs import (
    ma_active,
    ma_none,
    ma_overflow,
    ma_pause,
    ma_root,
    ma_start,
    ma_underflow,
)
from tests.maple.intervals import IntervalMap

SPACE = 300
indexes = st.one_of(st.integers(0, SPACE), st.just(ULONG_MAX), st.just(0))
limits = st.one_of(st.just(ULONG_MAX), st.just(0), st.integers(0, SPACE))


class RefCursor:
    """(index, last, status) over an interval map, as the kernel's setup
    functions move it."""

    def __init__(self, ref: IntervalMap, shape: str) -> None:
        self.ref, self.shape = ref, shape
        self.index = self.last = 0
        self.status = ma_start

    # -- the map as the tree holds it ----------------------------------------
    def range_at(self, i: int) -> tuple[int, int, Any]:
        """The range holding @i: an entry, or the whole gap around it."""
        found = self.ref.find_range(i)
        if found is not None:
            return found
        lo, hi = 0, ULONG_MAX
        for a, b, _ in self.ref.items():
            if b < i:
                lo = b + 1
            elif a > i and a - 1 < hi:
                hi = a - 1
                break
        return lo, hi, None

    def root(self) -> Any:
        return self.ref.load(0)

    # -- mas_walk() ----------------------------------------------------------
    def walk(self) -> Any:
        self.status = ma_start  # "!active || !start" always holds
        if self.shape == "empty":
            self.status, self.index, self.last = ma_none, 0, ULONG_MAX
            return None
        if self.shape == "root":
            if not self.index:
                self.status, self.last = ma_root, 0
                return self.root()
            self.status, self.index, self.last = ma_none, 1, ULONG_MAX
            return None
        self.status = ma_active
        self.index, self.last, entry = self.range_at(self.index)
        return entry

    # -- steps over ranges (mas_next_slot(), mas_prev_slot()) -------------------
    def next_slot(self, max: int, empty: bool) -> Any:
        while True:
            if self.last >= max:
                self.status = ma_overflow
                return None
            self.index, self.last, entry = self.range_at(self.last + 1)
            if entry is not None or empty:
                return entry

    def prev_slot(self, min: int, empty: bool) -> Any:
        while True:
            if self.index <= min:
                self.status = ma_underflow
                return None
            self.index, self.last, entry = self.range_at(self.index - 1)
            if entry is not None or empty:
                return entry

    # -- the setup functions (lib/maple_tree.c 6.12) ------------------------------
    def find_setup(self, max: int) -> tuple[bool, Any]:
        st_ = self.status
        if st_ == ma_active:
            return self.last >= max, None
        if st_ == ma_pause:
            if self.last >= max:
                return True, None
            self.last += 1
            self.index = self.last
            self.status = ma_start
        elif st_ == ma_none:
            if self.last >= max:
                return True, None
            self.index = self.last
            self.status = ma_start
        elif st_ in (ma_underflow, ma_overflow):
            if st_ == ma_underflow and self.index >= max:
                self.status = ma_overflow
                return True, None
            if st_ == ma_overflow and self.last >= max:
                return True, None
            self.status = ma_active
            entry = self.walk()
            if entry is not None:
                return True, entry
        if self.status == ma_start:
            if self.index > max:
                return True, None
            entry = self.walk()
            if entry is not None:
                return True, entry
        if self.status == ma_root:
            self.status, self.index, self.last = ma_none, 1, ULONG_MAX
            return True, None
        if self.status == ma_none:
            return True, None
        return self.index == max, None

    def find_rev_setup(self, min: int) -> tuple[bool, Any]:
        st_ = self.status
        if st_ != ma_active:
            if st_ == ma_pause:
                if self.index <= min:
                    self.status = ma_underflow
                    return True, None
                self.index -= 1
                self.last = self.index
                self.status = ma_start
            elif st_ == ma_none:
                if self.index <= min:
                    return True, None
                self.last = self.index
                self.status = ma_start
            elif st_ == ma_overflow:
                if self.index <= min:
                    self.status = ma_underflow
                    return True, None
                self.status = ma_active
            elif st_ == ma_underflow:
                if self.index <= min:
                    return True, None
                self.status = ma_active
            if self.status == ma_start:
                if self.index < min:
                    return True, None
                entry = self.walk()
                if entry is not None:
                    return True, entry
            if self.status == ma_root:
                self.status = ma_none
                return True, None
            if self.status == ma_none:
                self.index = self.last = 0
                self.status = ma_root
                return True, self.root()
        return self.index < min, None

    def next_setup(self, max: int) -> tuple[bool, Any]:
        was_none = self.status == ma_none
        if self.last >= max:
            self.status = ma_overflow
            return True, None
        st_ = self.status
        if st_ == ma_active:
            return False, None
        if st_ in (ma_none, ma_pause, ma_start):
            self.walk()
        elif st_ == ma_overflow:
            self.status = ma_active
        elif st_ == ma_underflow:
            self.status = ma_active
            entry = self.walk()
            if entry is not None:
                return True, entry
        if self.status == ma_active:
            return False, None
        if self.status == ma_root:
            if was_none and self.index == 0:
                self.index = self.last = 0
                return True, None
            self.status, self.index, self.last = ma_none, 1, ULONG_MAX
            return True, None
        return self.status == ma_none, None

    def prev_setup(self, min: int) -> tuple[bool, Any]:
        if self.index <= min:
            self.status = ma_underflow
            return True, None
        st_ = self.status
        if st_ == ma_active:
            return False, None
        if st_ in (ma_none, ma_pause):
            self.status = ma_start
        elif st_ == ma_underflow:
            self.status = ma_active
        elif st_ == ma_overflow:
            self.status = ma_active
            entry = self.walk()
            if entry is not None:
                return True, entry
        if self.status == ma_start:
            self.walk()
        if self.status == ma_root:
            if not self.index:
                self.status = ma_none
                return True, None
            self.index = self.last = 0
            return True, self.root()
        if self.status == ma_none:
            if self.index:
                self.index = self.last = 0
                self.status = ma_root
                return True, self.root()
            return True, None
        return False, None

    # -- the API ----------------------------------------------------------------
    def find(self, max: int) -> Any:
        done, entry = self.find_setup(max)
        if done:
            return entry
        entry = self.next_slot(max, False)
        self.status = ma_active
        return entry

    def find_rev(self, min: int) -> Any:
        done, entry = self.find_rev_setup(min)
        return entry if done else self.prev_slot(min, False)

    def next(self, max: int, empty: bool) -> Any:
        done, entry = self.next_setup(max)
        return entry if done else self.next_slot(max, empty)

    def prev(self, min: int, empty: bool) -> Any:
        done, entry = self.prev_setup(min)
        return entry if done else self.prev_slot(min, empty)


def shape_of(mt: MapleTree) -> str:
    """empty, root (a single entry in ma_root) or node."""
    root = mt.ma_root
    if root is None:
        return "empty"
    return "node" if isinstance(root, MapleEnode) else "root"


class ReaderApiMachine(RuleBasedStateMachine):
    """Random reader-API calls and stores between them, model vs reference."""

    def __init__(self) -> None:
        super().__init__()
        self.ref = IntervalMap()
        self.mt = MapleTree(0)
        self.mas = MaState(self.mt, 0, 0)
        self.cur = RefCursor(self.ref, "empty")

    def _agree(self, got: Any, want: Any, call: str) -> None:
        mas, cur = self.mas, self.cur
        where = (f"{call}: model ({mas.index:#x}, {mas.last:#x}, {mas.status}) -> "
                 f"{got!r}; reference ({cur.index:#x}, {cur.last:#x}, "
                 f"{cur.status}) -> {want!r}")
        assert got == want, where
        assert mas.status == cur.status, where
        if (mas.index, mas.last) == (cur.index, cur.last):
            return
        # A NULL range the tree splits at a node boundary: the model's part
        # must lie in the reference's gap; continue from the model's part.
        lo, hi, entry = cur.range_at(cur.index)
        assert entry is None, where
        assert (lo, hi) == (cur.index, cur.last), where
        assert lo <= mas.index <= mas.last <= hi, where
        cur.index, cur.last = mas.index, mas.last

    def _let_go(self) -> None:
        """mas_pause() before a modification when the state holds a node
        (active, or over/underflowed after a walk): the API's contract."""
        if self.mas.node is not None and self.mas.status in (
                ma_active, ma_overflow, ma_underflow):
            mas_pause(self.mas)
            self.cur.status = ma_pause

    def _sync_shape(self) -> None:
        self.cur.shape = shape_of(self.mt)

    @rule(first=st.integers(0, SPACE), length=st.integers(0, 40),
          value=st.one_of(st.none(), st.integers(1, 1000)))
    def store(self, first: int, length: int, value: int | None) -> None:
        """A store between calls: the cursor lets go of the tree first."""
        self._let_go()
        assert mtree_store_range(self.mt, first, first + length, value) == 0
        self.ref.store(first, first + length, value)
        self._sync_shape()

    @rule(value=st.integers(1, 1000))
    def single_entry_at_zero(self, value: int) -> None:
        """Reduce the tree to one entry at 0, held in ma_root."""
        self.mt = MapleTree(0)
        self.ref.store(0, ULONG_MAX, None)
        assert mtree_store_range(self.mt, 0, 0, value) == 0
        self.ref.store(0, 0, value)
        self.mas = MaState(self.mt, self.mas.index, self.mas.last)
        self.cur.status = ma_start
        self._sync_shape()

    @rule()
    def empty_tree(self) -> None:
        """Erase everything: the tree becomes empty (ma_root NULL)."""
        self._let_go()
        assert mtree_store_range(self.mt, 0, ULONG_MAX, None) == 0
        self.ref.store(0, ULONG_MAX, None)
        self._sync_shape()

    @rule(index=indexes)
    def set(self, index: int) -> None:
        mas_set(self.mas, index)
        self.cur.index = self.cur.last = index
        self.cur.status = ma_start

    @rule()
    def reset(self) -> None:
        mas_reset(self.mas)
        self.cur.status = ma_start

    @precondition(lambda self: self.mas.status == ma_active)
    @rule()
    def pause(self) -> None:
        mas_pause(self.mas)
        self.cur.status = ma_pause

    @rule()
    def walk(self) -> None:
        self._agree(mas_walk(self.mas), self.cur.walk(), "mas_walk")

    @rule(max=limits)
    def find(self, max: int) -> None:
        self._agree(mas_find(self.mas, max), self.cur.find(max), f"mas_find {max:#x}")

    @precondition(lambda self: not self.nodeless_flow())
    @rule(min=limits)
    def find_rev(self, min: int) -> None:
        self._agree(mas_find_rev(self.mas, min), self.cur.find_rev(min),
                    f"mas_find_rev {min:#x}")

    def nodeless_flow(self) -> bool:
        """Over- or underflowed before any walk: the state has no node, and
        the next step in either direction dereferences it (see
        :func:`test_a_limit_hit_before_any_walk_leaves_no_node`)."""
        return self.mas.node is None and self.mas.status in (ma_overflow, ma_underflow)

    @precondition(lambda self: not self.nodeless_flow())
    @rule(max=limits, empty=st.booleans())
    def next(self, max: int, empty: bool) -> None:
        fn = mas_next_range if empty else mas_next
        self._agree(fn(self.mas, max), self.cur.next(max, empty),
                    f"{fn.__name__} {max:#x}")

    @precondition(lambda self: not self.nodeless_flow())
    @rule(min=limits, empty=st.booleans())
    def prev(self, min: int, empty: bool) -> None:
        fn = mas_prev_range if empty else mas_prev
        self._agree(fn(self.mas, min), self.cur.prev(min, empty),
                    f"{fn.__name__} {min:#x}")

    @invariant()
    def same_shape(self) -> None:
        assert self.cur.shape == shape_of(self.mt)


ReaderApiMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_reader_api_matches_the_reference_cursor = ReaderApiMachine.TestCase


def test_a_limit_hit_before_any_walk_leaves_no_node() -> None:
    """A kernel bug the faithful model shows (lib/maple_tree.c 6.12): a fresh
    ma_state whose first mas_next() already meets its limit goes to
    ma_overflow without a walk, mas->node still NULL; the next mas_next()
    with a larger limit takes "overflowed before, but the max changed" to
    ma_active and mas_next_slot() dereferences the NULL node.  The same
    holds for ma_underflow from mas_prev() and mas_find_rev().  Reported,
    not fixed in maple/."""
    mt = MapleTree(0)
    mtree_store_range(mt, 10, 20, 1)
    mas = MaState(mt, 0, 0)
    assert mas_next(mas, 0) is None
    assert mas.status == ma_overflow
    assert mas.node is None
    with pytest.raises(Exception):  # noqa: B017, PT011 - the kernel oopses here
        mas_next(mas, ULONG_MAX)  # catalogued: maple-overflow-state-null-node
    mas = MaState(mt, 5, 5)
    assert mas_prev(mas, 5) is None
    assert mas.status == ma_underflow
    with pytest.raises(Exception):  # noqa: B017, PT011
        mas_prev(mas, 0)
