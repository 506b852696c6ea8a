"""Data aim: the program's own draws aimed at values that lead to conflicts.

A scenario draws its data from the strategy (``h.random(n)``: which
address a fault aims at, which point a lookup reads).  Uniform draws are
most of the gap on a bug whose rare part is the *data*: on
``fault-skips-vma-recheck`` a reader must fault on a VMA that the owner's
mprotect() splits in place while the reader is stalled, and 7 of the 72
fault addresses are those (the others never meet a split), so a well
placed stall finds the bug only when the draw is right too
(reports/BENCHMARKS.md, *aimed-data*).

What the calibration walks learn (:class:`~rcu_harness.sched.pct_site.DataCounter`,
over the :data:`~rcu_harness.sched.pct_site.CONFLICT_WALKS` random walks
that also collect pct-relay's ``conflicts``): after each draw of a thread
(range ``n``, value ``v``), the objects (VMA, mm: a pending access's
address, tree nodes and locks excluded) the thread accesses inside its RCU
read-side sections until its first draw after them; a draw *scores* once per object it
led to that another thread stores to in the same execution (before or
after: an object written in place under a reader, such as a VMA whose
bounds a split changes, or one reused).  A value's weight is its score
summed over the walks; a range is kept only where at most half of its
values scored (:data:`MINORITY`).  This is a data-flow aware form of swarm testing
(Groce et al., *Swarm testing*, ISSTA 2012: restricting each test's
choices raises the chance of the rare combinations): the draws are kept to
the values that the program's own data flow led to shared, written
objects, learned from what the walks saw, never from a scenario's name.

How a member draws (``data``, :class:`DataAim`): a draw of range ``n``
that calibration scored is, in :data:`SHARE` - 1 of :data:`SHARE` draws,
one of its scored values, weighted by score; in the other one, and for
every range not scored, the generator's own value (``% n``, uniform: every
value stays reachable).  Both come from one 64-bit value of the
execution's data generator (its high half decides aimed or not, its low
half the scored value), so the draw is a function of the execution seed
and the calibration alone; the aimed values differ from the generator's,
so the execution records its values in its schedule
(:attr:`~rcu_harness.sched.schedule.Schedule.values`) and replay by trace
file returns them.

``data`` is text: entries ``N:VxW`` comma-separated (range ``N``, value
``V``, weight ``W``), sorted; :data:`NONE` (or empty): no aim (the
generator's values, not recorded), what calibration resolves where its
walks scored nothing; :data:`AUTO`: calibration fills it (unresolved, no
aim).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["AUTO", "NONE", "SHARE", "DataAim", "data_text", "parse_data"]

AUTO = "auto"
"""The ``data`` that calibration resolves (to the learned values, or
:data:`NONE` where its walks scored none)."""

NONE = "none"
"""No aim, spelt out: what calibration resolves where its walks scored
nothing, so that a replay command says so (the same as empty)."""

SHARE = 4
"""One draw in SHARE is uniform, the others among the scored values."""

MINORITY = 0.5
"""A range is aimed only where at most this share of its values scored:
where most values lead to written objects the data is not the rare part
(every value of a one-bit draw, every fault address where every VMA is
unmapped and reused), and aiming would only reshuffle the draws."""

_LOW = (1 << 32) - 1


def parse_data(text: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """The ranges of @text (``N:VxW,...``) and, for each, its (value,
    weight) pairs in value order; ValueError on a malformed entry or a
    (range, value) given twice (no entry silently overrides another)."""
    table: dict[int, dict[int, int]] = {}
    if text in (AUTO, NONE):
        return {}
    for entry in (e.strip() for e in str(text).split(",")):
        if not entry:
            continue
        try:
            n_text, rest = entry.split(":")
            v_text, w_text = rest.split("x")
            n, v, w = int(n_text), int(v_text), int(w_text)
        except ValueError:
            raise ValueError(f"data entry {entry!r} is not N:VxW (range N, value "
                             "V, weight W)") from None
        if n < 1 or not 0 <= v < n or w < 1:
            raise ValueError(f"data entry {entry!r}: needs 0 <= V < N and W >= 1")
        if v in table.setdefault(n, {}):
            raise ValueError(f"data entry {entry!r}: value {v} of range {n} "
                             "is given twice")
        table[n][v] = w
    return {n: tuple(sorted(vw.items())) for n, vw in sorted(table.items())}


def data_text(scores: Mapping[tuple[int, int], int]) -> str:
    """The ``data`` text of @scores ((range, value) -> weight), sorted: the
    ranges where at most :data:`MINORITY` of the values scored."""
    scored: dict[int, int] = {}
    for (n, _), w in scores.items():
        if w > 0:
            scored[n] = scored.get(n, 0) + 1
    return ",".join(f"{n}:{v}x{w}" for (n, v), w in sorted(scores.items())
                    if w > 0 and scored[n] <= n * MINORITY)


class DataAim:
    """The draws of ``data``: per range, its values and their cumulative
    weights."""

    __slots__ = ("_table",)

    def __init__(self, text: str) -> None:
        self._table: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        for n, pairs in parse_data(text).items():
            cumulative, total = [], 0
            for _, weight in pairs:
                total += weight
                cumulative.append(total)
            self._table[n] = (tuple(v for v, _ in pairs), tuple(cumulative))

    def __bool__(self) -> bool:
        return bool(self._table)

    def value(self, n: int, u: int) -> int:
        """The value in ``[0, @n)`` of a draw whose 64-bit random is @u."""
        aimed = self._table.get(n)
        if aimed is None or (u >> 32) % SHARE == 0:
            return u % n  # the generator's own value
        values, cumulative = aimed
        return values[bisect_right(cumulative, (u & _LOW) % cumulative[-1])]
