"""The ``aimed`` strategy: the former default: pct, random-sync, pct-sync, random.

``aimed`` is the portfolio (:mod:`rcu_harness.sched.portfolio`) with
members ``pct,random-sync,pct-sync,random``, ``points=field`` (pct-sync's
change points only where the stopped thread is at a VMA or mm field) and
``sync_points=access`` (random-sync's switches only where the running
thread is at a non-maple memory access), under one short name, so a replay
command of the default read ``--strategy aimed``.  The default became
``aimed-surw`` (:mod:`rcu_harness.sched.aimed_surw`: surw in random's turn
and pct-sync twice) and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`); aimed stays under its name with
the same executions, so its replay commands replay exactly.  It is mix's
pct and random halves, each shared with the member that aims its kind of
stall away from the maple node words: execution ``i`` is execution ``i``
of member ``i mod 4``, the same schedule as ``--strategy portfolio
--strategy-param members=pct,random-sync,pct-sync,random --strategy-param
points=field --strategy-param sync_points=access`` for the same seed and
calibration.  On the 35 seeded mutants (docs/search.md, *The confirming
run*) it finds every one on 10 of 10 seeds within 10,000 executions, the
slowest at a median of 203 executions against mix's 582.

Its parameters are the portfolio's per-member ones: ``depth`` (pct and
pct-sync), ``steps`` (pct's ``k``) and ``sync_steps`` (pct-sync's),
both calibrated before a run unless given, ``points`` and ``sync_points``;
the members themselves are fixed (use ``portfolio`` for others).
"""

from __future__ import annotations

from rcu_harness.sched.portfolio import MembersInTurn

MEMBERS = "pct,random-sync,pct-sync,random"
"""The members of ``aimed``, in turn."""
POINTS = "field"
"""pct-sync's ``points`` in ``aimed``."""
SYNC_POINTS = "access"
"""random-sync's ``points`` in ``aimed``."""


class AimedStrategy(MembersInTurn):
    """The portfolio pct, random-sync, pct-sync, random with aimed points."""

    name = "aimed"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sync_steps: int = 0, points: str = POINTS,
                 sync_points: str = SYNC_POINTS) -> None:
        super().__init__(seed, members=MEMBERS, depth=depth, steps=steps,
                         sync_steps=sync_steps, points=points,
                         sync_points=sync_points)
