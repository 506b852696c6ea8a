"""OS-thread mode: the same programs on ``threading.Thread``, the baseline.

What a user would try without this harness: run the model's threads as
plain Python OS threads and let the operating system and the GIL interleave
them, with the switch interval at its minimum (``sys.setswitchinterval(1e-6)``
for the run, restored after).  Everything else is the harness's: the same
``setup(h)`` program and :class:`~rcu_harness.runner.harness.Harness` API,
the same maple model and instrumented memory port (poison checks on every
node access, lockdep-RCU, death and free records), the same RCU model (the
``rcu_gp`` thread is an OS thread that really waits for the readers inside
a read-side section when its grace period started), the same sync
primitives (their waits block the OS thread on a ``threading.Condition``)
and the same checkers and findings.

How it is built: the engine's :class:`~rcu_harness.runtime.execution.Execution`
with a :class:`ThreadDriver`, which supplies every thread-switching
operation (the execution's driver seam), the lock of its ``atomic``
sections and the heap's locked bookkeeping; :class:`OsThreadExecution`
only makes the current-thread fields per OS thread.  What differs from a
greenlet execution:

* a scheduling point decides nothing: it counts, checks the step bound and
  whether the execution is over (then it raises :class:`ThreadAbort`, so
  every thread unwinds from its next point); ``schedule()`` releases the
  GIL (``time.sleep(0)``), as ``sched_yield()`` would;
* threads preempt each other wherever the GIL switches, between bytecodes,
  not only at scheduling points.  The harness's own check-then-act sections
  (lock owner tests, reference counts, grace-period bookkeeping, heap
  records, checker hooks) run under one re-entrant lock, ``ex.atomic``,
  so the harness never reports a race of its own; model code never takes
  it;
* ``ex.cur``, ``ex.cur_tid`` and ``ex.quiet`` are per OS thread, and
  ``ex.step`` is a global tick counter that every point and every read of
  it advances (monotonic, so the result checker's step stamps stay
  ordered);
* a run lasts a fixed wall time and repeats whole executions until a
  finding or the time is up (:func:`run_threaded`).  An execution that
  makes no progress is a deadlock finding once every unfinished thread has
  stayed blocked for ``deadlock_after`` seconds, and a livelock finding
  after ``timeout`` seconds or ``max_steps`` points; a finding stops the
  execution, the others' threads unwind, and every join has a timeout
  (threads are daemons as the last resort; a thread that still does not
  stop ends the run, and the result counts it).

Not modelled, on purpose: determinism (the OS decides every interleaving,
so two runs differ), replay (a finding says "not replayable: OS-thread
run"; it has no schedule, no seed that reproduces it and no interleaving
excerpt), and exact step counts (steps are approximate: ticks of a shared
counter).  No strategy is involved; ``h.random()`` draws from a generator
seeded per execution, which does not make the run repeatable.
"""

from __future__ import annotations

import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.observer import HOOK_NAMES
from rcu_harness.errors import HarnessError
from rcu_harness.memory.heap import Heap
from rcu_harness.rcu.state import RcuState
from rcu_harness.runner.harness import Harness
from rcu_harness.runner.run import hooks_for
from rcu_harness.runner.thread_driver import (
    DEADLOCK_AFTER,
    EXECUTION_TIMEOUT,
    ThreadAbort,
    ThreadDriver,
)
from rcu_harness.runtime.execution import Execution
from rcu_harness.runtime.finding import Finding, signature
from rcu_harness.sched.seeds import derive

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from contextlib import AbstractContextManager

    from rcu_harness.checks.observer import Hooks, Observer
    from rcu_harness.memory.records import AllocRecord
    from rcu_harness.runtime.thread import SimThread

__all__ = [
    "MIN_SWITCH_INTERVAL",
    "NOT_REPLAYABLE",
    "OsThreadExecution",
    "ThreadAbort",
    "ThreadDriver",
    "ThreadedResult",
    "run_threaded",
    "run_threaded_execution",
    "switch_interval",
]

MIN_SWITCH_INTERVAL = 1e-6
"""The smallest switch interval ``sys.setswitchinterval`` accepts (1 us)."""
NOT_REPLAYABLE = "not replayable: OS-thread run"
THREADED_MAX_STEPS = 2_000_000
"""Step bound per execution: 10x the greenlet default, since spin-waits
(``schedule()`` loops) tick freely while the OS runs someone else."""


class _OsRandom:
    """Stands in for a strategy: no decisions, only ``h.random()`` values."""

    def __init__(self, seed: int) -> None:
        self.execution_seed = seed
        self._rng = random.Random(seed)

    def new_execution(self, index: int) -> bool:
        """Always ready (never asked)."""
        return True

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """Never called: the OS decides."""
        raise HarnessError("no strategy decides under OS threads")

    def next_u64(self) -> int:
        """A random 64-bit value (getrandbits holds the GIL: thread-safe)."""
        return self._rng.getrandbits(64)


class _LockedHeap(Heap):
    """The simulated heap with its bookkeeping under the execution's lock."""

    def new_addr(self, size: int) -> int:
        """A fresh address, never handed out twice."""
        with self.ex.atomic:
            return super().new_addr(size)

    def static_addr(self) -> int:
        """A fresh static address."""
        with self.ex.atomic:
            return super().static_addr()

    def register(self, obj: Any, addr: int, size: int, type_name: str, *,
                 leak_checked: bool = True) -> AllocRecord:
        """Record an allocation."""
        with self.ex.atomic:
            return super().register(obj, addr, size, type_name,
                                    leak_checked=leak_checked)

    def free(self, obj: Any, *, typesafe: bool = False) -> None:
        """kfree(), with the double-free test atomic."""
        with self.ex.atomic:
            super().free(obj, typesafe=typesafe)

    def reuse(self, rec: AllocRecord) -> None:
        """A SLAB_TYPESAFE_BY_RCU object handed out again."""
        with self.ex.atomic:
            super().reuse(rec)

    def on_call_rcu(self, obj: Any) -> None:
        """call_rcu() bookkeeping."""
        with self.ex.atomic:
            super().on_call_rcu(obj)

    def mark_dead(self, rec: AllocRecord) -> None:
        """Death record."""
        with self.ex.atomic:
            super().mark_dead(rec)

    def revive(self, rec: AllocRecord) -> None:
        """Reuse of a dead object."""
        with self.ex.atomic:
            super().revive(rec)


def _serialised(hooks: Hooks, lock: AbstractContextManager[Any]) -> Hooks:
    """@hooks with every observer call made under @lock."""

    def locked(fn: Callable[..., None]) -> Callable[..., None]:
        def call(*args: Any) -> None:
            with lock:
                fn(*args)

        return call

    for name in HOOK_NAMES:
        setattr(hooks, name, tuple(locked(fn) for fn in getattr(hooks, name)))
    return hooks


class OsThreadExecution(Execution):
    """An execution whose current-thread fields are per OS thread.

    Only the fields: ``cur``, ``cur_tid`` and ``quiet`` live in a
    ``threading.local``, and ``step`` is a global tick counter that every
    point and every read advances (monotonic, so the result checker's step
    stamps stay ordered across OS threads).  Every operation that switches,
    blocks, wakes or stops threads is the :class:`ThreadDriver`'s.
    """

    def __init__(self, index: int, *, seed: int, max_steps: int, hooks: Hooks,
                 driver: ThreadDriver) -> None:
        self._local = driver.local
        self._ticks = driver.ticks
        super().__init__(index, _OsRandom(seed), max_steps=max_steps,
                         hooks=_serialised(hooks, driver.atomic), rcu=RcuState,
                         heap=_LockedHeap, record=0, driver=driver)

    @property
    def cur(self) -> SimThread:
        """The simulated thread this OS thread runs."""
        return self._local.cur

    @cur.setter
    def cur(self, t: SimThread) -> None:
        self._local.cur = t

    @property
    def cur_tid(self) -> int:
        """Its id."""
        return self._local.cur_tid

    @cur_tid.setter
    def cur_tid(self, tid: int) -> None:
        self._local.cur_tid = tid

    @property
    def quiet(self) -> int:
        """> 0 while this OS thread's accesses are unobserved."""
        return self._local.quiet

    @quiet.setter
    def quiet(self, n: int) -> None:
        self._local.quiet = n

    @property
    def step(self) -> int:
        """A fresh tick of the global counter (monotonic; reads advance it)."""
        return next(self._ticks)

    @step.setter
    def step(self, _value: int) -> None:
        """Ignored: ``ex.step = ex.step + 1`` already ticked in the read."""


@contextmanager
def switch_interval(seconds: float = MIN_SWITCH_INTERVAL) -> Iterator[None]:
    """Run a block with ``sys.setswitchinterval(@seconds)``; restore it after."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threaded_execution(program: Callable[[Harness], None], index: int, *,
                           seed: int = 0, max_steps: int = THREADED_MAX_STEPS,
                           checkers: Sequence[Callable[[], Observer]] | None = None,
                           timeout: float = EXECUTION_TIMEOUT,
                           deadlock_after: float = DEADLOCK_AFTER
                           ) -> tuple[OsThreadExecution, ThreadDriver]:
    """Run execution @index of @program once on OS threads.

    The caller sets the switch interval (:func:`switch_interval`).
    """
    driver = ThreadDriver(timeout=timeout, deadlock_after=deadlock_after)
    ex = OsThreadExecution(index, seed=derive(seed, index, "threaded"),
                           max_steps=max_steps, hooks=hooks_for(checkers),
                           driver=driver)
    ex.run(program, Harness(ex))
    return ex, driver


@dataclass(frozen=True, slots=True)
class ThreadedResult:
    """What an OS-thread run found in its wall time."""

    findings: tuple[Finding, ...]
    """Distinct findings (by signature), in the order found."""
    executions: int
    steps: int
    """Approximate: ticks of each execution's counter, summed."""
    counters: dict[str, int]
    wall_time: float
    first_finding_after: float | None
    """Seconds from the start of the run to the end of the first failing
    execution (None: nothing found)."""
    abandoned: int
    """Threads that did not unwind (the run stopped early if not 0)."""

    @property
    def ok(self) -> bool:
        """No findings."""
        return not self.findings


def _finding(ex: OsThreadExecution, seed: int, after: float) -> Finding:
    v = ex.violation
    assert v is not None
    report = "\n".join([
        v.body, "",
        f"Execution {ex.index} of an OS-thread run ({after:.2f} s into it), "
        f"about {ex.step} scheduling points (approximate).", NOT_REPLAYABLE])
    return Finding(kind=str(v.kind), signature=signature(str(v.kind), v.key),
                   message=v.message, report=report, thread=v.thread,
                   step=v.step, execution=ex.index, seed=seed, schedule="",
                   replay_command=NOT_REPLAYABLE, addr=v.addr,
                   lifecycle=v.lifecycle,
                   threads=tuple(t.label for t in ex.threads))


def run_threaded(program: Callable[[Harness], None], *, duration: float,
                 seed: int = 0, stop_on_first: bool = True,
                 max_executions: int | None = None,
                 max_steps: int = THREADED_MAX_STEPS,
                 checkers: Sequence[Callable[[], Observer]] | None = None,
                 timeout: float = EXECUTION_TIMEOUT,
                 deadlock_after: float = DEADLOCK_AFTER) -> ThreadedResult:
    """Repeat whole executions of @program on OS threads for @duration seconds.

    Stops at the first finding (unless @stop_on_first is False), after
    @max_executions, or when the time is up (the execution running then
    completes).  The switch interval is at its minimum for the run and
    restored after.  Apply a mutant's patches around the call
    (``with applied(cfg.mutant): ...``).
    """
    findings: list[Finding] = []
    seen: set[str] = set()
    counters: dict[str, int] = {}
    steps = ran = abandoned = 0
    first: float | None = None
    start = time.perf_counter()
    with switch_interval():
        while time.perf_counter() - start < duration and (
                max_executions is None or ran < max_executions):
            ex, driver = run_threaded_execution(program, ran, seed=seed,
                                                max_steps=max_steps,
                                                checkers=checkers, timeout=timeout,
                                                deadlock_after=deadlock_after)
            ran += 1
            steps += ex.step
            abandoned += driver.abandoned
            for key, n in ex.counters.items():
                counters[key] = counters.get(key, 0) + n
            if ex.violation is not None:
                after = time.perf_counter() - start
                first = after if first is None else first
                finding = _finding(ex, seed, after)
                if finding.signature not in seen:
                    seen.add(finding.signature)
                    findings.append(finding)
                if stop_on_first:
                    break
            if abandoned:
                break
    return ThreadedResult(tuple(findings), ran, steps, counters,
                          time.perf_counter() - start, first, abandoned)
