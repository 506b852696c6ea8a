"""The ``aimed-class`` strategy: the default before aimed-conflict (class lists).

``aimed-class`` is ``aimed-rcu`` (:mod:`rcu_harness.sched.aimed_rcu`:
``points=field``, ``sync_points=access``, ``reads=oldest``,
``fallback=pct``, ``stall_in=rcu-or-any``) whose turn list depends on the
class of the program, which the calibration walk (one random execution
seeded by the base seed alone, :func:`~rcu_harness.runner.block.calibrate`)
decides from what it saw, never from a mutant's or a scenario's name:

* ``readers``: the walk reached :data:`MANY_SITES` sites (fields, every
  thread's) or more, 2 or more of them readers' sites (fields a thread
  reaches inside an RCU read-side section: the per-VMA-lock windows of
  ``lock_vma_under_rcu()`` and the /proc/PID/maps reader beside the
  mmap_lock holder's VMA and mm fields);
* ``weak``: otherwise, the walk made a read choice (a load that could read
  more than one store: the program runs under a weak memory model,
  ``lkmm``);
* ``other``: every other program, aimed-rcu's own turns
  ``pct,random-sync,pct-site,surw,pct-site,pct-relay``.

Calibration passes the class on resolved (``program_class`` in the run's
parameters), so replay, resume and ``--jobs`` run the same turns; on a
program of class ``other`` execution ``i`` is aimed-rcu's execution ``i``,
byte for byte, and on every class it is execution ``i`` of ``--strategy
portfolio --strategy-param members=L`` with aimed-rcu's other parameters,
L that class's list (:data:`CLASSES`).  Made without calibration
(``program_class=auto`` and no walk) it runs class ``other``'s turns.

Why: the slow mutants belong to different members.  The per-VMA-lock
windows are found by the stall members (``vma-start-read-skips-seq-recheck``
by pct-relay, ``maps-skips-gap-check`` by pct-site), the publication bugs
under lkmm by surw and pos (``dead-node-no-rmb``: neither pct-site,
pct-relay nor random-sync ever find it), so a turn moved in one global
list helps one class and hurts another (reports/BENCHMARKS.md, *Other
turn lists on top of aimed-rcu*); a list per class need not.  The lists
were chosen on each member's chance per execution over 20 calibrations
(BENCHMARKS, *aimed-class*): ``readers`` four pct-site and two pct-relay
turns in eight (random-sync kept for ``vma-writer-skips-reader-drain``),
``weak`` three surw turns and one pos in six.  On the 35 seeded mutants,
seeds 0 to 39, caps 10,000 executions / 600 s, the slowest median goes
from 37 to 28 (``vma-start-read-skips-seq-recheck`` 37 to 28,
``maps-skips-gap-check`` 36 to 23, ``dead-node-no-rmb`` 25 to 8), no
median is later, and the 840 attempts of the 21 mutants of class
``other`` are aimed-rcu's.  It was the default strategy (aimed-rcu stays
under its name) and is now ``aimed-data`` after ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`: these turns with
``aim=conflict``); aimed-class stays under its name with the same
executions (``aim=site``), so its printed replay commands replay exactly.

Its parameters are aimed-rcu's, ``program_class`` (``auto``, resolved by
calibration; or one of :data:`CLASSES` as given) and ``data`` (empty: the
program's draws are the generator's; ``aimed-data``'s,
:mod:`rcu_harness.sched.aimed_data`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.aimed import POINTS, SYNC_POINTS
from rcu_harness.sched.aimed_pct import FALLBACK
from rcu_harness.sched.aimed_rcu import MEMBERS, STALL_IN, AimedRcuStrategy
from rcu_harness.sched.aimed_stale import READS
from rcu_harness.sched.errors import check_choice
from rcu_harness.sched.portfolio import TAKEN_BY, PortfolioStrategy

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["AUTO", "CLASSES", "AimedClassStrategy", "portfolio_params",
           "program_class"]

AUTO = "auto"
"""The ``program_class`` that calibration resolves (:func:`program_class`)."""

OTHER = "other"
"""The class of a program that is neither ``weak`` nor ``readers``."""

CLASSES: dict[str, str] = {
    "weak": "pct,surw,pos,surw,pct-relay,surw",
    "readers": ("pct,random-sync,pct-site,pct-relay,pct-site,pct-relay,"
                "pct-site,pct-site"),
    OTHER: MEMBERS,
}
"""Each program class and its members, in turn."""

TAKES = frozenset({"members", "program_class"} | {
    key for key, takers in TAKEN_BY.items()
    if any(m in takers for turns in CLASSES.values() for m in turns.split(","))})
"""The parameters it uses: those of every class's members, whatever the
class, so that a run's parameters (its calibration) do not depend on which
class calibration finds."""

AIMED: dict[str, str] = {"points": POINTS, "sync_points": SYNC_POINTS,
                         "reads": READS, "fallback": FALLBACK,
                         "stall_in": STALL_IN}
"""aimed-rcu's parameters besides its members (those of every class)."""

MANY_SITES = 4
"""From this many sites (fields, every thread's) of the calibration walk, 2
of them readers' or more, a program is of class ``readers``."""


def program_class(read_choices: int, sites: int, rcu_sites: int) -> str:
    """The class of a program whose calibration walk made @read_choices read
    choices and reached @sites sites, @rcu_sites of them readers'."""
    if sites >= MANY_SITES and rcu_sites >= 2:
        return "readers"
    if read_choices:
        return "weak"
    return OTHER


def portfolio_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``portfolio`` that run the executions of
    ``aimed-class`` with the calibrated @params (``program_class``
    resolved): that class's list as ``members`` and aimed-class's parameters
    that one of those members takes (a class without surw takes no
    ``profile``)."""
    members = CLASSES[params["program_class"]]
    names = members.split(",")
    given = {**AIMED, **params}
    return {"members": members, **{
        key: value for key, value in given.items()
        if key in TAKEN_BY and any(m in TAKEN_BY[key] for m in names)}}


class AimedClassStrategy(AimedRcuStrategy):
    """aimed-rcu with the turn list of the program's class
    (``program_class``)."""

    name = "aimed-class"

    def __init__(self, seed: int = 0, *, depth: int = 3, steps: int = 0,
                 sites: int = 0, profile: str = "",
                 interesting: str = "points", points: str = POINTS,
                 sync_points: str = SYNC_POINTS, fallback_steps: int = 0,
                 reads: str = READS, fallback: str = FALLBACK,
                 stall_in: str = STALL_IN, aim: str = "site", acts: str = "",
                 conflicts: str = "", program_class: str = AUTO,
                 data: str = "") -> None:
        check_choice(self.name, "program_class", program_class, (AUTO, *CLASSES))
        self.program_class = program_class
        """The class whose turns it runs (``auto``: class ``other``'s)."""
        PortfolioStrategy.__init__(
            self, seed, members=CLASSES.get(program_class, CLASSES[OTHER]),
            depth=depth, steps=steps, sites=sites, profile=profile,
            interesting=interesting, points=points, sync_points=sync_points,
            fallback_steps=fallback_steps, reads=reads, fallback=fallback,
            stall_in=stall_in, aim=aim, acts=acts, conflicts=conflicts, data=data)
        self.takes = TAKES

    def check_given(self, given: Iterable[str]) -> None:
        """Refuse (ValueError) a parameter of @given that no class's member
        takes."""
        for key in given:
            if key in TAKEN_BY and key not in TAKES:
                raise ValueError(
                    f"{self.name} parameter {key} is taken by none of its members "
                    f"(only by {', '.join(TAKEN_BY[key])})")
