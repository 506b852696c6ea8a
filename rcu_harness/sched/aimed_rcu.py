"""The ``aimed-rcu`` strategy: the default before aimed-class (readers' sites).

``aimed-rcu`` is ``aimed-pct`` (:mod:`rcu_harness.sched.aimed_pct`: the
portfolio ``pct,random-sync,pct-site,surw,pct-site,pct-relay``,
``points=field``, ``sync_points=access``, ``reads=oldest``,
``fallback=pct``) with ``stall_in=rcu-or-any`` for its pct-site and
pct-relay turns: where the calibration walk reaches 2 readers' sites or
more (fields a thread reaches inside an RCU read-side section: a fault in
``lock_vma_under_rcu()``, the /proc/PID/maps reader in
``lock_next_vma()``) their stall is drawn among those sites
(``stall_in=rcu``, :mod:`rcu_harness.sched.pct_site`, *Readers' sites*);
below 2 readers' sites among every thread's sites, as aimed-pct's, and
below 2 sites in all PCT's executions, as aimed-pct's.  Calibration
passes the form on resolved (``stall_in=rcu`` or ``stall_in=any`` in the
run's parameters), so where it is ``any`` execution ``i`` is aimed-pct's
execution ``i``, byte for byte.  It is the same schedule as ``--strategy
portfolio --strategy-param
members=pct,random-sync,pct-site,surw,pct-site,pct-relay --strategy-param
points=field --strategy-param sync_points=access --strategy-param
reads=oldest --strategy-param fallback=pct --strategy-param
stall_in=rcu-or-any`` for the same seed and calibration.  ``aimed-pct``
and the older aimed portfolios are unchanged under their names.  The
default became ``aimed-class`` (:mod:`rcu_harness.sched.aimed_class`:
these members, a turn list per program class, these very turns on a
program of class ``other``) and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`: aimed-class with
``aim=conflict``); aimed-rcu stays under its name with the same
executions, so its printed replay commands replay exactly.

Why: the per-VMA-lock windows stop a lockless reader inside
``vma_start_read()``; drawing the stall among every thread's sites gave
the owner, who holds the mmap_lock, about 38% of the stalls on
``maps-skips-gap-check``.  Readers' sites in every aimed turn
(``stall_in=rcu``) halved the default's slowest median over 40 seeds (73
to 37) but made ``vma-used-after-rcu-unlock`` (a reader stopped right
*after* ``rcu_read_unlock()``: 1 reader site, 2 sites in all) 3 to 20,
because below 2 sites the turns ran PCT; readers' sites in only two of
the three aimed turns kept it at 3 but took the slowest of the ten slowest
reader mutants only to 64 (reports/BENCHMARKS.md, *aimed-rcu*).  With
every thread's sites where readers' sites are fewer than 2 that mutant's
stall is aimed-pct's again.  On the 35 seeded mutants, seeds 0 to 39, caps
10,000 executions / 600 s, 1,238 of the 1,400 attempts are aimed-pct's to
the execution, kind and message; the slowest median goes from 73 to 37
(``maps-skips-gap-check`` 73 to 36, ``vma-start-read-skips-seq-recheck``
58 to 37, ``vma-reuse-skips-mm-check`` 41 to 11,
``vma-start-read-refcount-relaxed`` 23.5 to 7), no median is later, and
``vma-used-after-rcu-unlock`` stays at 3.

Its parameters are aimed-pct's (``depth``, ``steps``, ``sites``,
``profile``, ``fallback_steps``, ``interesting``, ``points``,
``sync_points``, ``reads``, ``fallback``) and ``stall_in``
(``rcu-or-any``; ``rcu`` or ``any`` as given, ``any`` runs aimed-pct's
executions), which goes to its pct-site and pct-relay turns.
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_pct import FALLBACK, MEMBERS, AimedPctStrategy
from rcu_harness.sched.aimed_stale import READS
from rcu_harness.sched.pct_site import RCU_OR_ANY
from rcu_harness.sched.portfolio import PortfolioStrategy

__all__ = ["MEMBERS", "AimedRcuStrategy"]

STALL_IN = RCU_OR_ANY
"""Whose sites its pct-site and pct-relay turns stall at: readers' sites
from 2 of them, else every thread's (resolved by calibration)."""


class AimedRcuStrategy(AimedPctStrategy):
    """aimed-pct whose pct-site and pct-relay turns draw their stall among
    readers' sites where there are 2 or more (``stall_in``)."""

    name = "aimed-rcu"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS, fallback: str = FALLBACK,
                 stall_in: str = STALL_IN) -> None:
        PortfolioStrategy.__init__(
            self, seed, members=self.turns, depth=depth, steps=steps, sites=sites,
            profile=profile, interesting=interesting, points=points,
            sync_points=sync_points, fallback_steps=fallback_steps, reads=reads,
            fallback=fallback, stall_in=stall_in)
