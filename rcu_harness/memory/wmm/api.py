"""What a memory model is told, and the log it keeps for the litmus exporter.

:class:`MemoryModel` is the interface the runtime, the ports and the
kernel primitives call (``ex.memory_model``); :class:`Op` is one entry of
a recorded execution's log of memory operations, which
:mod:`rcu_harness.litmus.export` reads back to find a finding's pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.memory.access import RmwOrder
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread


class MemoryModel(Protocol):
    """What the runtime, the ports and the primitives tell a memory model
    (the current thread is ``ex.cur``)."""

    def propagate(self, t: SimThread) -> None:
        """@t synchronised with everyone (it slept or spun): it sees every
        store made so far."""

    def spawned(self, child: SimThread) -> None:
        """@child was created by the current thread."""

    def horizon(self, t: SimThread) -> int:
        """The step before which every store is visible to @t."""

    def smp_wmb(self) -> None:
        """smp_wmb()."""

    def smp_rmb(self) -> None:
        """smp_rmb()."""

    def smp_mb(self) -> None:
        """smp_mb()."""

    def full_barrier(self, tid: int) -> None:
        """smp_mb()'s effect, without an event (fully ordered atomics)."""

    def release_next(self) -> None:
        """The next store is a release."""

    def acquire_next(self) -> None:
        """The next load is an acquire."""

    def plain_next(self) -> None:
        """Cancel a release or acquire that no access consumed."""

    def lock_acquire(self, addr: int, name: str = "") -> None:
        """The lock at @addr was taken (acquire)."""

    def lock_release(self, addr: int, name: str = "") -> None:
        """The lock at @addr is released (release)."""

    def rcu_read_lock(self) -> None:
        """An outermost rcu_read_lock()."""

    def rcu_read_unlock(self) -> None:
        """An outermost rcu_read_unlock()."""

    def rcu_call(self, sync: bool) -> None:
        """call_rcu() or synchronize_rcu()."""

    def gp_start(self) -> None:
        """A grace period starts."""

    def rmw(self, ex: Execution, obj: Any, word: str,
            fn: Callable[[Any], Any], order: RmwOrder,
            value: Any, primitive: str = "") -> tuple[Any, Any]:
        """An atomic read-modify-write of @obj's @word (@value is what the
        word holds; @primitive the kernel primitive it models, for the
        log): (the old value, the new one)."""


@dataclass(frozen=True, slots=True)
class Op:
    """One memory operation, as the litmus exporter reads them back."""

    kind: str
    """``ld``, ``st``, ``fence``, ``rcu_lock``, ``rcu_unlock``, ``sync_rcu``,
    ``call_rcu``, ``gp_start``, ``lock``, ``unlock``, ``propagate``."""
    tid: int
    step: int
    key: int = 0
    value: Any = None
    seq: int = 0
    """A store's sequence number; for a load, that of the store it read."""
    newest: int = 0
    """For a load: the newest store of the word when it ran."""
    ordered: bool = False
    """A release store, an acquire load."""
    dep: int = -1
    """For a load: the index in the log of the load that read the pointer
    it went through (an address dependency), -1 if none."""
    name: str = ""
    """A barrier's or a lock's name; for the load and the store of an
    atomic read-modify-write, the kernel primitive it models (``""`` if
    its caller named none)."""
    rmw: RmwOrder | None = None
    """For the load and the store of an atomic read-modify-write that
    wrote: its ordering (a failed one is logged as a plain load)."""
