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

import bisect
import itertools
import random
import sys
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.observer import HOOK_NAMES
from rcu_harness.errors import HarnessError, HarnessUsageError
from rcu_harness.memory.heap import Heap
from rcu_harness.rcu.state import RcuState
from rcu_harness.runner.harness import Harness
from rcu_harness.runner.run import hooks_for
from rcu_harness.runtime.callchain import CallChain, capture
from rcu_harness.runtime.exceptions import exception_violation
from rcu_harness.runtime.execution import Execution
from rcu_harness.runtime.finding import Finding, FindingKind, Violation, signature
from rcu_harness.runtime.liveness import deadlock_violation
from rcu_harness.runtime.thread import Phase, SimThread, ThreadState
from rcu_harness.sched.seeds import derive

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import FrameType

    from rcu_harness.checks.observer import Hooks, Observer
    from rcu_harness.memory.records import AllocRecord

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
EXECUTION_TIMEOUT = 10.0
"""Seconds after which an unfinished execution is a livelock finding."""
DEADLOCK_AFTER = 0.25
"""Seconds every unfinished thread must stay blocked to be a deadlock."""
JOIN_TIMEOUT = 2.0
"""Seconds to wait for the threads of a finished execution to unwind."""
_POLL = 0.05


class ThreadAbort(BaseException):
    """Raised at a thread's next scheduling point once its execution is over.

    A ``BaseException``, like ``GreenletExit``: model code that catches
    ``Exception`` does not swallow it.
    """


_NOBODY = SimThread(-3, "(not a simulated thread)")


class _Local(threading.local):
    """The per-OS-thread part of an execution (the current simulated thread)."""

    cur: SimThread = _NOBODY
    cur_tid: int = -3
    quiet: int = 0


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

    def free(self, obj: Any) -> None:
        """kfree(), with the double-free test atomic."""
        with self.ex.atomic:
            super().free(obj)

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


def _chain_of(frame: FrameType | None) -> CallChain:
    out = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return CallChain(tuple(out))


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
        self._local = _Local()
        self._ticks = itertools.count(1)
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


class ThreadDriver:
    """Carries an execution's simulated threads on OS threads.

    Provides every operation of
    :data:`~rcu_harness.runtime.execution.SWITCHING`: a scheduling point
    decides nothing (it counts and stops the thread once the execution is
    over), blocking waits on a condition, the execution is driven by
    starting the OS threads and watching for the end, a deadlock or a hang.
    """

    def __init__(self, *, timeout: float = EXECUTION_TIMEOUT,
                 deadlock_after: float = DEADLOCK_AFTER) -> None:
        lock = threading.RLock()
        self.atomic: AbstractContextManager[Any] = lock
        self._cond = threading.Condition(lock)
        self._permits: set[int] = set()
        """Threads woken before they blocked: their next block returns."""
        self._os: dict[int, threading.Thread] = {}
        self._go = threading.Event()
        self._halt = False
        """The execution is over: every thread unwinds at its next point."""
        self._changes = 0
        """Thread state changes so far (progress, for deadlock detection)."""
        self._main_os = threading.current_thread()
        self.timeout = timeout
        self.deadlock_after = deadlock_after
        self.abandoned = 0
        """Threads that did not unwind within the join timeout."""
        self._ex: OsThreadExecution | None = None

    def attach(self, ex: Execution) -> None:
        """Drive @ex (an :class:`OsThreadExecution`)."""
        assert isinstance(ex, OsThreadExecution)
        self._ex = ex

    @property
    def ex(self) -> OsThreadExecution:
        """The execution driven."""
        assert self._ex is not None
        return self._ex

    # -- scheduling points decide nothing -------------------------------------
    def point(self) -> None:
        """Count; stop here if the execution is over."""
        ex = self.ex
        if ex._local.quiet:
            return
        if next(ex._ticks) > ex.max_steps:
            ex.livelock()
        if self._halt:
            raise ThreadAbort

    def decide(self) -> None:
        """Nothing to decide: stop here if the execution is over."""
        if self._halt:
            raise ThreadAbort

    def yield_point(self) -> None:
        """schedule(): a point that also releases the GIL."""
        if self.ex._local.quiet:
            return
        self.point()
        time.sleep(0)

    def next_u64(self) -> int:
        """A random value (not recorded: nothing replays)."""
        return self.ex.strategy.next_u64()

    def count(self, name: str, n: int = 1) -> None:
        """Add @n to a benign counter (under the lock: no lost updates)."""
        ex = self.ex
        with self.atomic:
            ex.counters[name] = ex.counters.get(name, 0) + n
            mine = ex.cur.counters
            mine[name] = mine.get(name, 0) + n

    # -- threads ---------------------------------------------------------------
    def spawn(self, name: str, fn: Callable[..., object], args: Sequence[object],
              *, state: ThreadState = ThreadState.RUNNABLE) -> SimThread:
        """Create a simulated thread backed by a (not yet started) OS thread."""
        ex = self.ex
        with self.atomic:
            t = SimThread(len(ex.threads), name)
            t.state = state
            ex.threads.append(t)
            if state is ThreadState.RUNNABLE:
                bisect.insort(ex.runnable, t.tid)
            os_thread = threading.Thread(target=self._os_body, args=(t, fn, args),
                                         name=f"sim-{t.label}", daemon=True)
            self._os[t.tid] = os_thread
        if ex.phase is Phase.RUN:
            os_thread.start()
        return t

    def _os_body(self, t: SimThread, fn: Callable[..., object],
                 args: Sequence[object]) -> None:
        local = self.ex._local
        local.cur, local.cur_tid, local.quiet = t, t.tid, 0
        try:
            self._go.wait()
            if not self._halt:
                self._run_thread(t, fn, args)
        except ThreadAbort:
            pass
        finally:
            self._finished(t)

    def _run_thread(self, t: SimThread, fn: Callable[..., object],
                    args: Sequence[object]) -> None:
        ex = self.ex
        try:
            fn(*args)
        except ThreadAbort:
            raise
        except HarnessError as exc:
            self._harness_error(exc)
            return
        except BaseException as exc:  # a finding, never a harness crash
            if not self._halt:
                self.fail(exception_violation(ex, t, exc))
            return
        with self.atomic:
            ex._thread_exit(t)

    def _finished(self, t: SimThread) -> None:
        ex = self.ex
        with self._cond:
            t.state = ThreadState.FINISHED
            if t.tid in ex.runnable:
                ex.runnable.remove(t.tid)
            self._changes += 1
            self._cond.notify_all()

    def _harness_error(self, exc: HarnessError) -> None:
        with self._cond:
            if self.ex.error is None:
                self.ex.error = exc
            self._halt = True
            self._cond.notify_all()

    def block(self, reason: str, state: ThreadState = ThreadState.BLOCKED) -> None:
        """Wait on the execution's condition until woken (or the end)."""
        ex = self.ex
        if ex.phase is not Phase.RUN or ex._local.quiet:
            raise HarnessUsageError(f"cannot block ({reason}) outside a thread")
        t = ex._local.cur
        with self._cond:
            if self._halt:
                raise ThreadAbort
            if t.tid in self._permits:
                self._permits.discard(t.tid)
                return
            t.state = state
            t.wait_reason = reason
            if t.tid in ex.runnable:
                ex.runnable.remove(t.tid)
            self._changes += 1
            self._cond.notify_all()
            while t.state is not ThreadState.RUNNABLE and not self._halt:
                self._cond.wait(_POLL)
            if self._halt:
                raise ThreadAbort

    def wake(self, t: SimThread) -> None:
        """Make @t runnable; a wake that comes before its block is kept."""
        with self._cond:
            if self._halt or t.state is ThreadState.FINISHED:
                return
            if t.state is ThreadState.RUNNABLE:
                self._permits.add(t.tid)
                return
            t.state = ThreadState.RUNNABLE
            t.wait_reason = ""
            bisect.insort(self.ex.runnable, t.tid)
            self._changes += 1
            self._cond.notify_all()

    # -- findings ---------------------------------------------------------------
    def fail(self, v: Violation) -> None:
        """Report @v (the first one wins); a simulated thread then unwinds."""
        ex = self.ex
        with self._cond:
            if ex.violation is None and ex.error is None:
                ex.violation = v
            self._halt = True
            self._cond.notify_all()
        if threading.current_thread() is not self._main_os:
            raise ThreadAbort

    def livelock(self) -> None:
        """The step bound was exceeded."""
        ex = self.ex
        ex.max_steps = 1 << 62
        self.fail(self._stalled(
            f"WARNING: livelock: more than {ex.step_bound} scheduling points",
            f"step bound {ex.step_bound} exceeded"))

    def _stalled(self, headline: str, what: str) -> Violation:
        """Where every unfinished thread is, from its OS thread's frames."""
        ex = self.ex
        frames = sys._current_frames()
        me = threading.current_thread()
        lines, where = [headline, "", "where each unfinished task is:"], []
        for t in ex.threads:
            if t.state in (ThreadState.FINISHED, ThreadState.IDLE):
                continue
            os_thread = self._os.get(t.tid)
            if os_thread is me:
                top = capture(1).top()
            else:
                ident = os_thread.ident if os_thread is not None else None
                top = _chain_of(frames.get(ident or -1)).top()
            where.append(f"{t.name}:{top}")
            lines.append(f"  task {t.label} [{t.state.value}] in {top}"
                         + (f" waiting for {t.wait_reason}" if t.wait_reason else ""))
        return Violation(FindingKind.LIVELOCK, f"livelock: {what} by "
                         + (", ".join(where) or "nobody"), "\n".join(lines),
                         key=tuple(where), thread=ex._local.cur.label,
                         step=ex.step)

    # -- driving --------------------------------------------------------------------
    def drive(self) -> None:
        """The OS threads until they finish or a finding."""
        self._run_threads()
        self._stop_threads()

    def release(self) -> None:
        """Whatever happened: stop and join every OS thread."""
        self._stop_threads()

    def _run_threads(self) -> None:
        """Start every thread; watch for the end, a deadlock or a hang."""
        ex = self.ex
        for os_thread in list(self._os.values()):
            os_thread.start()
        self._go.set()
        deadline = time.monotonic() + self.timeout
        stuck: tuple[int, float] | None = None
        with self._cond:
            while ex.violation is None and ex.error is None:
                if self._quiescent():
                    return
                stuck = self._deadlock_watch(stuck)
                if time.monotonic() > deadline:
                    self.fail(self._stalled(
                        f"WARNING: livelock: execution still running after "
                        f"{self.timeout:g} s", f"no end within {self.timeout:g} s"))
                    return
                self._cond.wait(_POLL)

    def _quiescent(self) -> bool:
        """Every thread but rcu_gp finished, and rcu_gp idles with no work."""
        ex = self.ex
        gp = ex.rcu.gp_thread
        return all(t.state is ThreadState.FINISHED for t in ex.threads[1:]) \
            and gp.state is not ThreadState.RUNNABLE and not ex.rcu.has_work() \
            and not ex.rcu.waiting

    def _deadlock_watch(self, stuck: tuple[int, float] | None
                        ) -> tuple[int, float] | None:
        """Report a deadlock that lasted ``deadlock_after`` s without a change."""
        ex = self.ex
        live = [t for t in ex.threads if t.state is not ThreadState.FINISHED]
        if any(t.state is ThreadState.RUNNABLE for t in live) or not any(
                t.state is ThreadState.BLOCKED for t in live):
            return None
        now = time.monotonic()
        if stuck is None or stuck[0] != self._changes:
            return (self._changes, now)
        if now - stuck[1] >= self.deadlock_after:
            self.fail(deadlock_violation(ex))
        return stuck

    def _stop_threads(self) -> None:
        """Halt every thread and join it (with timeouts)."""
        with self._cond:
            self._halt = True
            self._cond.notify_all()
        self._go.set()
        end = time.monotonic() + JOIN_TIMEOUT
        for os_thread in self._os.values():
            if os_thread.ident is not None:
                os_thread.join(max(0.0, end - time.monotonic()))
        self.abandoned = sum(1 for th in self._os.values() if th.is_alive())


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
