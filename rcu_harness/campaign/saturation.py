"""Reads-from coverage over a run, and when it has saturated.

The coordinator absorbs blocks in index order, so after each block the
executions ``0 .. n-1`` are all in, and every reads-from pair (see
:mod:`rcu_harness.memory.reads_from`) they made is known with the first
execution that made it.  ``C(m)`` is the number of distinct pairs the first
``m`` executions made: the *saturation curve*, a function of the seed and
``m`` alone (not of ``--jobs``, the block order or resumes).

The rule of ``--until-saturated``: the run stops after a block when
``n >= MIN_EXECUTIONS`` and ``C(n) - C(n // 2) <= NEW_SHARE * C(n)``: the
second half of the run added at most 1% of the pairs (doubling the run
taught nothing new, within 1%).  Blocks have a fixed size, so the check
happens at the same ``n`` whatever the number of workers, and a resumed run
stops where one session would have.  A program without observed node words
has ``C = 0`` and saturates at ``MIN_EXECUTIONS``.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

MIN_EXECUTIONS = 100
NEW_SHARE = 0.01


class Coverage:
    """The pairs known so far, with the first execution of each."""

    def __init__(self, pairs: Iterable[tuple[str, int]] = ()) -> None:
        self.first: dict[str, int] = {}
        self._firsts: list[int] = []
        """Sorted first executions, one per pair."""
        for pair, first in pairs:
            self.add(pair, first)

    def add(self, pair: str, first: int) -> None:
        """Pair @pair was made by execution @first (keep the earliest)."""
        old = self.first.get(pair)
        if old is not None:
            if first >= old:
                return
            del self._firsts[bisect.bisect_left(self._firsts, old)]
        self.first[pair] = first
        bisect.insort(self._firsts, first)

    def absorb(self, pairs: Mapping[str, tuple[int, int]]) -> None:
        """A block's pairs, each with (first execution, count)."""
        for pair, (first, _n) in pairs.items():
            self.add(pair, first)

    def upto(self, m: int) -> int:
        """``C(m)``: distinct pairs made by executions ``0 .. m-1``."""
        return bisect.bisect_left(self._firsts, m)

    def saturated(self, n: int) -> bool:
        """Has coverage saturated after @n executions (the module's rule)?"""
        if n < MIN_EXECUTIONS:
            return False
        total = self.upto(n)
        return total - self.upto(n // 2) <= NEW_SHARE * total
