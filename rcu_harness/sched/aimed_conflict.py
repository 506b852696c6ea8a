"""The ``aimed-conflict`` strategy: the default before aimed-data (conflict aim).

``aimed-conflict`` is ``aimed-class`` (:mod:`rcu_harness.sched.aimed_class`:
aimed-rcu's members with a turn list per program class, resolved by
calibration) whose pct-site and pct-relay turns take ``aim=conflict``
(:mod:`rcu_harness.sched.pct_site`, *Conflict aim*): where the run stalls
at readers' sites (``stall_in`` resolved to ``rcu``), pct-site draws its
stall among readers' acts (fields a thread stores to inside an RCU
read-side section) and stalls every later thread at that word too, and
pct-relay among the conflicting fields (a reader's field another thread
stores to in an object the reader holds); calibration fills ``acts`` and
``conflicts`` from its walks and passes them on resolved, so replay,
resume and ``--jobs`` run the same executions.  Execution ``i`` is
execution ``i`` of ``--strategy aimed-class --strategy-param
aim=conflict`` for the same seed and calibration.  ``aimed-class`` stays
under its name with the same executions (``aim=site``), so its printed
replay commands replay exactly.

Why: the slowest windows are those of a reader inside
``vma_start_read()`` or the /proc/PID/maps walk, and what decides them is
the word the stall falls on: the word a reader stores to, or the field a
writer changes under it, not any readers' site (reports/BENCHMARKS.md,
*pct-site's conflict aim*).  On the 35 seeded mutants, seeds 0 to 39, caps
10,000 executions / 600 s (BENCHMARKS, *aimed-conflict*), every mutant is
found by all 40 seeds and the slowest median goes from 28 to 19
(``vma-start-read-skips-seq-recheck`` 28 to 6, ``maps-skips-gap-check``
23 to 7, ``vma-reuse-skips-mm-check`` 11 to 7.5, ``vma-find-end-inclusive``
7 to 5.5, ``vma-start-read-refcount-relaxed`` 6 to 5; the slowest is now
``fault-skips-vma-recheck``, 26 to 19, whose rare part is the program's
own draws: the owner's operations must split the VMA the reader holds);
later: ``vma-writer-skips-reader-drain`` 4 to 6 (15 seeds later, 1
sooner, worst 51 to 98: later, but not by more than 2 executions and 25%
with no seed missed, the rule fixed before the run),
``fault-skips-detached-check`` 4 to 4.5, ``maps-resume-without-pause`` 3
to 3 (6 seeds later).  Against aimed-rcu the slowest median goes from 37
to 19.  It was the default strategy and is now ``aimed-data``
(:mod:`rcu_harness.sched.aimed_data`: these turns with the program's own
draws aimed too); aimed-conflict stays under its name with the same
executions, so its printed replay commands replay exactly.

Its parameters are aimed-class's, ``aim`` defaulting to ``conflict``
(``data`` empty: ``aimed-data``, :mod:`rcu_harness.sched.aimed_data`, is
it with the program's draws aimed).
"""

from __future__ import annotations

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_class import AUTO, AimedClassStrategy
from rcu_harness.sched.aimed_pct import FALLBACK
from rcu_harness.sched.aimed_rcu import STALL_IN
from rcu_harness.sched.aimed_stale import READS

__all__ = ["AIM", "AimedConflictStrategy"]

AIM = "conflict"
"""The ``aim`` of its pct-site and pct-relay turns unless given."""


class AimedConflictStrategy(AimedClassStrategy):
    """aimed-class whose pct-site and pct-relay turns aim at conflicts
    (``aim=conflict``)."""

    name = "aimed-conflict"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS, fallback: str = FALLBACK,
                 stall_in: str = STALL_IN, aim: str = AIM, acts: str = "",
                 conflicts: str = "", program_class: str = AUTO,
                 data: str = "") -> None:
        super().__init__(
            seed, depth=depth, steps=steps, sites=sites, profile=profile,
            interesting=interesting, points=points, sync_points=sync_points,
            fallback_steps=fallback_steps, reads=reads, fallback=fallback,
            stall_in=stall_in, aim=aim, acts=acts, conflicts=conflicts,
            program_class=program_class, data=data)
