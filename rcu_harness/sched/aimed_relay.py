"""The ``aimed-relay`` strategy: the default before aimed-stale (aimed-site, pct-relay).

``aimed-relay`` is the portfolio (:mod:`rcu_harness.sched.portfolio`) with
members ``pct,random-sync,pct-site,surw,pct-site,pct-relay``,
``points=field`` (pct-site's and pct-relay's stall only at the first visit
of a VMA or mm field) and ``sync_points=access`` (random-sync's switches
only where the running thread is at a non-maple memory access), under one
short name, so a replay command of the default read ``--strategy
aimed-relay``.  The default became ``aimed-stale``
(:mod:`rcu_harness.sched.aimed_stale`: these turns, the aimed ones reading
the oldest store under a weak memory model), then ``aimed-pct``, and is
now ``aimed-data`` after ``aimed-conflict`` (:mod:`rcu_harness.sched.aimed_conflict`);
aimed-relay stays under its name with the same executions, so its printed
replay commands replay exactly.  It is ``aimed-site``
(:mod:`rcu_harness.sched.aimed_site`,
kept unchanged under its name, as ``aimed`` and ``aimed-surw`` are) with a
sixth turn for pct-relay (:mod:`rcu_harness.sched.pct_relay`): pct-site's
stall handed to the thread that stores to what the stalled thread checked,
then handed back.  Execution ``i`` is execution ``i`` of member
``i mod 6``, the same schedule as ``--strategy portfolio --strategy-param
members=pct,random-sync,pct-site,surw,pct-site,pct-relay --strategy-param
points=field --strategy-param sync_points=access`` for the same seed and
calibration.

It was candidate C7 of docs/search.md, *pct-relay*: pct-relay finds
``vma-start-read-skips-seq-recheck`` (fault, writer, fault, writer) in
about 4.4% of its executions, where aimed-site's only finder, random-sync,
does in 1.8 to 2.4%.  On the 35 seeded mutants, seeds 0 to 19, caps 10,000
executions (reports/BENCHMARKS.md, *pct-relay*), it finds every one on 20
of 20 seeds, the slowest at a median of 90.5 executions
(``vma-start-read-refcount-relaxed``) against aimed-site's 110.5
(``vma-start-read-skips-seq-recheck``, now 75); faster on
``vma-reuse-skips-mm-check`` (28 against 44) and ``dead-node-no-rmb`` (22
against 34), slower on ``destroy-frees-at-once`` (28 against 16) and
``vma-start-read-refcount-relaxed`` (90.5 against 84).

Its parameters are the portfolio's per-member ones: ``depth`` and
``steps`` (pct's ``k``), ``sites`` (pct-site's and pct-relay's) and
``profile`` (surw's), all calibrated before a run unless given,
``fallback_steps`` (pct-site's and pct-relay's, calibrated when ``sites``
is and found below 2: a program without VMA or mm fields, where their stall
falls at a drawn sync decision instead), ``interesting`` (surw's),
``points`` (pct-site's and pct-relay's) and ``sync_points``
(random-sync's); the members themselves are fixed (use
``portfolio`` for others), pct-relay's ``hold`` is its default, and it has
no pct-sync member, so no ``sync_steps``.
"""

from __future__ import annotations

from rcu_harness.sched.aimed_site import AimedSiteStrategy

MEMBERS = "pct,random-sync,pct-site,surw,pct-site,pct-relay"
"""The members of ``aimed-relay``, in turn."""


class AimedRelayStrategy(AimedSiteStrategy):
    """The portfolio pct, random-sync, pct-site, surw, pct-site, pct-relay
    with aimed points (and the profile of its surw member): aimed-site's
    parameters, another turn list."""

    name = "aimed-relay"
    turns = MEMBERS
