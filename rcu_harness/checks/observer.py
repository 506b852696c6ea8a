"""Observers: checkers attach to an execution through no-op hooks.

In the spirit of trio's ``Instrument``: :class:`Observer` defines every hook
as a method that does nothing, a checker overrides the hooks it needs, and
:class:`Hooks` builds, per hook, the list of observers that override it, so
a hook nobody overrides costs one empty-tuple test at the call site.
Observers never drive the runtime: they do not schedule, block or wake;
they only look at what happened and report a
:class:`~rcu_harness.runtime.finding.Violation` through ``ex.fail()``.

Checks that belong to a modelled object live with it instead (loom style):
poisoning, double free, leaks and lockdep-RCU with the heap, read-side
balance with the RCU model, deadlock and livelock with the runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.records import WriteOp, WriteRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.records import ReadRecord
    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.sync.atomic import Atomic
    from rcu_harness.sync.spinlock import SpinLock


class Observer:
    """Base class of checkers: every hook is a no-op until overridden."""

    def execution_start(self, ex: Execution) -> None:
        """An execution is about to run its setup."""

    def execution_end(self, ex: Execution) -> None:
        """Every thread finished, RCU drained and teardown done (no finding)."""

    def thread_exit(self, ex: Execution, t: SimThread) -> None:
        """@t returned from its function."""

    def store(self, ex: Execution, t: SimThread, target: object, word: str,
              index: int, value: object, lock: SpinLock | None) -> None:
        """@t stored @value into a published shared word guarded by @lock.

        Not called for published words that no lock guards.
        """

    def flags_store(self, ex: Execution, t: SimThread, mt: Any, old: int,
                    new: int, lock: SpinLock | None) -> None:
        """@t stored ma_flags of @mt (@lock is the tree lock, None if external)."""

    def write_op_begin(self, ex: Execution, t: SimThread, mt: Any) -> None:
        """@t starts a write operation on @mt."""

    def write_op_done(self, ex: Execution, t: SimThread, mt: Any) -> None:
        """@t completed a write operation on @mt."""

    def reader_enter(self, ex: Execution, t: SimThread, users: Atomic) -> None:
        """@t starts a lockless read of the mm whose mm_users is @users."""

    def reader_exit(self, ex: Execution, t: SimThread, users: Atomic) -> None:
        """@t ends its lockless read of the mm whose mm_users is @users."""

    def atomic_op(self, ex: Execution, t: SimThread, atomic: Atomic, op: str,
                  old: int, new: int) -> None:
        """@t did @op on @atomic, taking it from @old to @new."""

    def write_begin(self, ex: Execution, t: SimThread, rec: WriteRecord) -> None:
        """@t starts a recorded writer operation."""

    def write_end(self, ex: Execution, t: SimThread, rec: WriteRecord) -> None:
        """@t completed a recorded writer operation."""

    def read_end(self, ex: Execution, t: SimThread, rec: ReadRecord) -> None:
        """@t completed a recorded read (its results are in @rec)."""

    def initial_contents(self, ex: Execution, t: SimThread, mt: Any,
                         entries: Sequence[tuple[int, int, object]]) -> None:
        """@mt holds @entries when the threads start (``h.initial_contents``).

        By default each entry is a setup write: :meth:`write_begin` and
        :meth:`write_end` with a ``STORE`` record of thread ``"setup"``,
        begin and end -1.  An observer that overrides either of them gets
        this hook (:func:`_plan`); one may override this hook to take the
        entries at once."""
        store = WriteOp.STORE
        for index, last, entry in entries:
            rec = WriteRecord(mt, store, index, last, entry, "setup", -1, -1)
            self.write_begin(ex, t, rec)
            self.write_end(ex, t, rec)


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name in vars(Observer) if not name.startswith("_")
)


_VIA: dict[str, tuple[str, ...]] = {
    "initial_contents": ("initial_contents", "write_begin", "write_end")}
"""Hooks whose default calls others: an observer overriding any of these
gets the hook."""


def _plan(types: tuple[type[Observer], ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Per hook name, the positions of the observer types that override it
    (or, for a hook of :data:`_VIA`, a hook its default calls)."""
    return tuple(
        (name, tuple(i for i, cls in enumerate(types)
                     if any(getattr(cls, via) is not getattr(Observer, via)
                            for via in _VIA.get(name, (name,)))))
        for name in HOOK_NAMES)


_PLANS: dict[tuple[type[Observer], ...], tuple[tuple[str, tuple[int, ...]], ...]] = {}
"""Observer types -> their hook plan (the same few checker sets every execution)."""


class Hooks:
    """Per hook, the observers that override it (empty tuples otherwise)."""

    __slots__ = ("observers", *HOOK_NAMES)

    execution_start: tuple[Callable[..., None], ...]
    execution_end: tuple[Callable[..., None], ...]
    thread_exit: tuple[Callable[..., None], ...]
    store: tuple[Callable[..., None], ...]
    flags_store: tuple[Callable[..., None], ...]
    write_op_begin: tuple[Callable[..., None], ...]
    write_op_done: tuple[Callable[..., None], ...]
    reader_enter: tuple[Callable[..., None], ...]
    reader_exit: tuple[Callable[..., None], ...]
    atomic_op: tuple[Callable[..., None], ...]
    write_begin: tuple[Callable[..., None], ...]
    write_end: tuple[Callable[..., None], ...]
    read_end: tuple[Callable[..., None], ...]
    initial_contents: tuple[Callable[..., None], ...]

    def __init__(self, observers: Sequence[Observer]) -> None:
        self.observers = obs = tuple(observers)
        key = tuple(type(o) for o in obs)
        plan = _PLANS.get(key)
        if plan is None:
            plan = _PLANS[key] = _plan(key)
        for name, which in plan:  # most hooks have no observer: ()
            setattr(self, name,
                    tuple([getattr(obs[i], name) for i in which]) if which else ())

    def find(self, cls: type[Observer]) -> Observer | None:
        """The first attached observer of type @cls."""
        for obs in self.observers:
            if isinstance(obs, cls):
                return obs
        return None
