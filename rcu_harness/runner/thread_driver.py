"""The OS-thread driver: an execution's simulated threads on ``threading.Thread``.

:class:`ThreadDriver` supplies every thread-switching operation of the
engine (:data:`~rcu_harness.runtime.execution.SWITCHING`) for the OS-thread
mode (:mod:`rcu_harness.runner.threaded`, which says what the mode does and
does not model): a scheduling point decides nothing (it counts, checks the
step bound and stops the thread once the execution is over, raising
:class:`ThreadAbort`), blocking waits on one condition, and the execution is
driven by starting the OS threads and watching for the end, a deadlock or a
hang.  It also holds what is per OS thread (the current simulated thread,
the quiet depth) and the global tick counter.
"""

from __future__ import annotations

import bisect
import itertools
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from rcu_harness.errors import HarnessError, HarnessUsageError
from rcu_harness.runtime.callchain import CallChain, capture
from rcu_harness.runtime.exceptions import exception_violation
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.runtime.liveness import deadlock_violation
from rcu_harness.runtime.thread import Phase, SimThread, ThreadState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from types import FrameType

    from rcu_harness.runtime.execution import Execution

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


def _chain_of(frame: FrameType | None) -> CallChain:
    out = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return CallChain(tuple(out))


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
        self.local = _Local()
        """The current simulated thread of each OS thread."""
        self.ticks = itertools.count(1)
        """The global tick counter: scheduling points and step stamps."""
        self._ex: Execution | None = None

    def attach(self, ex: Execution) -> None:
        """Drive @ex."""
        self._ex = ex

    @property
    def ex(self) -> Execution:
        """The execution driven."""
        assert self._ex is not None
        return self._ex

    # -- scheduling points decide nothing -------------------------------------
    def point(self) -> None:
        """Count; stop here if the execution is over."""
        ex = self.ex
        if self.local.quiet:
            return
        if next(self.ticks) > ex.max_steps:
            ex.livelock()
        if self._halt:
            raise ThreadAbort

    def decide(self) -> None:
        """Nothing to decide: stop here if the execution is over."""
        if self._halt:
            raise ThreadAbort

    def yield_point(self) -> None:
        """schedule(): a point that also releases the GIL."""
        if self.local.quiet:
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
        local = self.local
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
        if ex.phase is not Phase.RUN or self.local.quiet:
            raise HarnessUsageError(f"cannot block ({reason}) outside a thread")
        t = self.local.cur
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
                         key=tuple(where), thread=self.local.cur.label,
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
