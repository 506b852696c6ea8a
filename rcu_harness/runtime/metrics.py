"""Latency and RCU samples of one execution, for the campaign store and reports.

Scenario code brackets what it wants timed with ``h.span(name)`` (a reader's
walk, a dup_mmap(), one store); the span records the scheduling steps it
covered (deterministic) and the wall-clock nanoseconds it took (reporting
only: nothing decides behaviour on it), plus any per-span values the code
adds (``span.add("entries", 3)``).  The RCU model, the heap and the maple
port add their own samples here as they run; all of them are cheap: a list
append on events that are rare next to loads (``call_rcu``, a free, the end
of a read-side section), or a branch on the slow path of a load that is
already not the common case.  Nothing here needs recorded events, so the
figures exist for every execution of an exploration (which records none).

:func:`collect` turns an execution's samples into flat numpy arrays keyed by
name, which is what the campaign store saves and the reports read.  A block
takes :func:`sample_lists` instead, the same entries as plain lists, and
the store makes each name's array once per chunk of executions
(:func:`~rcu_harness.store.runstore.chunk_arrays`); both make arrays by
one definition of each name's dtype and shape
(:data:`rcu_harness.store.samples.SAMPLE_KINDS`).
Names are stable; a report reads them by these names:

``span.<name>.steps`` / ``span.<name>.ns``
    one value per completed span (one left by an exception, as when the
    execution aborts on a finding, is not): scheduling steps and wall-clock
    ns.  The wall-clock time includes whatever other threads ran in between
    (all threads share one core), so it measures the interleaving as much as
    the code.
``span.<name>.<key>``
    one value per span of a per-span counter (0 where not added), present
    in an execution only if some span of that name there added it: a reader
    aligns it with ``span.<name>.steps`` through the ``@exec`` indexes.  Every
    span gets ``restarts``, the reader restarts on dead nodes
    (``reader_restart``) its thread counted inside the span, unless the
    code added ``restarts`` itself; the key is absent when no span of that
    name saw a restart.
``value.<name>``
    free-standing samples added with ``h.sample()``.  The RCU model adds
    ``value.rcu.gp_steps``: per grace period, the steps from its start to
    its end (before its callbacks run).
``rcu.free_delay_steps``
    per object freed by an RCU callback while the threads run (maple nodes
    and ``kfree_rcu()``'d structs such as VMAs): steps from its
    ``call_rcu()`` to its free.  Callbacks drained at teardown are not
    grace periods and are not sampled.
``rcu.waiting``
    the number of objects queued with ``call_rcu()`` and not yet freed (the
    memory RCU holds) over the execution, as change points: an ``(n, 2)``
    int array of ``[step, count]`` rows, the last row of a step winning.
    The count is 0 before the first row.  Only objects passed to
    ``call_rcu()`` count: a callback that frees more than its own object
    (``mt_free_walk()`` frees a whole dead subtree) holds those others too,
    uncounted.
``rcu.waiting_peak``
    one value per execution: the highest count of ``rcu.waiting``.
``rcu.pipe``
    rcutorture's *Reader Pipe*, one value per completed outermost read-side
    section: the pipeline age of the oldest retired object the section
    read.  0: it read only live objects; 1: it read an object already
    retired (marked dead or queued with ``call_rcu()``) but no grace period
    that started after the retirement has ended; k: k-1 such grace periods
    have ended.  Legal: 0 and 1 (see :data:`PIPE_RULE`).
``rcu.batch``
    rcutorture's *Reader Batch*, one value per completed outermost
    read-side section: the grace periods that ended while it ran.  Legal:
    0 and 1 (see :data:`BATCH_RULE`).
``rcu.retired_age``
    one value per load of a retired, not yet freed object by a reader (a
    thread that neither holds the object's writer lock nor is ``rcu_gp``):
    its pipeline age at that load, as in ``rcu.pipe``.
``cover.<level>.<span>.<store>``
    one value per execution: how many reader loads happened while another
    thread was inside a write operation (``h.writing``) on the same tree.
    ``level`` is where the reader was (``ma_root``: the tree's root
    pointer; ``root``, ``internal`` or ``leaf``: the node it loaded a word
    of); ``span`` is the writer's innermost open span (``writer.store``,
    ``dup_mmap.store``, ``exit_mmap``...; ``write`` when none); ``store``
    is the write path the writer was in, from its model call stack
    (:mod:`rcu_harness.memory.coverage`).  Level and store contain no
    dots; the span name is everything between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcu_harness.store.samples import Samples, to_array

if TYPE_CHECKING:
    import numpy as np

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

PIPE_RULE = (
    "Reader Pipe: per read-side section, the age of the oldest retired object "
    "it read (0: only live objects; 1: retired, no grace period since; +1 per "
    "grace period that started after the retirement and ended before the "
    "read). Such a grace period must wait for every reader that can still "
    "reach the object, and the object is freed only after one, so a correct "
    "RCU shows only the first two buckets. As rcutorture says: if any entries "
    "past the first two are non-zero, RCU is broken.")
BATCH_RULE = (
    "Reader Batch: per read-side section, the grace periods that ended while "
    "it ran. Only a grace period already in progress when the section began "
    "may end inside it; every later one must wait for the section to end. So "
    "again only the first two buckets may be non-zero: 2 or more means a "
    "grace period ended without waiting for a pre-existing reader.")
PIPE_LEN = 10
"""Histogram buckets 0..PIPE_LEN (the last one collects larger values), as
rcutorture's RCU_TORTURE_PIPE_LEN."""
LEGAL_AGES = 2
"""Buckets 0 and 1 are legal for both histograms."""
RESTARTS = "reader_restart"
LEVELS = ("ma_root", "root", "internal", "leaf")
"""Where a reader was in the interleaving coverage (``cover.<level>...``),
in the order of :attr:`Metrics.counts`' lists."""


RESERVED_EXTRAS = ("steps", "ns")
"""Span counters that would take the name of a span's own samples."""


@dataclass(slots=True)
class Span:
    """One timed stretch of a thread's work."""

    name: str
    thread: str
    begin_step: int
    begin_ns: int
    end_step: int = -1
    end_ns: int = -1
    extra: dict[str, float] = field(default_factory=dict)
    restarts_at: int = 0
    """The thread's reader_restart counter when the span opened."""

    def add(self, key: str, value: float = 1) -> None:
        """Add @value to this span's counter @key (not ``steps`` or ``ns``:
        the span's own samples have those names)."""
        if key in RESERVED_EXTRAS:
            raise ValueError(f"span {self.name!r}: a counter named {key!r} "
                             "would hide the span's own samples")
        self.extra[key] = self.extra.get(key, 0) + value


class Metrics:
    """The spans and samples one execution recorded."""

    __slots__ = ("batch", "counts", "free_delay", "pipe", "retired_age",
                 "spans", "values", "waiting", "waiting_now", "waiting_peak",
                 "writers")

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.values: dict[str, list[float]] = {}
        self.free_delay: list[int] = []
        self.waiting: list[list[int]] = []
        self.waiting_now = 0
        self.waiting_peak = 0
        self.pipe: list[int] = []
        self.batch: list[int] = []
        self.retired_age: list[int] = []
        self.counts: dict[tuple[str, str], list[int]] = {}
        """(writer span, write path) -> reader loads per level, in
        :data:`LEVELS` order (filled by
        :func:`rcu_harness.memory.coverage.reader_load`); read
        :attr:`cover`."""
        self.writers: dict[Any, list[SimThread]] = {}
        """Guard lock of a tree -> threads inside a write operation on it."""

    @property
    def cover(self) -> dict[tuple[str, str, str], int]:
        """(level, writer span, write path) -> reader loads so far: the
        interleaving coverage (a new dict, made from :attr:`counts`; pairs
        without loads left out)."""
        out: dict[tuple[str, str, str], int] = {}
        for (span, path), counts in self.counts.items():
            for level, n in zip(LEVELS, counts, strict=True):
                if n:
                    out[(level, span, path)] = n
        return out

    # -- spans and free-standing samples ---------------------------------
    def open(self, name: str, t: SimThread, step: int) -> Span:
        """Start a span of thread @t now."""
        span = Span(name, t.label, step, time.perf_counter_ns(),
                    restarts_at=t.counters.get(RESTARTS, 0))
        self.spans.append(span)
        t.spans.append(span)
        return span

    @staticmethod
    def close(span: Span, t: SimThread, step: int) -> None:
        """End @span of thread @t now."""
        span.end_step = step
        span.end_ns = time.perf_counter_ns()
        if t.spans and t.spans[-1] is span:
            t.spans.pop()
        restarts = t.counters.get(RESTARTS, 0) - span.restarts_at
        if restarts and "restarts" not in span.extra:
            span.extra["restarts"] = restarts

    @staticmethod
    def abandon(span: Span, t: SimThread) -> None:
        """@span of thread @t will not complete (it stays out of the samples)."""
        if t.spans and t.spans[-1] is span:
            t.spans.pop()

    def sample(self, name: str, value: float) -> None:
        """Record one free-standing sample."""
        self.values.setdefault(name, []).append(value)

    # -- memory held by RCU ------------------------------------------------
    def _waiting_point(self, step: int) -> None:
        rows = self.waiting
        if rows and rows[-1][0] == step:
            rows[-1][1] = self.waiting_now
        else:
            rows.append([step, self.waiting_now])

    def rcu_queued(self, step: int) -> None:
        """An object was queued with call_rcu() at @step."""
        self.waiting_now += 1
        if self.waiting_now > self.waiting_peak:
            self.waiting_peak = self.waiting_now
        self._waiting_point(step)

    def rcu_freed(self, step: int, delay: int | None) -> None:
        """A queued object was freed at @step, @delay steps after call_rcu()."""
        self.waiting_now -= 1
        self._waiting_point(step)
        if delay is not None:
            self.free_delay.append(delay)

    # -- read-side sections (rcutorture's pipe and batch) ---------------------
    def section_end(self, t: SimThread, completed: int) -> None:
        """@t left its outermost read-side section; @completed GPs so far."""
        self.batch.append(completed - t.rcu_begin)
        self.pipe.append(t.rcu_age)
        t.rcu_age = 0

    def retired_read(self, t: SimThread, age: int) -> None:
        """Reader @t loaded a retired object whose pipeline age is @age."""
        self.retired_age.append(age)
        if t.rcu_nesting and age > t.rcu_age:
            t.rcu_age = age


RCU_SAMPLES = ("rcu.free_delay_steps", "rcu.waiting", "rcu.waiting_peak",
               "rcu.pipe", "rcu.batch", "rcu.retired_age")
"""The ``rcu.*`` names, present in every execution's samples (empty when
nothing happened)."""

def _span_lists(metrics: Metrics, out: Samples) -> None:
    by_name: dict[str, list[Span]] = {}
    for span in metrics.spans:
        if span.end_step >= 0:
            got = by_name.get(span.name)
            if got is None:
                by_name[span.name] = [span]
            else:
                got.append(span)
    for name in sorted(by_name):
        spans = by_name[name]
        out[f"span.{name}.steps"] = [s.end_step - s.begin_step for s in spans]
        out[f"span.{name}.ns"] = [s.end_ns - s.begin_ns for s in spans]
        keys = {k for s in spans if s.extra for k in s.extra}
        for key in sorted(keys):
            out[f"span.{name}.{key}"] = [s.extra.get(key, 0) for s in spans]


def sample_lists(ex: Execution) -> Samples:
    """Every sample of @ex as plain lists keyed by name (completed spans
    only): the entries of :func:`collect`'s arrays, in the same order.

    Lists of the finished execution are taken as they are (``rcu.waiting``'s
    rows among them): nothing changes an execution's metrics once it has
    ended.
    """
    out: Samples = {}
    metrics: Metrics = ex.metrics
    if metrics.spans:
        _span_lists(metrics, out)
    values = metrics.values
    for name in sorted(values):
        out[f"value.{name}"] = values[name]
    out["rcu.free_delay_steps"] = metrics.free_delay
    out["rcu.waiting"] = metrics.waiting
    out["rcu.waiting_peak"] = [metrics.waiting_peak]
    out["rcu.pipe"] = metrics.pipe
    out["rcu.batch"] = metrics.batch
    out["rcu.retired_age"] = metrics.retired_age
    cover = []  # Metrics.cover's items, sorted, without the dict
    for (span, store), counts in metrics.counts.items():
        for level, n in zip(LEVELS, counts, strict=True):
            if n:
                cover.append((level, span, store, n))
    cover.sort()
    for level, span, store, n in cover:
        out[f"cover.{level}.{span}.{store}"] = [n]
    return out


def collect(ex: Execution) -> dict[str, np.ndarray]:
    """Every sample of @ex as named numpy arrays (completed spans only):
    :func:`sample_lists` made arrays by :func:`to_array`."""
    return {key: to_array(key, (values,)) for key, values in sample_lists(ex).items()}
