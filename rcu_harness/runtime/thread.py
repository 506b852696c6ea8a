"""Simulated threads: one greenlet each, plus the per-thread kernel state.

A :class:`SimThread` is a stackful coroutine (a ``greenlet``) together with
the state the kernel keeps per task and the harness needs to check: RCU
read-side nesting, held spinlocks, mm references.  Threads get dense ids in
spawn order; id 0 is always the grace-period kthread ``rcu_gp``.

Not modelled: priorities, CPU affinity, interrupts and softirqs (RCU
callbacks run in the ``rcu_gp`` thread, one scheduling step each), and
preemption being disabled under a spinlock (every thread is its own CPU, so
other threads keep running while one holds a spinlock, as on SMP).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from greenlet import greenlet


class Phase(Enum):
    """What part of its life an execution is in."""

    SETUP = "setup"
    RUN = "run"
    TEARDOWN = "teardown"
    DONE = "done"


class ThreadState(Enum):
    """Where a simulated thread is in its life."""

    RUNNABLE = "runnable"
    BLOCKED = "blocked"
    IDLE = "idle"
    """Blocked with nothing to do (rcu_gp waiting for work); not a deadlock."""
    FINISHED = "finished"


class SimThread:
    """One simulated thread (a kernel task on its own CPU)."""

    __slots__ = (
        "counters",
        "cover",
        "fresh",
        "glet",
        "label",
        "locks_held",
        "name",
        "pending",
        "rcu_age",
        "rcu_begin",
        "rcu_nesting",
        "rcu_section",
        "reader_of",
        "refs",
        "spans",
        "spin",
        "state",
        "tid",
        "wait_reason",
        "write_ops",
    )

    def __init__(self, tid: int, name: str) -> None:
        self.tid = tid
        self.name = name
        self.label = f"{name}/{tid}"
        """``name/tid``, as reports print a task."""
        self.glet: greenlet | None = None
        self.state = ThreadState.RUNNABLE
        self.rcu_nesting = 0
        """Depth of rcu_read_lock() nesting."""
        self.rcu_section = 0
        """Count of outermost read-side sections this thread has left."""
        self.rcu_begin = 0
        """Grace periods completed when the current outermost section began."""
        self.rcu_age = 0
        """Oldest pipeline age of a retired object the current section read."""
        self.spans: list[Any] = []
        """Open metrics spans, innermost last (``h.span``)."""
        self.locks_held: list[Any] = []
        """Spinlocks and rw-semaphores held, in acquisition order."""
        self.refs: dict[Any, int] = {}
        """References held per atomic counter (Atomic -> count)."""
        self.reader_of: dict[Any, int] = {}
        """Atomics this thread declared a lockless read under (nesting)."""
        self.write_ops: dict[Any, int] = {}
        """Trees this thread is inside a write operation on (nesting)."""
        self.cover: list[Any] | None = None
        """As a writer, its interleaving coverage record: its state when it
        last stopped and the counts of that state's span and write path
        (:func:`rcu_harness.memory.coverage.reader_load`); None until a
        reader loads a word of a tree it writes."""
        self.wait_reason = ""
        self.counters: dict[str, int] = {}
        """This thread's share of the execution's benign counters."""
        self.pending: Any = None
        """The memory access this thread makes when it next runs (an
        :class:`~rcu_harness.memory.access.Access`), kept only while the
        execution has an access hook; None otherwise."""
        self.fresh = True
        """No decision was made at a scheduling point of this thread yet."""
        self.spin: Callable[[], bool] | None = None
        """While it waits in :func:`~rcu_harness.sync.sleep.spin_until`, the
        condition it waits for (the execution may make its loop's yield
        points without running it: ``Execution._spun``)."""

    def __repr__(self) -> str:
        return f"<SimThread {self.label} {self.state.value}>"
