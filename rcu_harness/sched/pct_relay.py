"""The ``pct-relay`` strategy: a pct-site stall, then two hand-overs led by a conflict.

``pct-site`` (:mod:`rcu_harness.sched.pct_site`) stops one thread once, at
the first visit of a drawn site.  ``vma-start-read-skips-seq-recheck``
needs the stop handed back and forth: the fault stopped between its load
of ``vm_lock_seq`` and its ``down_read_trylock()`` while the writer runs
``vma_start_write()`` on that VMA; the writer stopped right after, inside
its write section, while the fault takes the read lock; the fault stopped
holding it while the writer stores to the VMA (fault, writer, fault,
writer: docs/search.md, *pct-site*).  PCT's discipline cannot hand the
stop back (docs/search.md, *Aiming the stall at the pending access*) and
two or three stalls drawn independently dilute each other (BENCHMARKS,
*pct-site*), so ``random-sync`` was the only member finding it (2.4% of
its executions).

``pct-relay`` makes the second and third stops follow from the first
instead of drawing them:

1. **The stall** is pct-site's: PCT priorities, and the first visit of
   the ``j``-th distinct site, ``j`` drawn uniformly from ``1..sites``,
   drops the thread about to make it (the *stalled* thread) below every
   other.  What it has *checked* is kept: the fields (object and word) it
   loaded since its last store, lock operation or read-modify-write (a
   check-then-act's check: the fault's ``vm_lock_seq`` and ``vm_mm``).
2. **The relay**: the first other thread that stores to a checked field
   (the writer's ``vm_lock_seq`` store in ``vma_start_write()``) drops
   below every thread at its next decision of the kind ``points`` names
   after that store (after ``up_write()``: a lock operation is not a
   field), so the stalled thread, now above it, runs on with its check
   stale.
3. **The return**: the stalled thread, resumed, acts on its stale check
   (its first store, lock operation or read-modify-write after the relay:
   the fault's ``down_read_trylock()``) and drops below every thread again
   at its ``h``-th decision of the kind after that, ``h`` drawn uniformly
   from ``1..hold``; the relay thread resumes while the stalled one is
   still inside (the fault holding the read lock while the writer edits
   the VMA).

Without a conflicting store the execution stays pct-site's after the
stall.  Priorities are PCT's throughout (random and distinct per thread,
drawn from the execution's generator, a new thread at a random position, a
yielding thread lowest); after the return the strategy is PCT without a
change point left and offers PCT's keeper (``keep`` all), before it 0.
``sites`` is calibrated as pct-site's (:class:`~rcu_harness.sched.
pct_site.SiteCounter`) or given; ``hold`` defaults to 4.  Below 2 sites (a
program without VMA or mm fields) there is nothing to check or relay: with
``fallback_steps`` (calibrated as pct-site's) an execution is pct-site's
fallback: its one stall at a drawn sync decision, or with ``fallback=pct``
PCT's own execution (``aimed-pct``'s turns).  Execution ``i`` draws
from ``derive(seed, i)`` alone.  ``reads=oldest``: under a weak memory
model every load with a choice reads the oldest store the model allows
(:mod:`rcu_harness.sched.reads`; uniform by default).  ``stall_in=rcu``:
the stall is drawn among the sites of threads inside an RCU read-side
section (pct-site's *Readers' sites*); ``rcu-or-any``, resolved by
calibration as pct-site's.


**Conflict aim** (``aim=conflict``; ``site`` the default): on
``vma-start-read-skips-seq-recheck`` only a stall at the mm's
``sequence`` finds (the fault has checked ``vm_lock_seq``; 22 of 38
executions that stall a fault there, none of 262 that stall at its 5 other
readers' sites, seed 0).  With ``aim=conflict`` the stall is drawn among
the *conflicting fields* (``conflicts``, calibrated): the readers' fields
that, in the calibration walks (executions 0 to 15 of the random walk,
:data:`~rcu_harness.sched.pct_site.CONFLICT_WALKS`), another thread stored
to in an object a reader inside its RCU read-side section had accessed in
that section (the writer's ``sequence`` and ``vm_lock_seq`` stores under a
fault that holds the VMA and mm), the ``j``-th of them reached, ``j``
uniform over their number, as POS and Morpheus aim at conflicting
accesses; without any, among the sites.  Measured against readers' sites
(seeds 0 and 1, 500 executions each; reports/BENCHMARKS.md, *pct-site's
conflict aim*): seq-recheck 8.0 and 8.2% to 25.6 and 15.4%,
``vma-start-read-refcount-relaxed`` 20.0 and 26.0% to 31.4 and 37.4%,
``vma-reuse-skips-mm-check`` 3.0 and 4.4% to 4.8 and 6.4%,
``fault-skips-detached-check`` 26.6 and 27.2% to 26.2 and 31.6%;
``vma-freed-without-rcu`` 24.8 and 25.6% to 23.4 and 17.8% (worse on seed
1: its conflicting fields are ``detached`` and ``sequence`` alone there);
``fault-skips-vma-recheck`` and ``vma-used-after-rcu-unlock`` unchanged
(no conflict seen; every thread's sites); ``maps-skips-gap-check`` 0 in
both.  Fewer walks find fewer conflicts (seq-recheck, seed 1: none in 1,
2 or 4 walks, so readers' sites; 16 walks 28.3% and 32 walks 16.0% in 300
executions with one walk per seed of its own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.sched.pct import KEEP_ALL
from rcu_harness.sched.pct_site import NO_ACCESS, PctSiteStrategy

if TYPE_CHECKING:
    from collections.abc import Sequence

STALL, RELAY, RETURN, DONE = range(4)
"""The phases of an execution: before the stall, waiting for a store to
what the stalled thread checked, the stalled thread running on until its
return, after it."""


class PctRelayStrategy(PctSiteStrategy):
    """pct-site's stall, handed to the thread that stores to what the
    stalled thread checked, then handed back."""

    name = "pct-relay"

    def __init__(self, seed: int = 0, *, sites: int = 0,
                 points: str = "field", hold: int = 4,
                 fallback_steps: int = 0, reads: str = "uniform",
                 fallback: str = "sync", stall_in: str = "any",
                 aim: str = "site", conflicts: str = "", data: str = "") -> None:
        if hold < 1:
            raise ValueError(f"pct-relay hold must be >= 1 (got {hold})")
        self.hold = hold
        super().__init__(seed, sites=sites, points=points,
                         fallback_steps=fallback_steps, reads=reads,
                         fallback=fallback, stall_in=stall_in, aim=aim, data=data)
        self._words = self._aimed(conflicts, "conflicts")
        """The conflicting fields the stall is drawn among (``aim=conflict``;
        empty: among the sites)."""
        # Invariant: tid -> the (addr, word) it loaded since its last store
        # (fields only), until the stall; then the stalled thread's alone.
        self._loads: dict[int, set[tuple[int, str]]] = {}
        self._phase = STALL
        self._stalled = -1
        self._relay = -1
        """The thread whose store met the stalled thread's check (-1: none)."""
        self._acted = False
        """Has the stalled thread, resumed, made its store (or lock operation
        or read-modify-write)?"""

    def new_execution(self, index: int) -> bool:
        """Draw the stall's site for execution @index; no relay yet."""
        super().new_execution(index)
        self._loads = {}
        self._phase = STALL
        self._stalled = self._relay = -1
        self._acted = False
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """PCT's choice, with the stall, the relay and the return."""
        if not self._known.issuperset(runnable):
            self._see(runnable)
        if yielding and current is not None:
            self._lower(current, lowest=True)
        choice = self._highest(runnable)
        phase = self._phase
        if phase == DONE:
            return choice
        threads = self._threads
        pending = threads[choice].pending if choice < len(threads) else None
        counted = (self._at_none if pending is None else not pending.maple and (
            self._at_locks or pending.word != "lock"))
        if phase == STALL:
            if counted and (not self._rcu_only or (
                    choice < len(threads) and threads[choice].rcu_nesting)) and (
                    not self._words or (pending is not None
                                        and pending.word in self._words)):
                site = NO_ACCESS if pending is None else pending.word
                if site not in self._visited:
                    self._visited.add(site)
                    self._left -= 1
                    if not self._left:
                        self._stalled = choice
                        self._loads = {choice: self._loads.get(choice, set())}
                        self._phase = RELAY
                        return self._drop(choice, runnable)
            if pending is not None and not pending.maple:
                if pending.store:
                    self._loads[choice] = set()
                else:
                    self._loads.setdefault(choice, set()).add(
                        (pending.addr, pending.word))
        elif phase == RELAY:
            if choice == self._relay:
                if counted:
                    self._phase = RETURN
                    self._left = self._rng.randint(1, self.hold)
                    self._acted = False
                    return self._drop(choice, runnable)
            elif (choice != self._stalled and pending is not None
                  and pending.store and not pending.maple
                  and (pending.addr, pending.word) in self._loads[self._stalled]):
                self._relay = choice
        elif choice == self._stalled:  # RETURN
            if not self._acted:  # its act on the stale check comes first
                self._acted = bool(pending is not None and pending.store
                                   and not pending.maple)
            elif counted:
                self._left -= 1
                if not self._left:
                    self._phase = DONE
                    self.keep = KEEP_ALL
                    return self._drop(choice, runnable)
        return choice

    def _drop(self, tid: int, runnable: Sequence[int]) -> int:
        """Drop @tid below every thread; the highest runnable then."""
        self._lower(tid, lowest=True)
        return self._highest(runnable)
