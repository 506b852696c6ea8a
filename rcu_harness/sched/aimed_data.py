"""The ``aimed-data`` strategy: the default: aimed-conflict, the program's draws aimed.

``aimed-data`` is ``aimed-conflict`` (:mod:`rcu_harness.sched.aimed_conflict`)
whose pct-site and pct-relay turns also choose the program's own random
values (``h.random(n)``: which address a fault or a lookup aims at) with
``data`` (:mod:`rcu_harness.sched.data_aim`): calibration's random walks
(the :data:`~rcu_harness.sched.pct_site.CONFLICT_WALKS` walks that collect
pct-relay's ``conflicts``) score each value drawn by how often it led its
thread, inside an RCU read-side section, to an object another thread
stores to in the same execution; the turns then draw a scored value
(weighted by score) in 3 draws of 4 and a uniform one in the fourth.
Calibration passes ``data`` on resolved (``data=auto`` is its default; the
resolved text lists ``range:valuexweight``; empty where the walks scored
nothing, or where the run does not stall at readers' sites), so replay by
seed, resume and ``--jobs`` run the same executions; the values differ
from the generator's, so each execution of those turns records its values
in its schedule (:attr:`~rcu_harness.sched.schedule.Schedule.values`,
format version 3) and replay by trace file returns them.  The turns
without ``data`` (pct, random-sync, surw, pos) and every turn where
``data`` is empty are aimed-conflict's executions, byte for byte.

Why: on ``fault-skips-vma-recheck``, the slowest mutant of aimed-conflict
(a median of 19 over 40 seeds), the rare part is the program's data: the
owner's operations must split in place the VMA the reader found, and 7 of
the 72 fault addresses are those.  pct-site finds it in 10.5% of its
executions, 26 to 46% with a finding's draws (reports/BENCHMARKS.md,
*aimed-data*).  What it models: swarm testing's restricted choices (Groce
et al., ISSTA 2012) steered by data flow (the objects the draws lead to
and who writes them), as data-flow aware fuzzers steer inputs toward
shared, written state.  On the 35 seeded mutants, seeds 0 to 39, caps
10,000 executions / 600 s (BENCHMARKS, *aimed-data*), every mutant is
found by all 40 seeds, ``fault-skips-vma-recheck`` goes from 19 to 5 and
the slowest median from 19 to 10 (``in-place-write-in-rcu``, unchanged);
over seeds 0 to 9 from 17 to 11; every other attempt is aimed-conflict's.
It is the default strategy.

Its parameters are aimed-conflict's, ``data`` defaulting to ``auto``.
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_class import AUTO
from rcu_harness.sched.aimed_conflict import AIM, AimedConflictStrategy
from rcu_harness.sched.aimed_pct import FALLBACK
from rcu_harness.sched.aimed_rcu import STALL_IN
from rcu_harness.sched.aimed_stale import READS
from rcu_harness.sched.data_aim import AUTO as DATA_AUTO

__all__ = ["AimedDataStrategy"]


class AimedDataStrategy(AimedConflictStrategy):
    """aimed-conflict whose pct-site and pct-relay turns aim the program's
    draws (``data``)."""

    name = "aimed-data"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS, fallback: str = FALLBACK,
                 stall_in: str = STALL_IN, aim: str = AIM, acts: str = "",
                 conflicts: str = "", program_class: str = AUTO,
                 data: str = DATA_AUTO) -> None:
        super().__init__(
            seed, depth=depth, steps=steps, sites=sites, profile=profile,
            interesting=interesting, points=points, sync_points=sync_points,
            fallback_steps=fallback_steps, reads=reads, fallback=fallback,
            stall_in=stall_in, aim=aim, acts=acts, conflicts=conflicts,
            program_class=program_class, data=data)
