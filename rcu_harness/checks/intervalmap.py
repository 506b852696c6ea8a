"""A small persistent interval map: the reference a reader's results meet.

Ranges are inclusive ``[start, last]``, sorted and disjoint; NULL is the
absence of a range.  A store splits the ranges it partly overlaps (as the
maple tree does) and never merges equal neighbours (the maple tree keeps
them apart too).  Stores return a new map, so every version of a writer
history can be kept.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from rcu_harness.trace.events import summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

Range = tuple[int, int, object]
_start = itemgetter(0)
_end = itemgetter(1)


@dataclass(frozen=True, slots=True)
class IntervalMap:
    """Sorted disjoint ranges with non-NULL entries."""

    ranges: tuple[Range, ...] = ()

    def store(self, index: int, last: int, entry: object) -> IntervalMap:
        """A new map with @entry over [index, last] (None erases).

        The ranges are sorted and disjoint, so their ends are sorted too:
        the ranges that overlap [index, last] are one run, found by
        bisection; only the first and the last of them can keep a part.
        """
        ranges = self.ranges
        if not ranges or ranges[-1][1] < index:  # past every range (setup's
            if entry is None:  # stores, in ascending order): nothing to split
                return self
            return _made((*ranges, (index, last, entry)))
        i = bisect.bisect_left(ranges, index, key=_end)
        j = bisect.bisect_right(ranges, last, lo=i, key=_start)
        mid: list[Range] = []
        if i < j:
            start, end, value = ranges[i]
            if start < index:
                mid.append((start, index - 1, value))
        if entry is not None:
            mid.append((index, last, entry))
        if i < j:
            start, end, value = ranges[j - 1]
            if end > last:
                mid.append((last + 1, end, value))
        return _made((*ranges[:i], *mid, *ranges[j:]))

    def store_all(self, entries: Sequence[Range]) -> IntervalMap:
        """The map after storing each of @entries in turn (what folding
        :meth:`store` over them gives).

        Entries past every range (setup's, in ascending order) are appended
        in one go, an erase there skipped; from the first entry that is not
        past every range on, each is stored by :meth:`store`.
        """
        out = list(self.ranges)
        top = out[-1][1] if out else None
        for n, (index, last, entry) in enumerate(entries):
            if top is not None and top >= index:
                made = _made(tuple(out)) if len(out) != len(self.ranges) else self
                for index, last, entry in entries[n:]:
                    made = made.store(index, last, entry)
                return made
            if entry is not None:
                out.append((index, last, entry))
                top = last
        return _made(tuple(out)) if len(out) != len(self.ranges) else self

    def lookup(self, index: int) -> object:
        """The entry covering @index, or None."""
        ranges = self.ranges
        pos = bisect.bisect_right(ranges, index, key=_start) - 1
        if pos >= 0:
            start, end, value = ranges[pos]
            if start <= index <= end:
                return value
        return None

    def has_exact(self, index: int, last: int, entry: object) -> bool:
        """Is @entry stored over exactly [index, last]?  (Starts are
        distinct: the one range that may start at @index, by bisection.)"""
        ranges = self.ranges
        pos = bisect.bisect_left(ranges, index, key=_start)
        if pos < len(ranges):
            start, end, value = ranges[pos]
            return start == index and end == last and value == entry
        return False

    def empty_over(self, index: int, last: int) -> bool:
        """Is all of [index, last] NULL?  (The first range ending at or
        after @index is the only one that can start first.)"""
        ranges = self.ranges
        pos = bisect.bisect_left(ranges, index, key=_end)
        return pos == len(ranges) or ranges[pos][0] > last

    def overlapping(self, first: int, limit: int) -> list[Range]:
        """The ranges that intersect [first, limit] (one run, as in
        :meth:`store`)."""
        ranges = self.ranges
        i = bisect.bisect_left(ranges, first, key=_end)
        return list(ranges[i:bisect.bisect_right(ranges, limit, lo=i, key=_start)])

    def summary(self, limit: int = 8) -> str:
        """A short text form for reports."""
        parts = [f"[{s:#x}-{e:#x}]={summarize(v)}" for s, e, v in self.ranges[:limit]]
        more = f" ... (+{len(self.ranges) - limit})" if len(self.ranges) > limit else ""
        return "{" + ", ".join(parts) + more + "}"


_set_ranges = IntervalMap.__dict__["ranges"].__set__


def _made(ranges: tuple[Range, ...]) -> IntervalMap:
    """``IntervalMap(ranges)`` without the frozen dataclass's ``__init__``
    (an ``object.__setattr__`` call): the slot set through its descriptor."""
    new = object.__new__(IntervalMap)
    _set_ranges(new, ranges)
    return new
