"""The strategy seam: three methods, and nothing about program state.

A strategy (shuttle's ``Scheduler``) is asked only at scheduling points
where more than one thread is runnable.  It sees the ascending list of
runnable thread ids, the current thread's id (``None`` when the current
thread just blocked, finished or reaches its first decision) and whether it
yields, never program state.  Random values the program draws come
through :meth:`Strategy.next_u64`, from a generator seeded with
``execution_seed``, so a :class:`~rcu_harness.sched.schedule.Schedule`
``(execution_seed, decisions)`` replays them too.  The execution records
its own decisions (``Execution.decisions``); no wrapper is needed for that.

Optional capabilities, declared here and nowhere else tested by name:

* :class:`Sequential`: each execution continues from the previous one's
  path (``dfs``).  Such a strategy can run out (``exhausted``) and can be
  put back on a finished execution's path (``follow``), which is how a
  campaign resumes it or hands it to another process.  Its executions run
  in order, in one process.
* *calibrated* (:attr:`StrategyKind.calibrated` in the registry): the
  strategy takes ``steps``, the number of decisions a typical execution
  makes (PCT's ``k``), measured once before a run from the base seed alone
  (:func:`rcu_harness.runner.block.calibrate`) so that execution ``i``
  depends on nothing but the seed and ``i``.
* *profiled* (:attr:`StrategyKind.profiled`): the strategy takes
  ``profile``, each thread's number of memory accesses in one execution,
  measured the same way (``surw``).
* :class:`Watching`: the strategy reads the *pending access* of each
  runnable thread (what it will load or store when it next runs: node
  address, word, index, load or store; :mod:`rcu_harness.memory.access`).
  Only then does the execution install the access seam's pass-through hook,
  so strategies that do not ask pay nothing.
* :class:`Guided`: the strategy learns from feedback (``rff``): execution
  ``i`` depends on the seed, ``i`` and a *corpus* made by the executions of
  earlier *epochs* (:meth:`Guided.epoch_bounds`), fed to it before an
  epoch's executions run.  Whoever runs it measures reads-from coverage and
  builds the corpus (the exploration loop, a campaign's coordinator), and
  regenerating execution ``i`` by seed runs the epochs before it first.
* :class:`ChoosesReads`: under a weak memory model
  (:mod:`rcu_harness.memory.wmm`) a load that may read one of several
  stores asks ``next_read``; every strategy of the registry has it.  The
  reads-from choice is a decision like a thread choice (the execution
  records it), so replay, shrinking and dfs handle it the same way.
* :class:`Keeping` and :class:`Uniform`: ways for a strategy to let the
  execution make a decision without a call, with the very choice the call
  would make (a call per decision is most of a strategy's cost).  A
  ``keeper`` says how many following decisions surely choose the thread
  just chosen while the runnable set stays the same and no thread yields
  (``pct``: every decision up to its next change point), and whether its
  answer at a maple word (``keeps_maple``), and at a point without an
  access (``keeps_none``), is always the current thread (the watching
  strategies that decide only at fields, locks or sync points); a
  ``uniform``
  draw says the choice of a decision that does not yield is
  ``runnable[int(draw() * len(runnable))]`` (``random``).  A portfolio
  exposes its current member's (``keeper``/``uniform`` None: ask).  Only
  the greenlet hot path uses them; every other caller calls
  ``next_thread`` as before.
* :class:`ChoosesData`: a strategy that chooses the program's values
  (``h.random(n)``) itself, recorded in the schedule since the seed no
  longer regenerates them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from rcu_harness.sched.rff import CorpusEntry


class Strategy(Protocol):
    """Decides which thread runs at each scheduling point."""

    execution_seed: int
    """The seed of the execution prepared by the last :meth:`new_execution`."""

    def new_execution(self, index: int) -> bool:
        """Prepare execution number @index; False when nothing is left."""
        ...

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """A member of @runnable (at least two ids).

        @yielding is True when the current thread yields: it spins in a
        retry loop (a reader restarting on a dead node, ``schedule()`` in a
        wait) and cannot progress until another thread does.  Switching away
        is then not a preemption, and every strategy MUST return another
        runnable thread (it is in @runnable with at least one other), so a
        spinner never starves the thread it waits for.
        """
        ...

    def next_u64(self) -> int:
        """A random 64-bit value for the program."""
        ...


@runtime_checkable
class Sequential(Strategy, Protocol):
    """A strategy whose executions depend on the previous ones (``dfs``)."""

    exhausted: bool
    """Every execution it could run has run (set by :meth:`new_execution`
    returning False, or after the last block of a campaign)."""

    def follow(self, steps: Sequence[int]) -> None:
        """Make the next execution retrace @steps, a finished execution's
        decisions; the one after continues from that path, as if this
        strategy had run it."""
        ...


@runtime_checkable
class Watching(Strategy, Protocol):
    """A strategy that reads each runnable thread's pending access."""

    def watch(self, threads: Sequence[Any]) -> bool:
        """The execution about to run (prepared by :meth:`new_execution`)
        offers @threads, indexed by thread id, each with a ``pending``
        attribute: an :class:`~rcu_harness.memory.access.Access` or None (a
        point that is not a memory access).  The list grows as threads are
        spawned.  Return True to have pending accesses set for this
        execution (a portfolio may want them for some executions only)."""
        ...


@runtime_checkable
class Profiled(Strategy, Protocol):
    """A strategy that takes a ``profile`` measured by one of its own
    executions made without one (``surw``)."""

    def profile_probe(self) -> Profiled:
        """The strategy whose execution 0 measures the profile (made without
        one; for a portfolio, its profiled member's)."""
        ...

    def measured_profile(self) -> str:
        """The ``profile`` parameter measured by the execution that just ran
        (called on the probe)."""
        ...


@runtime_checkable
class Guided(Strategy, Protocol):
    """A strategy whose executions mutate a corpus made by earlier epochs."""

    def epoch_bounds(self, index: int) -> tuple[int, int]:
        """The epoch ``[start, stop)`` of execution @index: its executions
        see the corpus of the executions before ``start`` alone."""
        ...

    def feed(self, corpus: Sequence[CorpusEntry]) -> None:
        """The corpus for the executions that follow: every execution
        before their epoch that made a reads-from pair no earlier execution
        made, in index order."""
        ...


class Keeping(Protocol):
    """The ``keeper`` of a strategy whose answer holds for a while (``pct``)."""

    keep: int
    """Set by every ``next_thread`` call: how many of the decisions that
    follow it choose the same thread, as long as the runnable set stays the
    same and no thread yields, whatever the current thread."""

    keeps_maple: bool
    """Fixed for an execution: while ``keep`` is 0, is every decision
    whose current thread is about to access a maple word (a node or tree
    word: its pending access is ``maple``) the current thread, with nothing
    in the strategy changed, as long as the runnable set stays the same and
    no thread yields?  The watching strategies that decide only at other
    points (pct-site, pct-relay, pct-sync, random-sync) say so; the
    execution then makes those decisions without a call or a pending
    access (:attr:`~rcu_harness.runtime.execution.Execution.watch_lease`)
    and does not count them in ``skip``."""

    keeps_none: bool
    """Fixed for an execution, with ``keeps_maple``: the same at a point
    without an access (pending access None: an RCU primitive, a free, an
    ``Atomic``; a yield always asks), for a strategy whose ``points`` do
    not count those."""

    def skip(self, n: int) -> None:
        """@n decisions were made without calling ``next_thread``, each
        within the last call's ``keep`` (told before the next call and when
        the execution ends)."""
        ...


class Uniform(Protocol):
    """A strategy whose decision that does not yield is a uniform draw."""

    @property
    def uniform(self) -> Callable[[], float] | None:
        """The draw ``u`` in [0, 1) of ``runnable[int(u * len(runnable))]``,
        for the execution prepared by the last ``new_execution`` (None: the
        strategy decides otherwise, ask it)."""
        ...


@runtime_checkable
class ChoosesReads(Protocol):
    """The optional capability of choosing which store a load reads."""

    def next_read(self, options: int, thread: int) -> int:
        """Which store a load of thread @thread reads, under a weak memory
        model: 0 the newest of the @options (at least two) stores its view
        allows, ``options - 1`` the oldest.  A strategy without this method
        always reads the newest."""
        ...


@runtime_checkable
class ChoosesData(Protocol):
    """The optional capability of choosing the program's own random values.

    A program's ``h.random(n)`` normally takes ``next_u64() % n`` from the
    generator seeded by ``execution_seed``, which replay regenerates.  A
    strategy whose ``next_value`` is not None chooses the value itself;
    the execution then records every value of the execution in its
    schedule (:attr:`~rcu_harness.sched.schedule.Schedule.values`), and
    replay returns the recorded values (``aimed-data``'s pct-site and
    pct-relay turns, :mod:`rcu_harness.sched.pct_site`, *Data aim*)."""

    next_value: Callable[[int, int], int] | None
    """``next_value(n, thread)``: the value in ``[0, n)`` of a draw of
    thread @thread; None: the generator's value, not recorded."""
