"""The handle a program gets: ``setup(h)`` builds the world through it.

``h.spawn()`` creates simulated threads, ``h.port`` is the instrumented
memory port for maple trees, ``h.static()`` makes globals, ``h.at_exit()``
registers teardown and final checks (run after every thread finished and
RCU was drained).  Thread code uses the same handle for what only a
scenario knows: the boundaries of write operations (``h.writing()``),
reader results (``h.reading()``), mm references held by lockless readers
(``h.reader_enter()``), and benign counters (``h.count()``).
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeVar

from rcu_harness.errors import HarnessUsageError
from rcu_harness.memory.maple_port import InstrumentedPort
from rcu_harness.memory.simstruct import static
from rcu_harness.runtime.records import ReadKind, ReadRecord, WriteOp, WriteRecord
from rcu_harness.sync.atomic import Atomic
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from rcu_harness.memory.simstruct import SimStruct
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.metrics import Span
    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.sync.spinlock import SpinLock

S = TypeVar("S", bound="SimStruct")
_MARK = EventKind.MARK.value
ULONG_MAX = (1 << 64) - 1


def _users(mm: Any) -> Atomic:
    users = mm if isinstance(mm, Atomic) else getattr(mm, "mm_users", None)
    if not isinstance(users, Atomic):
        raise TypeError("reader_enter/exit take an mm with an Atomic mm_users "
                        "attribute, or the Atomic itself")
    return users


def _writer_hook(mt: Any, name: str, t: SimThread) -> None:
    """Tell @mt's port (if it keeps coverage) that @t enters/leaves a write."""
    hook = getattr(getattr(mt, "port", None), name, None)
    if hook is not None:
        hook(mt, t)


class Harness:
    """What ``setup(h)`` and thread code use to talk to the harness."""

    def __init__(self, ex: Execution) -> None:
        self._ex = ex
        self._port: InstrumentedPort | None = None
        self.setup_cache: dict[Any, Any] | None = None
        """The program's setup snapshots (:mod:`rcu_harness.runtime.snapshot`),
        when the program keeps them (the scenario catalog's do): set before
        setup runs, read by :func:`~rcu_harness.scenarios.mm.populate`."""

    # -- world building --------------------------------------------------
    @property
    def execution(self) -> int:
        """The index of this execution."""
        return self._ex.index

    @property
    def port(self) -> InstrumentedPort:
        """The instrumented memory port: ``MapleTree(flags, port=h.port)``."""
        if self._port is None:
            self._port = InstrumentedPort(self._ex)
        return self._port

    def spawn(self, name: str, fn: Callable[..., object], *args: object,
              refs: Iterable[Atomic] = ()) -> int:
        """Create a thread running ``fn(*args)``; it starts holding @refs."""
        t = self._ex.spawn(name, fn, args)
        for users in refs:
            t.refs[users] = t.refs.get(users, 0) + 1
        return t.tid

    def at_exit(self, fn: Callable[[], None]) -> None:
        """Run @fn after all threads finished and RCU was drained."""
        self._ex.exit_fns.append(fn)

    def static(self, cls: type[S], *, guard: SpinLock | None = None,
               **fields: Any) -> S:
        """A global @cls object, published from the start, never freed."""
        return static(cls, guard=guard, **fields)

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Run a block without scheduling points or checks (poison stays)."""
        self._ex.quiet += 1
        try:
            yield
        finally:
            self._ex.quiet -= 1

    # -- counters and randomness --------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        """Add @n to the benign counter @name (reported, never a failure)."""
        self._ex.count(name, n)

    def counter(self, name: str) -> int:
        """The current thread's share of the benign counter @name so far."""
        return self._ex.cur.counters.get(name, 0)

    def random(self, n: int) -> int:
        """A random int in [0, n) from the strategy (recorded for replay);
        ValueError if @n is below 1 (no such int)."""
        if n < 1:
            raise ValueError(f"h.random(n) needs n >= 1 (got {n})")
        return self._ex.random(n)

    @contextmanager
    def span(self, name: str) -> Iterator[Span]:
        """Time a stretch of this thread's work (steps and wall-clock ns).

        A span left by an exception (the execution aborting on a finding)
        is not completed and gives no sample.
        """
        ex = self._ex
        t = ex.cur
        sp = ex.metrics.open(name, t, ex.step)
        try:
            yield sp
        except BaseException:  # aborted (a finding): no latency to report
            ex.metrics.abandon(sp, t)
            raise
        ex.metrics.close(sp, t, ex.step)

    def sample(self, name: str, value: float) -> None:
        """Record one latency sample @value under @name."""
        self._ex.metrics.sample(name, value)

    def mark(self, label: str, value: object = None) -> None:
        """Put a scenario annotation into the event stream."""
        self._ex.emit(_MARK, 0, label, -1, value)

    # -- write operations ----------------------------------------------------
    def write_op_begin(self, mt: Any) -> None:
        """The current thread starts a write operation on @mt."""
        ex = self._ex
        t = ex.cur
        depth = t.write_ops.get(mt, 0)
        t.write_ops[mt] = depth + 1
        if not depth:
            _writer_hook(mt, "writer_enter", t)
        for hook in ex.hooks.write_op_begin:
            hook(ex, t, mt)

    def write_op_done(self, mt: Any) -> None:
        """The current thread completed a write operation on @mt."""
        ex = self._ex
        t = ex.cur
        depth = t.write_ops.get(mt, 0)
        if depth > 1:
            t.write_ops[mt] = depth - 1
        else:
            t.write_ops.pop(mt, None)
            _writer_hook(mt, "writer_exit", t)
        for hook in ex.hooks.write_op_done:
            hook(ex, t, mt)

    @contextmanager
    def writing(self, mt: Any, index: int, last: int, entry: object,
                ) -> Iterator[WriteRecord]:
        """Bracket one writer operation storing @entry over [index, last].

        ``entry=None`` records an erase.  The write op boundaries feed the
        mt_validate and RCU-mode checkers; the record feeds the result
        checker.
        """
        ex = self._ex
        op = WriteOp.ERASE if entry is None else WriteOp.STORE
        yield from self._write(WriteRecord(mt, op, index, last, entry,
                                           ex.cur.label, ex.step))

    @contextmanager
    def copying(self, mt: Any, entries: Iterable[tuple[int, int, object]],
                ) -> Iterator[WriteRecord]:
        """Bracket one writer operation after which @mt holds exactly
        @entries, whatever it held before (``__mt_dup()`` into an empty
        tree: readers may see the whole copy from its begin on)."""
        ex = self._ex
        ranges = tuple(sorted(entries, key=lambda r: r[0]))
        for (_, last, _), (first, _, _) in pairwise(ranges):
            if first <= last:
                raise HarnessUsageError(f"h.copying(): ranges overlap at {first:#x}"
                                        " (a tree holds disjoint ranges)")
        yield from self._write(WriteRecord(mt, WriteOp.COPY, 0, ULONG_MAX, None,
                                           ex.cur.label, ex.step, entries=ranges))

    def _write(self, rec: WriteRecord) -> Iterator[WriteRecord]:
        ex = self._ex
        self.write_op_begin(rec.tree)
        for hook in ex.hooks.write_begin:
            hook(ex, ex.cur, rec)
        yield rec
        rec.end = ex.step
        for hook in ex.hooks.write_end:
            hook(ex, ex.cur, rec)
        self.write_op_done(rec.tree)

    def initial_contents(self, mt: Any,
                         entries: Iterable[tuple[int, int, object]]) -> None:
        """Declare what @mt holds when the threads start (for the result check)."""
        ex = self._ex
        t = ex.cur
        ranges = entries if type(entries) is list else list(entries)
        for hook in ex.hooks.initial_contents:  # each observer, all at once
            hook(ex, t, mt, ranges)

    # -- reads -------------------------------------------------------------------
    @contextmanager
    def reading(self, mt: Any, kind: ReadKind = ReadKind.FIND, first: int = 0,
                limit: int = ULONG_MAX) -> Iterator[ReadRecord]:
        """Bracket one reader operation; call ``rec.saw(...)`` per result.

        Under a weak memory model the read begins, for the result checker,
        at the first store the reader's view may not include yet: LKMM
        promises a lockless reader no recency, so any version from then on
        is one it may see (:meth:`LkmmModel.horizon`)."""
        ex = self._ex
        rec = ReadRecord(mt, kind, first, limit, ex.cur.label, self.horizon())
        yield rec
        rec.end = ex.step
        for hook in ex.hooks.read_end:
            hook(ex, ex.cur, rec)

    def horizon(self) -> int:
        """The first step whose stores the current thread may not see yet:
        the current step under sc; under a weak memory model the first store
        its view may not include (:meth:`LkmmModel.horizon`), from which on
        every version of a tree is one its loads may read."""
        ex = self._ex
        if ex.memory_model is None:
            return ex.step
        return min(ex.step, ex.memory_model.horizon(ex.cur))

    # -- mm references -------------------------------------------------------------
    def reader_enter(self, mm: Any) -> None:
        """The current thread starts a lockless read of @mm's tree."""
        ex = self._ex
        users = _users(mm)
        t = ex.cur
        t.reader_of[users] = t.reader_of.get(users, 0) + 1
        for hook in ex.hooks.reader_enter:
            hook(ex, t, users)

    def reader_exit(self, mm: Any) -> None:
        """The current thread ends its lockless read of @mm's tree."""
        ex = self._ex
        users = _users(mm)
        t = ex.cur
        depth = t.reader_of.get(users, 0)
        if depth > 1:
            t.reader_of[users] = depth - 1
        else:
            t.reader_of.pop(users, None)
        for hook in ex.hooks.reader_exit:
            hook(ex, t, users)

    def holds_reference(self, mm: Any) -> bool:
        """Does the current thread hold a reference on @mm (mm_users)?"""
        return self._ex.cur.refs.get(_users(mm), 0) > 0
