"""The ``aimed-site`` strategy: the default before aimed-relay (C5: pct-site twice).

``aimed-site`` is the portfolio (:mod:`rcu_harness.sched.portfolio`) with
members ``pct,random-sync,pct-site,surw,pct-site``, ``points=field``
(pct-site's stall only at the first visit of a VMA or mm field) and
``sync_points=access`` (random-sync's switches only where the running
thread is at a non-maple memory access), under one short name, so a replay
command of the default read ``--strategy aimed-site``.  The default became
``aimed-relay`` (:mod:`rcu_harness.sched.aimed_relay`: a sixth turn for
pct-relay), and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`);
aimed-site stays under its name with the same executions for
the same parameters, so its printed replay commands replay exactly (below
2 sites a calibrated run's pct-site turns now take pct-site's fallback).  It is
``aimed-surw`` (:mod:`rcu_harness.sched.aimed_surw`, kept unchanged under
its name, as ``aimed`` is) with pct-site (:mod:`rcu_harness.sched.pct_site`)
in both of pct-sync's turns, hence the name: aimed's aimed points, its
stall drawn among sites.  Execution ``i`` is execution ``i`` of member
``i mod 5``, the same schedule as ``--strategy portfolio --strategy-param
members=pct,random-sync,pct-site,surw,pct-site --strategy-param
points=field --strategy-param sync_points=access`` for the same seed and
calibration (its two pct-site turns are two instances of pct-site with the
same seed and parameters, so each of their executions is what pct-site
alone runs at that index).

It was candidate C5 of docs/search.md, *pct-site*: pct-site draws its
stall among the few fields an execution reaches (11 on
``vma-reuse-skips-mm-check``) instead of among pct-sync's 198 field
decisions, so it finds that mutant in about 4% of its executions against
pct-sync's 1%.  On the 35 seeded mutants, seeds 0 to 19, caps 10,000
executions or 60 s (reports/BENCHMARKS.md, *pct-site*), it finds every
one on 20 of 20 seeds, the slowest at a median of 110 executions
(``vma-start-read-skips-seq-recheck``, random-sync's executions, the very
ones of aimed-surw) against aimed-surw's 126
(``vma-reuse-skips-mm-check``, now 44); faster than aimed-surw on 4
mutants (``fault-skips-vma-recheck`` 19 against 29,
``fault-skips-detached-check`` 9 against 20, ``vma-freed-without-rcu`` 8
against 11), slower on 1 (``vma-start-read-refcount-relaxed`` 84 against
72), the same on the other 30.

Its parameters are the portfolio's per-member ones: ``depth`` and
``steps`` (pct's ``k``), ``sites`` (pct-site's) and ``profile`` (surw's),
all calibrated before a run unless given, ``fallback_steps`` (pct-site's,
calibrated when ``sites`` is and found below 2: a program without VMA or
mm fields, where pct-site's stall falls at a drawn sync decision instead),
``interesting`` (surw's), ``points`` (pct-site's) and ``sync_points``
(random-sync's); the members
themselves are fixed (use ``portfolio`` for others), and it has no
pct-sync member, so no ``sync_steps``.
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.portfolio import PortfolioStrategy

MEMBERS = "pct,random-sync,pct-site,surw,pct-site"
"""The members of ``aimed-site``, in turn."""


class AimedSiteStrategy(PortfolioStrategy):
    """The portfolio pct, random-sync, pct-site, surw, pct-site with aimed
    points (and the profile of its surw member)."""

    name = "aimed-site"
    turns = MEMBERS
    """Its members in turn (a subclass with other turns is another named
    portfolio of the same parameters: ``aimed-relay``)."""

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0) -> None:
        super().__init__(seed, members=self.turns, depth=depth, steps=steps,
                         sites=sites, profile=profile,
                         interesting=interesting, points=points,
                         sync_points=sync_points, fallback_steps=fallback_steps)
