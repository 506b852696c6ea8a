"""The ``pct-site`` strategy: one stall, at the first visit of a site drawn uniformly.

PCT (:mod:`rcu_harness.sched.pct`) and ``pct-sync``
(:mod:`rcu_harness.sched.pct_sync`) draw a change point uniformly among
the *decisions* of an execution.  The per-VMA-lock windows of the slow
page_fault mutants are early and narrow: ``vma-reuse-skips-mm-check``
needs a fault stopped inside its first ``vma_start_read()``, after its
loads of ``vm_lock_seq`` and the mm's ``sequence`` and before its
``vm_refcnt`` increment, while the owner munmaps and another process
reuses the VMA: about 2 of pct-sync's 198 field decisions, so 1.2% of its
executions find it (docs/search.md, *aimed's slow tail*).  Most of those
198 decisions are the same few code sites visited again and again (a VMA
field per fault, per VMA, per thread).

``pct-site`` draws the stall among *sites* instead: a site is the field
a thread is about to access (the ``word`` of its pending access: a VMA's
``vm_refcnt``, an mm's ``sequence``; every point without a pending access
is the one site ``""`` under ``points=sync``).  The execution counts the
sites as the threads PCT runs reach them, each at its first visit by any
thread (the chosen thread at a decision of the kind ``points`` names, as
``pct-sync``'s ``points``), and the ``j``-th distinct site reached, ``j``
drawn uniformly from ``1..sites``, is the stall: that thread drops to the
lowest priority of all (below every thread, as a yield puts it) and stays
there, so every other thread runs first until it blocks or finishes (the
owner's whole munmap series, the other process's whole mmap series).
Before and after the stall, priorities are PCT's: random and distinct
per thread, drawn from the execution's generator, a new thread at a random
position, a yielding thread lowest.  A window one of ``s`` sites wide,
reached first by the thread to stop, is hit in about ``1/s`` of the
executions instead of ``1/k``: ``s`` is 11 for ``vma-reuse-skips-mm-check``
(``points=field``) against ``k`` = 198 (BENCHMARKS, *pct-site*).

Measured against the alternatives (a stall site keyed by field and load or
store, or by thread as well; a uniformly drawn visit of the site instead of
its first; a random walk before or after the stall; two or three stalls),
this form had the highest chance on ``vma-reuse-skips-mm-check``
(BENCHMARKS, *pct-site*, the negative results).

**Readers' sites** (``stall_in=rcu``; ``any``, every thread's, is the
default): a site counts only where the thread about to visit it is inside
an RCU read-side section (a lockless reader: a fault in
``lock_vma_under_rcu()``, the /proc/PID/maps reader in
``lock_next_vma()``), so the stall is drawn among the fields lockless
readers reach.  The per-VMA-lock windows stop a reader inside
``vma_start_read()``; with every thread's sites the owner, holding the
mmap_lock, took the stall in about 38% of the executions on
``maps-skips-gap-check`` (BENCHMARKS, *maps-skips-gap-check's window*).
Measured (seeds 0 and 1, 500 executions each): ``vma-reuse-skips-mm-check``
3.8 and 4.6% to 11.4 and 14.0%, ``vma-freed-without-rcu`` 12.2 to 21.8
and 22.4%, ``maps-skips-gap-check`` 3.2 and 1.6% to 3.4 and 3.0%; but
``vma-used-after-rcu-unlock`` (a reader stopped right *after*
``rcu_read_unlock()``) 42% to 1.7%.

**Readers' sites, else every thread's** (``stall_in=rcu-or-any``,
``aimed-rcu``'s turns): calibration decides the form on its walk and
passes it on resolved: ``rcu`` where the walk reaches 2 readers' sites or
more, ``any`` below that (``vma-used-after-rcu-unlock``: 1 reader site and
2 sites in all, so its stall keeps its 42%), and ``sites`` then counts
that form's sites.  Made without calibration (``sites`` given, or none
measured) it counts readers' sites, as ``rcu``.

**Conflict aim** (``aim=conflict``; ``site``, the above, is the default):
with readers' sites, a reader's window is rarely its drawn site's first
visit.  On ``maps-skips-gap-check`` only the /proc/PID/maps reader stopped
before its ``vm_refcnt`` increment (or, less often, its ``vm_lock_seq``
load) finds the hole, 2 of 7 or 8 readers' sites, and their first visitor
is a fault in nearly half of the draws; on ``fault-skips-vma-recheck``
the one reader stalled holds a VMA the owner's 32 operations split in place
in about one execution in ten.  With ``aim=conflict`` the stall is drawn
among the readers' *acts* (``acts``, calibrated: the fields a thread
stores to inside an RCU read-side section, the reference
``vma_start_read()`` takes on the VMA it found, which the writer's detach
and free conflict with; a decision counts only where a thread inside RCU
is about to store to one), or, where the walk saw none, among the sites as
``aim=site``; and every other thread that later reaches the drawn field
(stores to the act, visits the site) is stalled there too, once each,
below the earlier ones, so the first stalled resumes first.  Measured
against readers' sites (seeds 0 and 1, 500 executions each;
reports/BENCHMARKS.md, *pct-site's conflict aim*): ``maps-skips-gap-check``
3.4 and 3.0% to 16.0 and 17.4% (acts alone 11.0 and 11.8%, the later
stalls alone 4.0 and 4.2%), ``fault-skips-vma-recheck`` 3.6 and 4.4% to
10.8 and 8.6% (no acts there: both readers stall holding their VMAs),
``vma-reuse-skips-mm-check`` 11.4 and 14.0% to 16.0 and 18.6%,
``vma-freed-without-rcu`` 21.8 and 22.4% to 29.6 and 28.4%,
``fault-skips-detached-check`` 25.8 and 27.2% to 27.8 and 28.0%,
``vma-start-read-refcount-relaxed`` 14.8 and 20.6% to 17.4 and 23.2%,
``vma-used-after-rcu-unlock`` (every thread's sites) 40.6 and 46.8% to 47.6
and 54.0%.  Drawing among the fields other threads store to while a reader
holds their object (pct-relay's ``conflicts``) instead of the acts: 4.8%
on ``maps-skips-gap-check`` (seed 0), 6.6% with the later stalls.  The
stall drawn before *or after* each act (the reader's next field once it
has taken its reference, for ``vma-writer-skips-reader-drain``, whose
reader must hold the VMA while the writer goes on: 0% with acts before
only, 9.3% with readers' sites, 11.6 and 11.8% with both; seeds 0 and 1),
measured and not kept: ``maps-skips-gap-check`` 8.8 and 10.6%,
``vma-reuse-skips-mm-check`` 8.2 and 10.8%, below readers' sites' 11.4 and
14.0%.  After the stall the strategy is asked at every decision (``keep``
stays 0): 1.72 times pct-site's instructions per point on the SimStruct
workload (``stress/bench_sched.py --callgrind``; the same on maple nodes,
below 2 sites).

``sites`` is the number of distinct sites of one ``random`` execution
seeded by the base seed alone (:class:`SiteCounter`, measured before a run
by :func:`rcu_harness.runner.block.calibrate`), or given; without either,
the most an earlier execution of this instance reached, as PCT's ``steps``.

**Data aim** (``data``; empty, the default, leaves every execution as it
was): the program's own draws (``h.random(n)``) are chosen by the
strategy (``next_value``), in :data:`~rcu_harness.sched.data_aim.SHARE` - 1
of :data:`~rcu_harness.sched.data_aim.SHARE` draws among the values
``data`` lists for that range, weighted (``N:VxW``,
:class:`~rcu_harness.sched.data_aim.DataAim`; calibrated by ``aimed-data``
with ``data=auto`` from :class:`DataCounter`'s walks), else the
generator's value; the execution records every value in its schedule,
which replays them (pct-relay takes it too; :mod:`rcu_harness.sched.data_aim`).

**Fallback.**  A program without VMA or mm fields (a user's program over
``SimStruct`` objects, the maple-only scenarios) has at most one site: the
draw has nothing to choose, and the stall is always at the first visit of
that one field, or never.  When calibration finds fewer than 2 sites it
also measures ``fallback_steps``: the walk's *sync decisions* (the kind
``points=sync`` names: the chosen thread not at a maple word, so a field,
a lock, an RCU primitive, a yield, an ``Atomic`` counter or a free), and
the stall is then the ``j``-th sync decision of the execution, ``j`` drawn
uniformly from ``1..fallback_steps``: the same stall (the thread drops
below every other one and stays there) at a uniformly drawn point of the
code that is not the tree's own, as ``pct-sync --strategy-param
points=sync`` places its change points.  It keeps pct-site's idea (one
stall, aimed away from the tree's node words, where the other threads'
whole operations then run) where there are no sites to aim at.  On the
worked example of docs/python-api.md (``tests/programs/sessions.py``, one
field) pct-site alone found its bug in none of 800 executions (seeds 0 to
3) without the fallback; with it aimed-site (then the default) finds it at
a median of 13 executions over seeds 0 to 19 instead of 40 (BENCHMARKS,
*pct-site's fallback*).

**Fallback ``pct``** (``fallback=pct``, ``aimed-pct``'s turns): below 2
sites an execution is PCT's own (:mod:`rcu_harness.sched.pct`, depth
:data:`FALLBACK_DEPTH`, its change points drawn among all of the
execution's decisions, ``fallback_steps`` then the calibration walk's
decisions, PCT's ``steps``; uniform reads, as PCT's, whatever ``reads``
says): execution ``i`` is ``pct``'s execution ``i`` with the same seed and
``steps``, schedule for schedule.  The sync-decision stall cannot stop a
thread inside the tree's own code: on ``destroy-frees-at-once``
(``tree_destroy``: a reader must be stopped inside its walk while
``mtree_destroy()`` frees the nodes) it finds nothing (0 of 2,000
executions), where PCT finds it in 17%; on the worked example PCT finds its
bug in 8.9 to 9.6% of executions (seeds 0 to 3) against the stall's 6.6 to
8.3% (BENCHMARKS, *aimed-pct*).  ``sync`` (the stall) stays the default, so
pct-site's, pct-relay's and the older aimed portfolios' executions are
unchanged.  A given ``sites`` is taken as it is: ``fallback_steps`` only
applies with ``sites`` below 2 (given with ``sites`` of 2 or more it is
refused), and calibration measures it only when it measured ``sites``.
The strategy watches pending accesses
(:class:`~rcu_harness.sched.protocol.Watching`); until the stall a
decision adds to PCT's one pending-access load, a kind test and a set
lookup; after it the strategy is PCT without a change point left, whose
answer the execution keeps without a call (``keeper``, as PCT's).
Execution ``i`` draws from ``derive(seed, i)`` alone.  Under a weak memory
model ``reads=oldest`` makes every load with a choice read the oldest store
the model allows instead of a uniform one (:mod:`rcu_harness.sched.reads`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.data_aim import DataAim, data_text
from rcu_harness.sched.errors import check_choice
from rcu_harness.sched.pct import KEEP_ALL, PctStrategy
from rcu_harness.sched.pct_sync import SyncCounter, counted, point_kinds
from rcu_harness.sched.reads import check_reads, oldest_reads

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

STALL_IN = ("any", "rcu", "rcu-or-any")
"""Whose sites the stall is drawn among (``stall_in``): any thread's, only
those a thread reaches inside an RCU read-side section, or those where the
calibration walk reaches 2 of them or more and any thread's otherwise
(:data:`RCU_OR_ANY`)."""

RCU_OR_ANY = "rcu-or-any"
"""The ``stall_in`` that calibration resolves to ``rcu`` or ``any``
(:func:`resolve_stall_in`); unresolved it counts as ``rcu``."""


def resolve_stall_in(stall_in: str, rcu_sites: int) -> str:
    """The form of @stall_in for a program whose calibration walk reached
    @rcu_sites readers' sites: ``rcu-or-any`` is ``rcu`` from 2 of them,
    ``any`` below; the others are themselves."""
    if stall_in != RCU_OR_ANY:
        return stall_in
    return "rcu" if rcu_sites >= 2 else "any"

AIMS = ("site", "conflict")
"""How the stall's site is aimed (``aim``): ``site``, among the sites as
above; ``conflict``, among the words calibration saw readers conflict at
(*Conflict aim* above)."""

CONFLICT_WALKS = 16
"""The calibration walks (executions ``0..15`` of the random walk) whose
conflicting stores make pct-relay's ``conflicts``."""


def aimed_words(text: str) -> tuple[str, ...]:
    """The field names of a comma-separated @text (``acts``,
    ``conflicts``), sorted, each once."""
    return tuple(sorted({w.strip() for w in str(text).split(",") if w.strip()}))


FALLBACKS = ("sync", "pct")
"""The forms below 2 sites (``fallback``; *Fallback* above)."""

FALLBACK_DEPTH = 3
"""PCT's depth in the fallback ``pct``: PCT's default, the depth of the pct
turn of the aimed portfolios."""

NO_ACCESS = ""
"""The site of a point without a pending access (an RCU primitive, a
yield, an ``Atomic`` counter, a free), counted under ``points=sync``."""


def site_of(pending: Any) -> str:
    """The site of a decision whose chosen thread's pending access is
    @pending: the field or word it accesses."""
    return NO_ACCESS if pending is None else str(pending.word)


class PctSiteStrategy(PctStrategy):
    """PCT whose one change point is the first visit of a drawn site."""

    name = "pct-site"
    counts_sites = True
    """It takes ``sites`` (calibration measures it when not given)."""

    def __init__(self, seed: int = 0, *, sites: int = 0,
                 points: str = "field", fallback_steps: int = 0,
                 reads: str = "uniform", fallback: str = "sync",
                 stall_in: str = "any", aim: str = "site", acts: str = "",
                 data: str = "") -> None:
        check_choice(self.name, "stall_in", stall_in, STALL_IN)
        self._data_aim = DataAim(data)
        """The program's draws it aims (``data``; empty: none)."""
        self.next_value: Callable[[int, int], int] | None = (
            self._aimed_value if self._data_aim else None)
        """With ``data``, its choice of the program's draws
        (:class:`~rcu_harness.sched.protocol.ChoosesData`, *Data aim*)."""
        check_choice(self.name, "fallback", fallback, FALLBACKS)
        check_choice(self.name, "aim", aim, AIMS)
        self.aim = aim
        self._words = self._aimed(acts, "acts")
        """The readers' acts the stall is drawn among (``aim=conflict``;
        empty: among the sites)."""
        if sites < 0:
            raise ValueError(f"{self.name} sites must be >= 0 (got {sites})")
        if fallback_steps < 0:
            raise ValueError(f"{self.name} fallback_steps must be >= 0 (got "
                             f"{fallback_steps})")
        if fallback_steps and sites >= 2:
            raise ValueError(f"{self.name} fallback_steps applies only with sites "
                             f"below 2 (got sites={sites})")
        self._at_none, self._at_locks = point_kinds(points, self.name)
        check_reads(reads, self.name)
        self.points = points
        self.reads = reads
        self._sites_param = sites
        self.stall_in = stall_in
        self._rcu_only = stall_in in ("rcu", RCU_OR_ANY)
        """Are sites counted only where the thread is inside an RCU read-side
        section?"""
        self.fallback = fallback
        """The form below 2 sites (``fallback_steps`` given): ``sync``, one
        stall at a drawn sync decision; ``pct``, PCT's own executions."""
        self._pct = bool(fallback_steps) and fallback == "pct"
        """Is every execution PCT's (depth 3, ``fallback_steps`` its ``k``)?"""
        self._fallback = 0 if self._pct else fallback_steps
        """The sync decisions the stall is drawn among (0: among sites)."""
        self.keeps_maple = not self._pct
        """A maple word is never a site, a conflict, a relay's act or a sync
        decision: the answer there is PCT's highest runnable thread, the
        current one (PCT's own executions: change points anywhere)."""
        self.keeps_none = not self._pct and not self._at_none
        """Nor is a point without an access, unless ``points`` counts those
        (or the fallback's sync decisions do; the conflict aim never)."""
        if self._pct:
            self.next_thread = self._pct_next_thread  # type: ignore[method-assign]
        elif fallback_steps:
            self.next_thread = self._stall_at_decision  # type: ignore[method-assign]
            self.keeps_none = False
        elif type(self).next_thread is not PctSiteStrategy.next_thread:
            pass  # a subclass's own (pct-relay's)
        elif aim == "conflict":
            self.next_thread = self._stall_conflict  # type: ignore[method-assign]
            self.keeps_none = True
        elif self._rcu_only:
            self.next_thread = self._stall_in_rcu  # type: ignore[method-assign]
        self._max_sites = 0
        # depth 1: PCT's priorities, yields and new threads, no change point
        # (the fallback pct: PCT itself, its change points among all decisions)
        if self._pct:
            super().__init__(seed, depth=FALLBACK_DEPTH, steps=fallback_steps)
        else:
            super().__init__(seed, depth=1)
        if reads == "oldest" and not self._pct:
            self.next_read = oldest_reads(self.next_read)  # type: ignore[method-assign,assignment]
        self._threads: Sequence[Any] = ()
        # Invariant: the sites reached this execution (membership only).
        self._visited: set[str] = set()
        # Invariant: how many more new sites until the stall; 0 once it
        # happened.
        self._left = 0
        # aim=conflict: the drawn site once stalled at ("": not yet), and the
        # threads it stalled (each once).
        self._site = ""
        self._held: set[int] = set()

    def _aimed(self, text: str, key: str) -> tuple[str, ...]:
        """The words of @text, the ``aim=conflict`` parameter @key; refused
        with ``aim=site``."""
        words = aimed_words(text)
        if words and self.aim != "conflict":
            raise ValueError(f"{self.name} {key} applies only with aim=conflict "
                             f"(got aim={self.aim})")
        return words

    def _aimed_value(self, n: int, thread: int) -> int:
        """A draw of the program in ``[0, @n)``, aimed by ``data``."""
        return self._data_aim.value(n, self._data.next_u64())

    @property
    def keeper(self) -> PctSiteStrategy:
        """This strategy: ``keep`` is 0 until the stall (any decision may
        reach a new site), every later decision after it (PCT without a
        change point left; :class:`~rcu_harness.sched.protocol.Keeping`)."""
        return self

    @property
    def estimated_sites(self) -> int:
        """The number of sites the stall is drawn among."""
        return self._sites_param or max(self._max_sites, 1)

    def new_execution(self, index: int) -> bool:
        """Draw the stall's site (its rank among the sites reached) for
        execution @index."""
        self._max_sites = max(self._max_sites, len(self._visited))
        self._threads = ()
        super().new_execution(index)
        self._visited = set()
        self.keep = 0
        if self._pct:  # PCT's draws alone: its execution, schedule for schedule
            self._left = 0
            return True
        self._site = ""
        self._held = set()
        self._left = self._rng.randint(1, self._fallback or len(self._words)
                                       or self.estimated_sites)
        return True

    def watch(self, threads: Sequence[Any]) -> bool:
        """Keep the execution's threads: their pending accesses are the
        sites."""
        self._threads = threads
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """PCT's choice; the first visit of the drawn site stalls it."""
        # PctStrategy.next_thread()'s choice without its change point,
        # written out: as a shared method call it cost 1.6% more
        # instructions per point on maple nodes and 3.6% on SimStruct
        # (stress/bench_sched.py --callgrind, pct-sync, 5 December 2026)
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        for choice in self._order:  # _highest(), its usual first loop inline
            if choice in runnable:
                break
        else:
            choice = self._highest(runnable)
        if self._left:
            threads = self._threads
            pending = threads[choice].pending if choice < len(threads) else None
            if (self._at_none if pending is None else not pending.maple and (
                    self._at_locks or pending.word != "lock")):  # counted()
                choice = self._visit(choice, runnable, pending)
        return choice


    def _stall_in_rcu(self, runnable: Sequence[int], current: int | None,
                      yielding: bool = False) -> int:
        """:meth:`next_thread` with ``stall_in=rcu``: a site counts only
        where the chosen thread is inside an RCU read-side section."""
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        choice = self._highest(runnable)
        if self._left:
            threads = self._threads
            thread = threads[choice] if choice < len(threads) else None
            pending = thread.pending if thread is not None else None
            if thread is not None and thread.rcu_nesting and (
                    self._at_none if pending is None else not pending.maple and (
                        self._at_locks or pending.word != "lock")):  # counted()
                choice = self._visit(choice, runnable, pending)
        return choice

    def _visit(self, choice: int, runnable: Sequence[int], pending: Any) -> int:
        """A counted decision for @choice, about to make @pending (None: no
        access): count its site at its first visit, and at the drawn one
        drop @choice below every thread and return who runs instead."""
        site = NO_ACCESS if pending is None else pending.word
        if site not in self._visited:
            self._visited.add(site)
            self._left -= 1
            if not self._left:
                self._lower(choice, lowest=True)
                choice = self._highest(runnable)
                self.keep = KEEP_ALL
        return choice

    def _stall_conflict(self, runnable: Sequence[int], current: int | None,
                        yielding: bool = False) -> int:
        """:meth:`next_thread` with ``aim=conflict``: the stall is the first
        visit of the drawn act (or site, without acts), and every other
        thread that reaches that word later stalls there too, once each."""
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        choice = self._highest(runnable)
        threads = self._threads
        if choice >= len(threads):
            return choice
        thread = threads[choice]
        pending = thread.pending
        if pending is None or pending.maple or pending.word == "lock":
            return choice
        if self._words:  # a reader's act: its store to an aimed word
            aimed = pending.store and thread.rcu_nesting and pending.word in self._words
        else:
            aimed = not self._rcu_only or thread.rcu_nesting
        if not aimed:
            return choice
        if self._left:
            site = pending.word
            if site in self._visited:
                return choice
            self._visited.add(site)
            self._left -= 1
            if self._left:
                return choice
            self._site = site
        elif pending.word != self._site or choice in self._held:
            return choice
        self._held.add(choice)
        self._lower(choice, lowest=True)
        return self._highest(runnable)

    _pct_next_thread = PctStrategy.next_thread
    """The fallback ``pct``'s :meth:`next_thread`: PCT's, change points and
    all."""

    def _stall_at_decision(self, runnable: Sequence[int], current: int | None,
                           yielding: bool = False) -> int:
        """The fallback's :meth:`next_thread` (``fallback_steps`` given): PCT's
        choice; the drawn sync decision stalls it."""
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        choice = self._highest(runnable)
        if self._left:
            threads = self._threads
            pending = threads[choice].pending if choice < len(threads) else None
            if pending is None or not pending.maple:  # counted(), points=sync
                self._left -= 1
                if not self._left:
                    self._lower(choice, lowest=True)
                    choice = self._highest(runnable)
                    self.keep = KEEP_ALL
        return choice


class SiteCounter(SyncCounter):
    """The random walk, collecting the sites of its decisions of the kind
    @points names (the calibration probe of ``sites``), and counting, as
    :class:`~rcu_harness.sched.pct_sync.SyncCounter`, its decisions of the
    kind @sync_points names (``sync_steps``) and, for pct-site's fallback,
    those of the kind ``sync``, so one walk measures them all."""

    def __init__(self, seed: int = 0, points: str = "field",
                 sync_points: str = "sync") -> None:
        super().__init__(seed, sync_points)
        self._site_none, self._site_locks = point_kinds(points,
                                                        PctSiteStrategy.name)
        self.sites: set[str] = set()
        """The distinct sites reached (membership and size only)."""
        self.rcu_sites: set[str] = set()
        """Those reached by a thread inside an RCU read-side section
        (``stall_in=rcu``'s sites)."""
        self.fallback_decisions = 0
        """The decisions of the kind ``points=sync`` names (pct-site's
        ``fallback_steps``)."""

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The random walk's choice, counted and its site collected if they
        are of the kinds."""
        choice = super().next_thread(runnable, current, yielding)
        threads = self._threads
        pending = threads[choice].pending if choice < len(threads) else None
        if counted(pending, self._site_none, self._site_locks):
            self.sites.add(site_of(pending))
            if choice < len(threads) and threads[choice].rcu_nesting:
                self.rcu_sites.add(site_of(pending))
        if pending is None or not pending.maple:
            self.fallback_decisions += 1
        return choice


class ConflictCounter(SiteCounter):
    """:class:`SiteCounter` that also collects, for ``aim=conflict``, the
    readers' acts (fields a thread stores to inside an RCU read-side
    section: pct-site's ``acts``) and the conflicting stores (fields a
    thread stores to in an object another thread, inside its RCU read-side
    section, loaded or stored in that section: pct-relay's ``conflicts``,
    with :attr:`~SiteCounter.rcu_sites`).  Its sets grow over the
    executions it walks."""

    def __init__(self, seed: int = 0, points: str = "field",
                 sync_points: str = "sync") -> None:
        super().__init__(seed, points, sync_points)
        self.act_sites: set[str] = set()
        """The fields a thread inside an RCU read-side section stored to."""
        self.conflict_stores: set[str] = set()
        """The fields stored to in an object a reader held."""
        # Invariant: tid -> the objects (addresses) it accessed in its
        # current RCU read-side section; only threads inside one.
        self._held: dict[int, set[int]] = {}

    def new_execution(self, index: int) -> bool:
        """Walk execution @index; the sets collected so far stay."""
        self._held = {}
        return super().new_execution(index)

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The random walk's choice; its field access collected."""
        choice = super().next_thread(runnable, current, yielding)
        threads = self._threads
        if choice >= len(threads):
            return choice
        held = self._held
        for tid in [t for t in held if not threads[t].rcu_nesting]:
            del held[tid]
        thread = threads[choice]
        pending = thread.pending
        if pending is None or pending.maple or pending.word == "lock":
            return choice
        self._access(choice, pending, inside=bool(thread.rcu_nesting))
        return choice

    def _access(self, choice: int, pending: Any, *, inside: bool) -> None:
        """Collect thread @choice's field access @pending (a VMA's or the
        mm's, not a tree node's or a lock's), made inside an RCU read-side
        section if @inside."""
        if pending.store:
            if inside:
                self.act_sites.add(pending.word)
            if any(tid != choice and pending.addr in objects
                   for tid, objects in self._held.items()):
                self.conflict_stores.add(pending.word)
        if inside:
            self._held.setdefault(choice, set()).add(pending.addr)

    @property
    def conflicts(self) -> set[str]:
        """The conflicting fields: those stored to in an object a reader
        held that readers reach inside their read-side sections."""
        return self.conflict_stores & self.rcu_sites


class DataCounter(ConflictCounter):
    """:class:`ConflictCounter` that also scores the program's draws for
    ``data`` (:mod:`rcu_harness.sched.data_aim`): a draw (range, value)
    scores once per object its thread then accessed inside an RCU
    read-side section (until its first draw after such an access: the
    draws made between two reads all lead to the second) that another
    thread stored to in the same execution.  Its draws are the random walk's own values
    (``next_u64() % n``) and its decisions :class:`ConflictCounter`'s, so
    the sets it shares with it are the same.  The scores grow over the
    executions it walks."""

    def __init__(self, seed: int = 0, points: str = "field",
                 sync_points: str = "sync") -> None:
        super().__init__(seed, points, sync_points)
        self.scores: dict[tuple[int, int], int] = {}
        """(range, value) -> score, of the executions walked and folded."""
        self.next_value: Callable[[int, int], int] | None = self._walk_value
        # Invariant: tid -> its draws (range, value) since the first one
        # after its last access inside an RCU read-side section, and the
        # threads seen inside one since their last draw; this execution.
        self._drawn: dict[int, list[tuple[int, int]]] = {}
        self._inside: set[int] = set()
        # Invariant: (object, draw, tid) reached inside RCU after the draw,
        # and object -> the threads that stored to it, this execution.
        self._reached: set[tuple[int, tuple[int, int], int]] = set()
        self._stored: dict[int, set[int]] = {}

    def _walk_value(self, n: int, thread: int) -> int:
        """The walk's value (the generator's ``% n``), remembered."""
        value = self._data.next_u64() % n
        if thread in self._inside:
            self._inside.discard(thread)
            self._drawn[thread] = []
        self._drawn.setdefault(thread, []).append((n, value))
        return value

    def _fold(self) -> None:
        """Add the execution just walked to :attr:`scores`."""
        stored, scores = self._stored, self.scores
        for addr, draw, tid in sorted(self._reached):
            if any(t != tid for t in stored.get(addr, ())):
                scores[draw] = scores.get(draw, 0) + 1
        self._drawn, self._inside, self._reached, self._stored = {}, set(), set(), {}

    def new_execution(self, index: int) -> bool:
        """Walk execution @index; the one before is folded in."""
        self._fold()
        return super().new_execution(index)

    def _access(self, choice: int, pending: Any, *, inside: bool) -> None:
        """:class:`ConflictCounter`'s collection, and the access recorded
        for the draws' scores."""
        super()._access(choice, pending, inside=inside)
        if pending.store:
            self._stored.setdefault(pending.addr, set()).add(choice)
        if inside:
            self._inside.add(choice)
            for draw in self._drawn.get(choice, ()):
                self._reached.add((pending.addr, draw, choice))

    @property
    def data(self) -> str:
        """``data`` from the executions walked (the last one folded in)."""
        self._fold()
        return data_text(self.scores)

