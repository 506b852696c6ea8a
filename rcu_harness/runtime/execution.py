"""One execution: simulated threads, scheduling points, blocking, findings.

An :class:`Execution` runs a program once under one strategy decision
sequence.  The runner's greenlet (``main``) runs the program's setup, then
hands control to simulated threads; threads switch *directly* to each other
at scheduling points (no trip through ``main``), and come back to ``main``
only when they finish, when nothing is runnable, or on a finding.

The hot path is :meth:`Execution.point`: bump the step counter, test the
step bound, and, only if more than one thread is runnable, ask the
strategy.  When the strategy keeps the current thread nothing else happens:
no switch, just a call.  Callers record what they did as a plain tuple in
``events`` after the point returns (the access happens atomically when the
thread runs again).  A strategy whose answer is known without the call
(:class:`~rcu_harness.sched.protocol.Keeping`: ``pct`` keeps the current
thread until its next change point or a change of the runnable set;
:class:`~rcu_harness.sched.protocol.Uniform`: ``random``'s draw) gets its
own versions of the point, the decision and the yield point, installed on
the execution at construction, that make the same decisions without
asking; every other strategy's hot path is the one above.

Liveness and fairness.  Retry loops (a reader restarting on a dead node, a
``schedule()`` wait) are *yield points*: the strategy is told the thread
spins, and every strategy then runs another thread first (CHESS's fair
stateless model checking; shuttle's and loom's yield hints), so a spinner
cannot starve the thread it waits for.  When an execution still reaches its
step bound ``max_steps``, the strategy may simply have been unfair (PCT's
strict priorities can keep a writer off the CPU for a long time): the same
execution then continues under a fair round-robin (:func:`round_robin`) for
up to ``max_steps`` more points.  If every thread finishes, the benign
counter ``unfair_starvation`` counts it and nothing is reported; if the
continuation hits the bound too, it is a livelock finding.  The
continuation's thread choices follow from the state alone, so they are not
part of the schedule: a replay with the same step bound reaches the same
bound and continues the same way.  No runnable thread while some unfinished
thread is blocked is a deadlock (``rcu_gp`` idling with nothing to do does
not count).  A Python exception escaping a thread function is a finding,
never a crash of the harness; a ``KeyboardInterrupt`` (Ctrl-C, or a campaign
abandoning the execution) is not a finding: it ends the execution and is
re-raised from :meth:`Execution.run`.

On the first violation the execution aborts: ``main`` throws
``GreenletExit`` into every unfinished thread, with scheduling disabled so
that ``finally`` blocks in model code run to completion without switching.

Memory: every access is atomic at its scheduling point and, by default,
sequentially consistent.  Under a weak memory model
(:mod:`rcu_harness.memory.wmm`, ``--memory-model lkmm``) a load may read an older
store than the newest; which one is a decision of the strategy
(:meth:`Execution.read_choice`), recorded in the schedule like a thread
choice.  Not modelled: interrupts and time.

Collaborators are passed in, never imported: the RCU model and the heap
come as factories (``rcu=``, ``heap=``, called with the execution), the
checkers as :class:`~rcu_harness.checks.observer.Hooks`, the strategy as a
:class:`~rcu_harness.sched.protocol.Strategy`.  The runner
(:func:`rcu_harness.runner.run.run_execution`) wires the defaults.

The thread-switching seam: the operations named in :data:`SWITCHING`
(scheduling points, spawning, blocking, waking, failing, driving the
threads) are this class's greenlet implementations unless a :class:`Driver`
is passed in; then they are the driver's, bound once at construction, so
the greenlet hot path pays nothing for the seam.  :attr:`Execution.atomic`
is the context manager the RCU model and the sync primitives hold around a
check-then-act (test a lock's owner, then block or take it): never
contended here, since code between two scheduling points is atomic under
greenlets, and the driver's lock otherwise.  The OS-thread mode
(:mod:`rcu_harness.runner.threaded`) is such a driver.
"""

from __future__ import annotations

import bisect
from _thread import RLock
from typing import TYPE_CHECKING, Any, Protocol

from greenlet import GreenletExit, getcurrent, greenlet

from rcu_harness.errors import HarnessError, HarnessUsageError
from rcu_harness.runtime.current import SLOT
from rcu_harness.runtime.exceptions import exception_violation
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.runtime.liveness import deadlock_violation, livelock_violation
from rcu_harness.runtime.metrics import Metrics
from rcu_harness.runtime.thread import Phase, SimThread, ThreadState
from rcu_harness.sched.schedule import RANDOM, Schedule, read_code
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

    from rcu_harness.checks.observer import Hooks
    from rcu_harness.memory.access import AccessHook
    from rcu_harness.memory.heap import Heap
    from rcu_harness.memory.wmm.api import MemoryModel
    from rcu_harness.rcu.state import RcuState
    from rcu_harness.sched.protocol import Keeping, Strategy
    from rcu_harness.trace.events import RawEvent

_EXIT = EventKind.EXIT.value
_SPAWN = EventKind.SPAWN.value
_BLOCK = EventKind.BLOCK.value
_WAKE = EventKind.WAKE.value
# Members once: a look-up through the Enum class is slow (EnumType's
# attribute hook), and spawns, blocks, wakes and exits made several.
_RUN = Phase.RUN
_RUNNABLE = ThreadState.RUNNABLE
_BLOCKED = ThreadState.BLOCKED
_FINISHED = ThreadState.FINISHED


def round_robin(runnable: Sequence[int], current: int | None,
                yielding: bool = False) -> int:
    """The fair continuation's choice: the next runnable thread after
    @current in id order (cyclically), so every runnable thread runs within
    ``len(runnable)`` decisions."""
    if current is not None:
        for tid in runnable:
            if tid > current:
                return tid
    return runnable[0]


SWITCHING = ("point", "decide", "yield_point", "next_u64", "count", "spawn",
             "block", "wake", "fail", "livelock", "drive", "release")
"""The operations a :class:`Driver` replaces."""


class PendingOnly:
    """The access hook of a strategy that reads pending accesses
    (:class:`~rcu_harness.sched.protocol.Watching`): loads and stores pass
    unchanged; its presence alone makes the port set each thread's
    ``pending`` access before a scheduling point."""

    __slots__ = ()
    wants_pending = True
    passive = True
    last_read = None

    def load(self, ex: Execution, obj: Any, word: str, index: int,
             value: Any) -> Any:
        """@value: the last store (sequential consistency)."""
        return value

    def store(self, ex: Execution, obj: Any, word: str, index: int,
              value: Any) -> None:
        """Nothing: the port writes the word."""


PENDING_ONLY = PendingOnly()


class Driver(Protocol):
    """Carries an execution's simulated threads on something other than
    greenlets (OS threads): provides every operation of :data:`SWITCHING`,
    with the signatures of :class:`Execution`'s, and the lock the
    execution's :attr:`~Execution.atomic` sections take."""

    atomic: AbstractContextManager[Any]

    def attach(self, ex: Execution) -> None:
        """@ex is the execution this driver drives (called first)."""
        ...


class Execution:
    """The state of one run of a program.

    Its fields are slots: an execution has more than the 30 attributes
    CPython 3.11 keeps in a class's shared keys, so with a ``__dict__``
    every ``ex.x`` in the hot path read a dictionary (``LOAD_ATTR_WITH_HINT``)
    and every ``ex.point()`` looked the method up afresh (no
    ``LOAD_METHOD`` specialisation applies to an instance with a dictionary
    of its own).  The strategy's flavour of the scheduling points (asking,
    kept, a uniform draw) is three slots, ``point``, ``decide`` and
    ``yield_point``, holding bound methods: one class, so that every
    attribute site stays specialised for it (two classes chosen per
    execution made the sites of a ``mix`` campaign, whose executions
    alternate between pct's keeper and random's draw, miss every other
    execution: measured).  A :class:`Driver`'s execution (a subclass with
    a ``__dict__``) takes the driver's other operations as instance
    attributes.
    """

    __slots__ = (
        "_ask", "_keeper", "_keeps_none", "_next_thread", "_uniform", "aborting",
        "access_hook", "after_setup", "atomic", "context", "counters", "cur",
        "cur_tid", "decide", "decisions", "error", "events", "exit_fns", "fair",
        "heap", "hooks", "index", "kept", "lease", "main", "max_steps",
        "memory_model", "metrics", "phase", "point", "priming", "quiet", "rcu",
        "record", "runnable", "setup_thread", "step", "step_bound", "strategy",
        "threads", "values", "violation", "watch_lease", "yield_point",
    )

    def __init__(self, index: int, strategy: Strategy, *, max_steps: int,
                 hooks: Hooks, rcu: Callable[[Execution], RcuState],
                 heap: Callable[[Execution], Heap], record: int = 2,
                 driver: Driver | None = None) -> None:
        self.index = index
        self.strategy = strategy
        self._next_thread = strategy.next_thread
        self.max_steps = max_steps
        self.step_bound = max_steps
        self.fair = False
        """The step bound was reached: a fair round-robin continues (see the
        module docstring); its choices are not recorded as decisions."""
        self.hooks = hooks
        self.record = record
        """0: no events (exploration); 1: events; 2: events with the model
        function of each access (costly: materialises a frame per access)."""
        self.threads: list[SimThread] = []
        self.runnable: list[int] = []
        """Ids of runnable threads, ascending (what strategies see)."""
        self.step = 0
        self.events: list[RawEvent] = []
        self.decisions: list[int] = []
        """The schedule so far: chosen thread ids, RANDOM for random draws."""
        self.values: list[int] = []
        """The value of each random draw, when the strategy chose them
        (:class:`~rcu_harness.sched.protocol.ChoosesData`); else empty."""
        self.quiet = 0
        """> 0 while accesses are unobserved (setup, teardown, checkers)."""
        self.phase = Phase.SETUP
        self.violation: Violation | None = None
        self.error: BaseException | None = None
        """A harness error raised in a thread, re-raised by :meth:`run`."""
        self.aborting = False
        self.priming = False
        """The runner is starting a thread: stop it at its first decision."""
        self.counters: dict[str, int] = {}
        self.main: greenlet = getcurrent()
        self.setup_thread = SimThread(-1, "setup")
        self.cur: SimThread = self.setup_thread
        self.cur_tid = -1
        self.exit_fns: list[Callable[[], None]] = []
        self.after_setup: list[Callable[[], None]] = []
        """Called once setup returned, before the threads start (ports put
        what setup built in the view of observed memory)."""
        self.context: dict[str, Any] = {}
        """Free slots for ports and helpers that live per execution."""
        self.metrics = Metrics()
        """Latency spans and samples (see :mod:`rcu_harness.runtime.metrics`)."""
        self.access_hook: AccessHook | None = None
        """A memory model's or a strategy's view of every observed access
        (see :mod:`rcu_harness.memory.access`); set it before setup runs."""
        self.memory_model: MemoryModel | None = None
        """The weak memory model (None: sequential consistency), told of
        barriers and synchronisation (see :mod:`rcu_harness.memory.wmm`); set
        with :func:`rcu_harness.memory.wmm.install` before setup runs."""
        watch = getattr(strategy, "watch", None)
        if watch is not None and watch(self.threads):
            self.access_hook = PENDING_ONLY
        self.atomic: AbstractContextManager[Any] = RLock()
        """Held around a check-then-act on shared harness state.  Under
        greenlets every simulated thread runs on this one OS thread, so this
        re-entrant lock never blocks: it is a no-op whose enter and exit are
        C calls (``nullcontext``'s are Python calls, a few hundred per
        execution).  A driver (OS threads) brings its own lock, shared by
        its threads."""
        self.lease = 0
        """How many of the next decisions are the current thread without
        asking: what the strategy's keeper said, within the step bound;
        zeroed whenever the runnable set changes.  While it is positive,
        more than one thread is runnable, the current thread is past its
        first point and the step bound is not reached, so an accessor may
        make such a decision inline (``step``, ``lease``, ``kept``,
        ``decisions``: :meth:`_point_kept`'s first branch)."""
        self.kept = 0
        """Decisions made under a lease that the keeper was not told of."""
        self.watch_lease = 0
        """A watching strategy's lease: how many of the next decisions at
        the points it never decides at are the current thread without
        asking, granted instead of a lease, within the step bound, when the
        keeper's ``keep`` is 0 and it ``keeps_maple`` (its answer at a
        maple word, a node or tree word the current thread is about to
        load or store, is the current thread and changes nothing in it:
        the watching strategies that decide only at other points); zeroed
        with ``lease``.  A maple word's accessor consumes it, and
        :meth:`_point_kept` at a point without an access if the keeper
        ``keeps_none`` too; every other point asks.  Its decisions are not
        ``kept`` (the keeper does not count them)."""
        self._keeper: Keeping | None = None
        self._keeps_none = False
        self._uniform: Callable[[], float] | None = None
        self.point: Callable[[], None] = self._point_asking
        """A scheduling point: maybe let another thread run first (asking
        the strategy, or its keeper's lease, or its uniform draw inline)."""
        self.decide: Callable[[], None] = self._decide_asking
        """The decision of a point with several runnable threads."""
        self.yield_point: Callable[[], None] = self._yield_point_asking
        """A point where the current thread yields the CPU (every strategy
        runs another runnable thread first)."""
        if driver is not None:
            driver.attach(self)
            self.atomic = driver.atomic
            for name in SWITCHING:
                setattr(self, name, getattr(driver, name))
        else:
            self._keeper = getattr(strategy, "keeper", None)
            if self._keeper is not None:
                keeps_maple = bool(getattr(self._keeper, "keeps_maple", False))
                self._keeps_none = keeps_maple and bool(
                    getattr(self._keeper, "keeps_none", False))
                self._ask = strategy.next_thread
                self._next_thread = (self._ask_watcher if keeps_maple
                                     else self._ask_keeper)
                self.point = self._point_kept
            else:
                self._uniform = getattr(strategy, "uniform", None)
                if self._uniform is not None:
                    self.point = self._point_uniform
                    self.decide = self._decide_uniform
                    self.yield_point = self._yield_point_uniform
        self.rcu: RcuState = rcu(self)
        self.heap: Heap = heap(self)
        self.rcu.gp_thread  # noqa: B018 - rcu_gp is always thread 0

    # -- the hot path ----------------------------------------------------
    def _point_asking(self) -> None:
        """A scheduling point: maybe let another thread run first (the
        steps of :meth:`decide`, inline: one Python call per point)."""
        if self.quiet:
            return
        step = self.step = self.step + 1
        if step > self.max_steps:
            self.livelock()
        runnable = self.runnable
        if len(runnable) > 1:
            cur = self.cur_tid
            t = self.cur
            if t.fresh:  # the first decision point this thread reached
                t.fresh = False
                if self.priming:
                    self.main.switch()
                    return
                nxt = self._next_thread(runnable, None)
            else:
                nxt = self._next_thread(runnable, cur)
            if not self.fair:
                self.decisions.append(nxt)
            if nxt != cur:
                t = self.threads[nxt]
                if t.spin is not None:  # parked in spin_until
                    self._spun(t, cur)
                    return
                self.cur = t
                self.cur_tid = nxt
                t.glet.switch()  # type: ignore[union-attr]

    def _decide_asking(self) -> None:
        """The decision of a point with several runnable threads (hot path)."""
        cur = self.cur_tid
        t = self.cur
        if t.fresh:  # the first decision point this thread reached
            t.fresh = False
            if self.priming:
                self.main.switch()
                return
            nxt = self._next_thread(self.runnable, None)
        else:
            nxt = self._next_thread(self.runnable, cur)
        if not self.fair:
            self.decisions.append(nxt)
        if nxt != cur:
            t = self.threads[nxt]
            if t.spin is not None:  # parked in spin_until
                self._spun(t, cur)
                return
            self.cur = t
            self.cur_tid = nxt
            t.glet.switch()  # type: ignore[union-attr]

    # The same, for a strategy with a keeper or a uniform draw
    # (:class:`~rcu_harness.sched.protocol.Keeping`, ``Uniform``): the
    # decisions are the ones the strategy's call would make, without it.
    def _point_kept(self) -> None:
        """:meth:`point`, skipping the call while the keeper's lease holds."""
        if self.quiet:
            return
        if self.lease:  # the keeper's answer: the current thread
            self.lease -= 1
            self.kept += 1
            self.step += 1
            self.decisions.append(self.cur_tid)
            return
        if self.watch_lease and self._keeps_none and self.cur.pending is None:
            self.watch_lease -= 1  # a point without an access, never decided at
            self.step += 1
            self.decisions.append(self.cur_tid)
            return
        step = self.step = self.step + 1
        if step > self.max_steps:
            self.livelock()
        runnable = self.runnable
        if len(runnable) > 1:
            t = self.cur
            if t.fresh:
                t.fresh = False
                if self.priming:
                    self.main.switch()
                    return
                nxt = self._next_thread(runnable, None)
            else:
                nxt = self._next_thread(runnable, self.cur_tid)
            if not self.fair:
                self.decisions.append(nxt)
            cur = self.cur_tid
            if nxt != cur:
                t = self.threads[nxt]
                if t.spin is not None:  # parked in spin_until
                    self._spun(t, cur)
                    return
                self.cur = t
                self.cur_tid = nxt
                t.glet.switch()  # type: ignore[union-attr]

    def _ask_keeper(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The strategy's decision, told first of the decisions kept since
        the last one; its keeper's ``keep`` becomes the lease."""
        keeper = self._keeper
        if self.kept:
            keeper.skip(self.kept)  # type: ignore[union-attr]
            self.kept = 0
        nxt = self._ask(runnable, current, yielding)
        keep = keeper.keep  # type: ignore[union-attr]
        room = self.max_steps - self.step  # a lease never reaches the bound
        if keep > room:
            keep = room
        # a thread before its first point takes the fresh path, unleased
        self.lease = keep if keep > 0 and not self.threads[nxt].fresh else 0
        return nxt

    def _ask_watcher(self, runnable: Sequence[int], current: int | None,
                     yielding: bool = False) -> int:
        """:meth:`_ask_keeper` for a keeper that ``keeps_maple``: without a
        lease, the rest of the step bound becomes the watch lease."""
        nxt = self._ask_keeper(runnable, current, yielding)
        self.watch_lease = (self.max_steps - self.step if not self.lease
                            and not self.threads[nxt].fresh else 0)
        return nxt

    def _point_uniform(self) -> None:
        """:meth:`point` with the strategy's uniform draw made here."""
        if self.quiet:
            return
        step = self.step = self.step + 1
        if step > self.max_steps:
            self.livelock()  # the fair continuation decides from here on
            if len(self.runnable) > 1:
                self._decide_asking()
            return
        runnable = self.runnable
        if len(runnable) > 1:
            t = self.cur
            if t.fresh:
                t.fresh = False
                if self.priming:
                    self.main.switch()
                    return
            draw = self._uniform  # a local: a slot's method call is not specialised
            nxt = runnable[int(draw() * len(runnable))]  # type: ignore[misc]
            self.decisions.append(nxt)
            cur = self.cur_tid
            if nxt != cur:
                t = self.threads[nxt]
                if t.spin is not None:  # parked in spin_until
                    self._spun(t, cur)
                    return
                self.cur = t
                self.cur_tid = nxt
                t.glet.switch()  # type: ignore[union-attr]

    def _decide_uniform(self) -> None:
        """:meth:`decide` with the strategy's uniform draw made here."""
        t = self.cur
        if t.fresh:
            t.fresh = False
            if self.priming:
                self.main.switch()
                return
        runnable = self.runnable
        draw = self._uniform  # a local: a slot's method call is not specialised
        nxt = runnable[int(draw() * len(runnable))]  # type: ignore[misc]
        self.decisions.append(nxt)
        cur = self.cur_tid
        if nxt != cur:
            t = self.threads[nxt]
            if t.spin is not None:  # parked in spin_until
                self._spun(t, cur)
                return
            self.cur = t
            self.cur_tid = nxt
            t.glet.switch()  # type: ignore[union-attr]

    def _yield_point_asking(self) -> None:
        """A scheduling point where the current thread yields the CPU: it
        spins (a retry loop, ``schedule()``), so every strategy runs another
        runnable thread first."""
        if self.quiet:
            return
        step = self.step = self.step + 1
        if step > self.max_steps:
            self.livelock()
        if self.memory_model is not None:
            self.memory_model.propagate(self.cur)
        runnable = self.runnable
        if len(runnable) > 1:
            cur = self.cur_tid
            nxt = self._next_thread(runnable, cur, True)
            if not self.fair:
                self.decisions.append(nxt)
            if nxt != cur:
                t = self.threads[nxt]
                if t.spin is not None:  # parked in spin_until
                    self._spun(t, cur)
                    return
                self.cur = t
                self.cur_tid = nxt
                t.glet.switch()  # type: ignore[union-attr]

    def _yield_point_uniform(self) -> None:
        """:meth:`yield_point` with the strategy's uniform draw made here:
        among the runnable threads other than the current one."""
        if self.quiet:
            return
        step = self.step = self.step + 1
        if step > self.max_steps:
            self.livelock()  # the fair continuation decides from here on
            self.step -= 1
            self._yield_point_asking()
            return
        if self.memory_model is not None:
            self.memory_model.propagate(self.cur)
        runnable = self.runnable
        n = len(runnable)
        if n > 1:
            cur = self.cur_tid
            if cur in runnable:  # the others, without a list: skip cur's slot
                draw = self._uniform  # a local: a slot's method call is not specialised
                k = int(draw() * (n - 1))  # type: ignore[misc]
                nxt = runnable[k] if runnable[k] < cur else runnable[k + 1]
            else:
                draw = self._uniform  # a local: a slot's method call is not specialised
                nxt = runnable[int(draw() * n)]  # type: ignore[misc]
            self.decisions.append(nxt)
            if nxt != cur:
                t = self.threads[nxt]
                if t.spin is not None:  # parked in spin_until
                    self._spun(t, cur)
                    return
                self.cur = t
                self.cur_tid = nxt
                t.glet.switch()  # type: ignore[union-attr]

    def _spun(self, t: SimThread, cur: int) -> None:
        """Thread @t, chosen to run next, is parked in
        :func:`~rcu_harness.sync.sleep.spin_until` (its loop's
        ``schedule()``): while its condition is false, make its loop's
        yield points here, without switching to it; then run the thread
        chosen last (@t once its condition holds): switch to it, or go on
        if it is @cur, the thread running here (-1: none, after a block).

        A yield point of @t is what the thread itself would do on being
        resumed: its condition read (unobserved, as the loop reads it), the
        step, the yield decision among the other runnable threads, asked
        of the strategy or drawn with the same call as
        :meth:`yield_point` or :meth:`_yield_point_uniform`, recorded in
        the schedule; so the decisions, steps and everything the strategy
        sees are the same.  Anything else a yield point may do makes @t
        run instead: events recorded, a memory model to propagate to, the
        step bound (the fair continuation), a single runnable thread, a
        may-sleep check that could fail (@t in an RCU section or holding a
        lock).
        """
        while (t.spin is not None and not self.record and not self.quiet
               and self.memory_model is None and self.step < self.max_steps
               and not self.fair and not t.rcu_nesting and not t.locks_held):
            runnable = self.runnable
            n = len(runnable)
            if n < 2:
                break
            if self.read_quietly(t.spin):
                break
            self.step += 1
            spinner = t.tid
            self.cur = t
            self.cur_tid = spinner
            uniform = self._uniform
            if uniform is not None:  # _yield_point_uniform's draw
                k = int(uniform() * (n - 1))
                nxt = runnable[k] if runnable[k] < spinner else runnable[k + 1]
            else:  # yield_point's question
                nxt = self._next_thread(runnable, spinner, True)
            self.decisions.append(nxt)
            t = self.threads[nxt]
        self.cur = t
        self.cur_tid = t.tid
        if t.tid != cur:
            t.glet.switch()  # type: ignore[union-attr]

    def read_quietly(self, read: Callable[[], bool]) -> bool:
        """@read() with memory accesses unobserved (``quiet``: no scheduling
        point, no check): a waiter's condition in
        :func:`~rcu_harness.sync.sleep.spin_until`."""
        self.quiet += 1
        try:
            return read()
        finally:
            self.quiet -= 1

    def emit(self, kind: int, addr: int = 0, word: str | None = None,
             index: int = -1, value: object = None, code: Any = None) -> None:
        """Record one event for the current thread at the current step."""
        if self.record and not self.quiet:
            self.events.append(
                (self.step, self.cur_tid, kind, addr, word, index, value, code)
            )

    def next_u64(self) -> int:
        """A random value for the program, recorded in the schedule."""
        self.decisions.append(RANDOM)
        return self.strategy.next_u64()

    def random(self, n: int) -> int:
        """A random value in ``[0, @n)`` for the program: the strategy's
        choice where it chooses values (``next_value``, asked afresh each
        draw: a portfolio's member changes per execution), recorded with the
        draw; else ``next_u64() % n`` (under a driver, the driver's: its
        stand-in strategy never chooses)."""
        choose = getattr(self.strategy, "next_value", None)
        if choose is None:
            return self.next_u64() % n
        self.decisions.append(RANDOM)
        value: int = choose(n, self.cur_tid)
        self.values.append(value)
        return value

    def read_choice(self, options: int) -> int:
        """Which of @options (at least two) stores a load reads: 0 the
        newest, ``options - 1`` the oldest its view allows; the strategy's
        decision, recorded in the schedule.  In the fair continuation after
        the step bound (and for strategies that do not choose reads) the
        newest, so that stores propagate and spinners progress."""
        if self.fair:
            return 0
        choose = getattr(self.strategy, "next_read", None)
        k = choose(options, self.cur_tid) if choose is not None else 0
        self.decisions.append(read_code(k))
        return k

    def schedule(self) -> Schedule:
        """The decisions made so far, as a replayable :class:`Schedule`."""
        return Schedule(self.strategy.execution_seed, tuple(self.decisions),
                        tuple(self.values))

    def count(self, name: str, n: int = 1) -> None:
        """Add @n to the benign counter @name (and the current thread's)."""
        self.counters[name] = self.counters.get(name, 0) + n
        mine = self.cur.counters
        mine[name] = mine.get(name, 0) + n

    @property
    def in_threads(self) -> bool:
        """Is a simulated thread running observed code right now?"""
        return self.phase is _RUN and not self.quiet

    # -- threads ------------------------------------------------------------
    def spawn(self, name: str, fn: Callable[..., object], args: Sequence[object],
              *, state: ThreadState = ThreadState.RUNNABLE) -> SimThread:
        """Create a simulated thread that will run ``fn(*args)``."""
        t = SimThread(len(self.threads), name)
        t.glet = greenlet(run=lambda: self._thread_body(t, fn, args),
                          parent=self.main)
        t.state = state
        self.threads.append(t)
        if state is _RUNNABLE:
            bisect.insort(self.runnable, t.tid)
            self.lease = self.watch_lease = 0
        if self.phase is _RUN:
            self.emit(_SPAWN, 0, name, t.tid)
            if self.memory_model is not None:
                self.memory_model.spawned(t)
        return t

    def _thread_body(self, t: SimThread, fn: Callable[..., object],
                     args: Sequence[object]) -> None:
        try:
            fn(*args)
        except GreenletExit:
            raise
        except HarnessError as exc:
            if not self.aborting and self.error is None:
                self.error = exc
                self.main.switch()
            return
        except KeyboardInterrupt as exc:
            # Ctrl-C while this thread ran: it ends the execution and escapes
            # it (never a finding), even while the execution is torn down
            if self.error is None:
                self.error = exc
                if not self.aborting:
                    self.main.switch()
            return
        except BaseException as exc:  # a finding, never a harness crash
            if not self.aborting:
                self.fail(exception_violation(self, t, exc))
            return
        self._thread_exit(t)

    def _thread_exit(self, t: SimThread) -> None:
        self.emit(_EXIT)
        self.rcu.thread_exit(t)
        if t.locks_held:
            names = ", ".join(lock.name for lock in t.locks_held)
            self.fail(Violation(
                FindingKind.LOCK_MISUSE,
                f"task {t.label} exited with locks held: {names}",
                f"BUG: lock held when returning to user space!\n"
                f"task {t.label} is leaving the kernel with locks still held:"
                f" {names}",
                key=("exit-with-lock", *(lock.name for lock in t.locks_held)),
                thread=t.label, step=self.step))
        for hook in self.hooks.thread_exit:
            hook(self, t)
        t.state = _FINISHED
        if t.tid in self.runnable:
            self.runnable.remove(t.tid)
            self.lease = self.watch_lease = 0

    def block(self, reason: str, state: ThreadState = ThreadState.BLOCKED) -> None:
        """Make the current thread non-runnable until someone wakes it."""
        if self.aborting:
            raise GreenletExit
        if self.phase is not _RUN or self.quiet:
            raise HarnessUsageError(f"cannot block ({reason}) outside a thread")
        t = self.cur
        t.state = state
        t.wait_reason = reason
        self.runnable.remove(t.tid)
        self.lease = self.watch_lease = 0
        self.emit(_BLOCK, 0, reason)
        runnable = self.runnable
        if not runnable:
            self.main.switch()
        else:
            nxt = self._choose(runnable)
            nt = self.threads[nxt]
            if nt.spin is not None:  # parked in spin_until
                self._spun(nt, -1)
            else:
                self.cur = nt
                self.cur_tid = nxt
                nt.glet.switch()  # type: ignore[union-attr]
        if self.aborting:
            raise GreenletExit
        if self.memory_model is not None:  # woken: whoever woke it released
            self.memory_model.propagate(t)

    def _choose(self, runnable: list[int]) -> int:
        """Who runs after a block or an exit.

        A thread that has not started yet runs first, without a decision:
        nothing it does before its first scheduling point is observable.
        The runner *primes* threads so: it starts each one and stops it at
        its first decision point, so that every decision the strategy makes
        is between threads about to do something observable, and no two
        decisions explore the same interleaving.  (Threads spawned by other
        threads are not primed; their first decision may repeat one.)
        """
        threads = self.threads
        for tid in runnable:
            if not threads[tid].glet:
                return tid
        if len(runnable) == 1:
            return runnable[0]
        nxt = self._next_thread(runnable, None)
        if not self.fair:
            self.decisions.append(nxt)
        return nxt

    def wake(self, t: SimThread) -> None:
        """Make @t runnable again (it runs when the strategy picks it)."""
        if self.aborting or t.state is _RUNNABLE:
            return
        if t.state is _FINISHED:
            return
        t.state = _RUNNABLE
        t.wait_reason = ""
        bisect.insort(self.runnable, t.tid)
        self.lease = self.watch_lease = 0
        self.emit(_WAKE, 0, t.name, t.tid)

    # -- findings -------------------------------------------------------------
    def fail(self, v: Violation) -> None:
        """Report @v; the first violation ends the execution."""
        if self.violation is not None or self.aborting:
            return
        self.violation = v
        if getcurrent() is not self.main:
            self.main.switch()
            raise GreenletExit

    def livelock(self) -> None:
        """The step bound was exceeded: continue under a fair round-robin,
        or, if the fair continuation exceeded it too, report a livelock."""
        if not self.fair and not self.aborting:
            self.fair = True
            self.max_steps += self.step_bound
            self._next_thread = round_robin
            self.lease = self.watch_lease = 0
            if self._uniform is not None:  # the draw is the strategy's choice
                self.point = self._point_asking
                self.decide = self._decide_asking
                self.yield_point = self._yield_point_asking
            return
        self.max_steps = 1 << 62
        self.fail(livelock_violation(self))

    # -- driving --------------------------------------------------------------
    def run(self, setup: Callable[[Any], None], harness: Any) -> None:
        """Run setup, the threads, teardown and the end checks."""
        SLOT.ex = self
        try:
            for hook in self.hooks.execution_start:
                hook(self)
            self.quiet += 1
            setup(harness)
            self.quiet -= 1
            for fn in self.after_setup:
                fn()
            if self.violation is None:
                self.phase = Phase.RUN
                self.rcu.kick()
                self.drive()
                if self.fair and self.violation is None and self.error is None:
                    # Starved by the strategy, not a livelock: the fair
                    # continuation finished every thread.
                    self.counters["unfair_starvation"] = 1
            if self.violation is None and self.error is None:
                self._teardown()
        finally:
            self.release()
            self.phase = Phase.DONE
            SLOT.ex = None
            if self.kept:  # the keeper counts every decision it answered
                self._keeper.skip(self.kept)  # type: ignore[union-attr]
                self.kept = 0
        if self.error is not None:
            raise self.error

    def drive(self) -> None:
        """Run the threads until they finish, a violation or an error."""
        self._schedule_loop()

    def release(self) -> None:
        """Whatever happened: no simulated thread may outlive the execution."""
        self._kill_all()

    def _schedule_loop(self) -> None:
        while self.violation is None and self.error is None:
            runnable = self.runnable
            if not runnable:
                if any(t.state is _BLOCKED for t in self.threads):
                    self.fail(deadlock_violation(self))
                return
            tid = self._choose(runnable)
            t = self.threads[tid]
            self.cur = t
            self.cur_tid = tid
            self.priming = not t.glet
            t.glet.switch()  # type: ignore[union-attr]
            self.priming = False

    def _teardown(self) -> None:
        self.phase = Phase.TEARDOWN
        self.quiet += 1
        teardown = SimThread(-2, "teardown")
        self.rcu.drain()
        for fn in self.exit_fns:
            self.cur, self.cur_tid = teardown, -2
            try:
                fn()
            except Exception as exc:
                self.fail(exception_violation(self, teardown, exc))
                return
            self.rcu.drain()
        if self.violation is None:
            self.heap.check_leaks()
        if self.violation is None:
            for hook in self.hooks.execution_end:
                hook(self)

    def _kill_all(self) -> None:
        self.aborting = True
        self.runnable = []
        self.lease = self.watch_lease = 0
        self.max_steps = 1 << 62
        for t in self.threads:
            g = t.glet
            if g is not None and g and not g.dead:
                self.cur, self.cur_tid = t, t.tid
                g.throw(GreenletExit)
            t.glet = None

