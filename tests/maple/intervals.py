"""An interval-map oracle: the plain model the maple tree is checked against."""

from __future__ import annotations

import bisect
from typing import Any


class IntervalMap:
    """Disjoint [first, last] -> value ranges; storing NULL removes coverage."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ranges: list[tuple[int, int, Any]] = []

    def store(self, first: int, last: int, value: Any) -> None:
        """Overwrite [first, last] with @value (None erases)."""
        out = []
        i = bisect.bisect_left(self.starts, first)
        if i and self.ranges[i - 1][1] >= first:
            i -= 1
        j = i
        while j < len(self.ranges) and self.ranges[j][0] <= last:
            a, b, v = self.ranges[j]
            if a < first:
                out.append((a, first - 1, v))
            if b > last:
                out.append((last + 1, b, v))
            j += 1
        if value is not None:
            out.append((first, last, value))
        out.sort()
        self.ranges[i:j] = out
        self.starts[i:j] = [r[0] for r in out]

    def find_range(self, index: int) -> tuple[int, int, Any] | None:
        """The range holding @index, if any."""
        i = bisect.bisect_right(self.starts, index) - 1
        if i >= 0 and self.ranges[i][1] >= index:
            return self.ranges[i]
        return None

    def load(self, index: int) -> Any:
        """The value at @index, or None."""
        found = self.find_range(index)
        return found[2] if found else None

    def erase(self, index: int) -> Any:
        """Remove the whole range holding @index; return its value."""
        found = self.find_range(index)
        if found is None:
            return None
        self.store(found[0], found[1], None)
        return found[2]

    def find(self, index: int, max: int) -> tuple[int, int, Any] | None:
        """The first range ending at or after @index and starting at or before @max."""
        i = bisect.bisect_right(self.starts, index) - 1
        if i < 0 or self.ranges[i][1] < index:
            i += 1
        if i < len(self.ranges) and self.ranges[i][0] <= max:
            return self.ranges[i]
        return None

    def items(self) -> list[tuple[int, int, Any]]:
        """Every range in ascending order."""
        return list(self.ranges)
