"""atomic_t, with per-thread reference tracking (``mm_users``).

Every operation is a scheduling point and is sequentially consistent.
Increments and decrements are attributed to the calling thread: a thread's
``refs[atomic]`` counts the references it took (``atomic_inc``, a successful
``atomic_inc_not_zero``) minus those it dropped (``atomic_dec``,
``atomic_dec_and_test``).  A thread can also start life holding references
taken for it by its creator (``h.spawn(..., refs=(mm.mm_users,))``).  The
mm-reference checker uses this to tell whether a lockless reader of an mm
holds a reference for the whole read.

Each read-modify-write runs under ``ex.atomic`` (a no-op under greenlets,
where it is atomic anyway; a lock under OS threads).

Not modelled: memory ordering variants (``_acquire``, ``_relaxed``): all
are SeqCst; overflow/saturation of ``refcount_t``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.current import current
from rcu_harness.sync.spinlock import object_addr
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

_ATOMIC = EventKind.ATOMIC.value


class Atomic:
    """atomic_t."""

    __slots__ = ("addr", "name", "value")

    def __init__(self, value: int = 0, name: str = "atomic") -> None:
        self.value = value
        self.name = name
        self.addr = object_addr()

    def rcu_summary(self) -> str:
        """Deterministic summary for traces."""
        return f"{self.name}={self.value}"

    def __repr__(self) -> str:
        return f"<atomic {self.name}={self.value}>"


def _op(ex: Execution, a: Atomic, op: str, new: int, ref: int) -> int:
    """Apply @op (already a scheduling point); return the old value."""
    old = a.value
    a.value = new
    t = ex.cur
    if ex.memory_model is not None:  # the words are SC; the ops full barriers
        ex.memory_model.full_barrier(t.tid)
    if ref:
        t.refs[a] = t.refs.get(a, 0) + ref
    if ex.record:
        ex.emit(_ATOMIC, a.addr, op, -1, new)
    for hook in ex.hooks.atomic_op:
        hook(ex, t, a, op, old, new)
    return old


def atomic_read(a: Atomic) -> int:
    """atomic_read()."""
    ex = current()
    ex.point()
    if ex.memory_model is not None:
        ex.memory_model.full_barrier(ex.cur.tid)
    if ex.record:
        ex.emit(_ATOMIC, a.addr, "atomic_read", -1, a.value)
    return a.value


def atomic_set(a: Atomic, value: int) -> None:
    """atomic_set()."""
    ex = current()
    ex.point()
    with ex.atomic:
        _op(ex, a, "atomic_set", value, 0)


def atomic_inc(a: Atomic) -> None:
    """atomic_inc(): take a reference."""
    ex = current()
    ex.point()
    with ex.atomic:
        _op(ex, a, "atomic_inc", a.value + 1, 1)


def atomic_dec(a: Atomic) -> None:
    """atomic_dec(): drop a reference."""
    ex = current()
    ex.point()
    with ex.atomic:
        _op(ex, a, "atomic_dec", a.value - 1, -1)


def atomic_inc_not_zero(a: Atomic) -> bool:
    """atomic_inc_not_zero(): take a reference unless the count is zero."""
    ex = current()
    ex.point()
    with ex.atomic:
        if a.value == 0:
            if ex.memory_model is not None:
                ex.memory_model.full_barrier(ex.cur.tid)
            if ex.record:
                ex.emit(_ATOMIC, a.addr, "atomic_inc_not_zero", -1, 0)
            return False
        _op(ex, a, "atomic_inc_not_zero", a.value + 1, 1)
        return True


def atomic_dec_and_test(a: Atomic) -> bool:
    """atomic_dec_and_test(): drop a reference; True if it was the last."""
    ex = current()
    ex.point()
    with ex.atomic:
        _op(ex, a, "atomic_dec_and_test", a.value - 1, -1)
        return a.value == 0
