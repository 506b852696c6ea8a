"""The ``aimed-stale`` strategy: the default before aimed-pct (stale reads).

``aimed-stale`` is ``aimed-relay`` (:mod:`rcu_harness.sched.aimed_relay`:
the portfolio ``pct,random-sync,pct-site,surw,pct-site,pct-relay``,
``points=field``, ``sync_points=access``) with ``reads=oldest``: under a
weak memory model (``--memory-model lkmm``) every load with a choice that
its random-sync, pct-site and pct-relay turns make reads the oldest store
the model allows, while its pct and surw turns keep the uniform choice
(:mod:`rcu_harness.sched.reads`).  Under ``sc`` no load has a choice, so
there execution ``i`` is aimed-relay's execution ``i``, byte for byte; under
lkmm the aimed turns make every thread decision aimed-relay's do (the
uniform draw is made and dropped) and differ only in the stores their
loads read.  It is the same schedule as ``--strategy portfolio
--strategy-param members=pct,random-sync,pct-site,surw,pct-site,pct-relay
--strategy-param points=field --strategy-param sync_points=access
--strategy-param reads=oldest`` for the same seed and calibration.
``aimed-relay``, ``aimed-site``, ``aimed-surw`` and ``aimed`` are unchanged
under their names.  The default became ``aimed-pct``
(:mod:`rcu_harness.sched.aimed_pct`: these turns, pct-site's and
pct-relay's PCT's executions on a program of fewer than 2 sites) and is
now ``aimed-data`` after ``aimed-conflict`` (:mod:`rcu_harness.sched.aimed_conflict`);
aimed-stale stays under its name with the same executions, so its printed
replay commands replay exactly.

Why: the default's slowest mutant was ``vma-start-read-refcount-relaxed``
(a median of 90.5 executions, seeds 0 to 19), the reference of
``vma_start_read()`` taken relaxed, so the fault's re-check of the VMA's
``vm_lock_seq`` may read the store from before the writer's
``vma_start_write()``. A uniform read choice takes that stale store in only
some of the executions whose schedule opens the window; the oldest store,
in all of them. The chance per execution of the aimed members on it
(reports/BENCHMARKS.md, *Stale reads for the aimed members*; seeds 0 and 1,
uniform reads, then the oldest): pct-site 0.2 and 0.2% against 2.2 and
3.3%, pct-relay 1.3 and 2.3% against 3.7 and 4.8%, random-sync 0.8 and 0.6%
against 2.3 and 2.3%. pct and surw keep uniform reads: with the oldest
store everywhere surw and pct find ``dead-node-no-rmb`` and
``replace-node-no-release`` (a reader that must see the new node and its
old contents) in none of 300 executions, against 6 to 20% with uniform
reads; random-sync, pct-site and pct-relay found none of the other barrier
mutants first in aimed-relay's runs. On the 35 seeded mutants, seeds 0 to
19, caps 10,000 executions / 600 s, 682 of the 700 attempts are
aimed-relay's to the execution (every mutant under sc, and the four barrier
mutants pct or surw find first); the 18 others are all
``vma-start-read-refcount-relaxed``, every one found sooner: its median
20.5 against 90.5, and the slowest median of the default 75
(``vma-start-read-skips-seq-recheck``, unchanged) against 90.5.

Its parameters are aimed-relay's (``depth``, ``steps``, ``sites``,
``profile``, ``fallback_steps``, ``interesting``, ``points``,
``sync_points``) and ``reads`` (``oldest``; ``uniform`` runs aimed-relay's
executions), which goes to its random-sync, pct-site and pct-relay turns.
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_relay import MEMBERS, AimedRelayStrategy
from rcu_harness.sched.portfolio import PortfolioStrategy

__all__ = ["MEMBERS", "AimedStaleStrategy"]

READS = "oldest"
"""The read policy of its random-sync, pct-site and pct-relay turns."""


class AimedStaleStrategy(AimedRelayStrategy):
    """aimed-relay whose random-sync, pct-site and pct-relay turns read
    the oldest store a load may read (``reads``)."""

    name = "aimed-stale"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS) -> None:
        PortfolioStrategy.__init__(
            self, seed, members=self.turns, depth=depth, steps=steps, sites=sites,
            profile=profile, interesting=interesting, points=points,
            sync_points=sync_points, fallback_steps=fallback_steps, reads=reads)
