"""The ``aimed-surw`` strategy: the default before aimed-site (pct-sync twice, surw).

``aimed-surw`` is the portfolio (:mod:`rcu_harness.sched.portfolio`) with
members ``pct,random-sync,pct-sync,surw,pct-sync``, ``points=field``
(pct-sync's change points only where the stopped thread is at a VMA or mm
field) and ``sync_points=access`` (random-sync's switches only where the
running thread is at a non-maple memory access), under one short name, so
a replay command of the default read ``--strategy aimed-surw``.  The
default became ``aimed-site`` (:mod:`rcu_harness.sched.aimed_site`:
pct-site in both of pct-sync's turns), then ``aimed-relay``
(:mod:`rcu_harness.sched.aimed_relay`), ``aimed-stale``, ``aimed-pct``,
and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`); aimed-surw stays under its name with
the same executions, so its replay commands replay exactly.  It is
``aimed`` (:mod:`rcu_harness.sched.aimed`, kept unchanged under its name)
with surw in random's turn and a second pct-sync turn, hence the name:
aimed's aimed points, and surw.  Execution ``i`` is execution ``i`` of
member ``i mod 5``, the same schedule as ``--strategy portfolio
--strategy-param members=pct,random-sync,pct-sync,surw,pct-sync
--strategy-param points=field --strategy-param sync_points=access`` for the
same seed and calibration (its two pct-sync turns are two instances of
pct-sync with the same seed and parameters, so each of their executions is
what pct-sync alone runs at that index).

It was candidate C2 of docs/search.md, *aimed's slow tail*: surw finds the
barrier mutants that random was aimed's slot for (surw keeps the readers
and the writer interleaved), and pct-sync, the best member on the
page_fault tail, runs two executions in five instead of one in four.  On
the 35 seeded mutants, seeds 0 to 19, caps 10,000 executions or 60 s
(reports/BENCHMARKS.md, *The slow tail of aimed*; reader-skips-dead-check's
seeds 13 and 17 rerun after calibrate()'s livelock fix), it finds every one
on 20 of 20 seeds, the slowest at a median of 126 executions
(``vma-reuse-skips-mm-check``) against aimed's 147; faster than aimed on 11
mutants (``dead-node-no-rmb`` 34 against 122, ``replace-node-no-release``
9 against 117), slower on 4 (at most ``vma-start-read-refcount-relaxed``'s
72 against 61).

Its parameters are the portfolio's per-member ones: ``depth`` (pct and
pct-sync), ``steps`` (pct's ``k``), ``sync_steps`` (pct-sync's) and
``profile`` (surw's), all calibrated before a run unless given,
``interesting`` (surw's), ``points`` and ``sync_points``; the members
themselves are fixed (use ``portfolio`` for others).
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.portfolio import PortfolioStrategy

MEMBERS = "pct,random-sync,pct-sync,surw,pct-sync"
"""The members of ``aimed-surw``, in turn."""


class AimedSurwStrategy(PortfolioStrategy):
    """The portfolio pct, random-sync, pct-sync, surw, pct-sync with aimed points
    (and the profile of its surw member)."""

    name = "aimed-surw"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sync_steps: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS) -> None:
        super().__init__(seed, members=MEMBERS, depth=depth, steps=steps,
                         sync_steps=sync_steps, profile=profile,
                         interesting=interesting, points=points,
                         sync_points=sync_points)
