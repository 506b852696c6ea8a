"""The ``aimed-pct`` strategy: the default before aimed-rcu (PCT below 2 sites).

``aimed-pct`` is ``aimed-stale`` (:mod:`rcu_harness.sched.aimed_stale`:
the portfolio ``pct,random-sync,pct-site,surw,pct-site,pct-relay``,
``points=field``, ``sync_points=access``, ``reads=oldest``) with
``fallback=pct``: on a program with fewer than 2 sites (no VMA or mm
fields: ``tree_destroy``, the maple-only programs, a user's program over
``SimStruct`` objects) its pct-site and pct-relay turns are PCT's own
executions (depth 3, ``k`` the calibration walk's decisions: the pct turn's
``steps``; uniform reads, as the pct turn's) instead of one stall at a
drawn sync decision (:mod:`rcu_harness.sched.pct_site`, *Fallback*).  On a
program of 2 sites or more execution ``i`` is aimed-stale's execution
``i``, byte for byte.  It is the same schedule as ``--strategy portfolio
--strategy-param members=pct,random-sync,pct-site,surw,pct-site,pct-relay
--strategy-param points=field --strategy-param sync_points=access
--strategy-param reads=oldest --strategy-param fallback=pct`` for the same
seed and calibration.  ``aimed-stale``, ``aimed-relay``, ``aimed-site``,
``aimed-surw`` and ``aimed`` are unchanged under their names.  The default
became ``aimed-rcu`` (:mod:`rcu_harness.sched.aimed_rcu`: these turns,
pct-site's and pct-relay's stall drawn among readers' sites where there
are 2 or more), then ``aimed-class``
(:mod:`rcu_harness.sched.aimed_class`: aimed-rcu's members, a turn list
per program class), and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`: aimed-class with
``aim=conflict``); aimed-pct stays under its name with the same
executions, so its printed replay commands replay exactly.

Why: on ``destroy-frees-at-once`` (``tree_destroy``, below 2 sites) the
sync-decision stall finds nothing (0 of 2,000 executions for pct-site and
pct-relay each) where PCT finds it in 17 to 19% of its executions: the
reader must be stopped inside its walk of the tree, at a maple word, which
a sync decision never is.  So three of aimed-stale's six turns found
nothing there (reports/BENCHMARKS.md, *Stale reads for the aimed members*).
On the worked example of docs/python-api.md (``tests/programs/sessions.py``,
one field), for which the sync-decision stall was introduced, PCT too finds
more than it (8.9 to 9.6% of its executions against 6.6 to 8.3%, seeds 0
to 3; BENCHMARKS, *aimed-pct*).  On the 35 seeded mutants, seeds 0 to 19,
caps 10,000 executions / 600 s, 684 of the 700 attempts are aimed-stale's
to the execution, kind and message; the 16 others are all
``destroy-frees-at-once``, none later (its median 8 against 28); the
slowest median stays 75 (``vma-start-read-skips-seq-recheck``).  On the
worked example the default's first finding over seeds 0 to 19 has a
median of 7 executions against aimed-stale's 8.

Its parameters are aimed-stale's (``depth``, ``steps``, ``sites``,
``profile``, ``fallback_steps``, ``interesting``, ``points``,
``sync_points``, ``reads``) and ``fallback`` (``pct``; ``sync`` runs
aimed-stale's executions), which goes to its pct-site and pct-relay turns.
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_stale import MEMBERS, READS, AimedStaleStrategy
from rcu_harness.sched.portfolio import PortfolioStrategy

__all__ = ["MEMBERS", "AimedPctStrategy"]

FALLBACK = "pct"
"""The form of its pct-site and pct-relay turns below 2 sites."""


class AimedPctStrategy(AimedStaleStrategy):
    """aimed-stale whose pct-site and pct-relay turns are PCT's executions
    on a program of fewer than 2 sites (``fallback``)."""

    name = "aimed-pct"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS, fallback: str = FALLBACK) -> None:
        PortfolioStrategy.__init__(
            self, seed, members=self.turns, depth=depth, steps=steps, sites=sites,
            profile=profile, interesting=interesting, points=points,
            sync_points=sync_points, fallback_steps=fallback_steps, reads=reads,
            fallback=fallback)
