"""SimStruct: instrumented structs for hand-written test programs.

A subclass declares its words, ``fields = ("next", "value")``; every read
or write of such an attribute on a *published* object is a scheduling point
and is poison-checked, exactly like a maple node word.  Objects come from
``kmalloc(cls, **fields)`` and go back with ``kfree()`` or ``kfree_rcu()``;
globals (list heads) come from ``h.static(cls, ...)`` and are never freed.

Publication: a global is published from the start; a ``kmalloc``'ed object
is private to its creator until a pointer to it is stored into a published
object (``rcu_assign_pointer()`` or a plain store), which publishes it and,
recursively, the private objects it points to.  Accesses to private objects
are not scheduling points (no other thread can reach them) but are still
poison-checked.  A published object inherits the *guard* lock of the object
it was published into; stores to it by a thread not holding the guard are
reported by the writer-lock checker, and ``rcu_dereference()`` of it outside
a read-side section without the guard is a lockdep-RCU splat.  An object
given a guard of its own before publication (a VMA's per-VMA lock state)
keeps it.  ``field_rmw()`` is an atomic read-modify-write of one field (a
cmpxchg, a refcount_t operation).

Under an access hook (a weak memory model, :mod:`rcu_harness.memory.access`)
every load and store of a field while the threads run goes to the hook,
private and unobserved stores included; ``READ_ONCE()``/``WRITE_ONCE()``
are the plain field accesses (every access is a marked one), and
:func:`smp_store_release`, :func:`smp_load_acquire`, :func:`rcu_assign_pointer`
and the barriers of :mod:`rcu_harness.kernel` order them.

Not modelled: field sizes (every field is one 8-byte word), unpublishing
(publication is sticky: a removed object may still be reached by readers
that loaded a pointer to it before, until it is freed).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.heap import FREED, PUBLISHED, RETIRED, SLAB_FREE
from rcu_harness.memory.kasan import use_after_free
from rcu_harness.memory.lockdep import suspicious_rcu_usage
from rcu_harness.rcu.api import call_rcu
from rcu_harness.runtime.current import current
from rcu_harness.runtime.exceptions import STRUCT_FIELDS
from rcu_harness.runtime.pending import word_access
from rcu_harness.runtime.thread import Phase
from rcu_harness.sync.flow import sync_point
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.memory.records import AllocRecord
    from rcu_harness.memory.wmm.api import MemoryModel
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.sync.spinlock import SpinLock

_LOAD = EventKind.LOAD.value
_ATOMIC = EventKind.ATOMIC.value
_NO_WRITE = FREED | SLAB_FREE
"""Watch bits under which a store is a use after free: freed, or free in a
SLAB_TYPESAFE_BY_RCU cache (readable, but nobody may write it)."""
_STORE = EventKind.STORE.value
_RUN = Phase.RUN
_getframe = sys._getframe
S = TypeVar("S", bound="SimStruct")


class SimStruct:
    """Base of instrumented structs; subclasses set ``fields``."""

    __slots__ = ("_ex", "_lock", "_rec", "_v", "_w", "addr")
    fields: ClassVar[tuple[str, ...]] = ()
    _ex: Execution
    _lock: Any
    """The guard: a SpinLock (or anything with ``owner`` and ``name``), None."""
    _rec: AllocRecord
    _v: list[Any]
    _w: int
    addr: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for i, name in enumerate(cls.fields):
            setattr(cls, name, _field(i, name))
            STRUCT_FIELDS.setdefault(name, (cls.__name__, i * 8))

    def __init__(self) -> None:
        raise TypeError(f"allocate {type(self).__name__} with kmalloc() or "
                        "h.static(), not by calling the class")

    def word_offset(self, word: str, index: int) -> int:
        """Byte offset of field @word."""
        return self.fields.index(word) * 8 if word in self.fields else 0

    def rcu_summary(self) -> str:
        """Deterministic summary for traces."""
        return f"{type(self).__name__}@{self.addr:#x}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.addr:#x}>"


def _field(i: int, name: str) -> property:
    """The descriptor of field @name: the plain path is one bit test."""

    def fget(self: SimStruct) -> Any:
        w = self._w
        if not w:
            return self._v[i]
        ex = self._ex
        if w & PUBLISHED and not ex.quiet:
            if ex.access_hook is not None:
                return _hooked_load(ex, self, i, name)
            if ex.lease:  # Execution.point(), inlined (_point_kept's lease)
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                step = ex.step = ex.step + 1
                if step > ex.max_steps:
                    ex.livelock()
                if len(ex.runnable) > 1:
                    ex.decide()
            if self._w > PUBLISHED:
                _dead_read(ex, self, name)
            value = self._v[i]
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _LOAD, self.addr, name,
                                  -1, value,
                                  _getframe(1).f_code if ex.record > 1 else None))
            return value
        if w & FREED:
            _uaf(ex, self, "Read", name)
        return self._v[i]

    def fset(self: SimStruct, value: Any) -> None:
        w = self._w
        if not w:
            ex = self._ex
            if ex.access_hook is not None and ex.phase is _RUN:
                ex.access_hook.store(ex, self, name, -1, value)
            if isinstance(value, SimStruct):
                _store_private_pointer(self, i, value)
            else:
                self._v[i] = value
            return
        ex = self._ex
        if ex.access_hook is not None and (ex.quiet or not w & PUBLISHED) \
                and ex.phase is _RUN:
            ex.access_hook.store(ex, self, name, -1, value)  # unobserved
        if w & PUBLISHED and not ex.quiet:
            if ex.access_hook is not None:
                _hooked_store(ex, self, i, name, value)
                return
            if ex.lease:  # Execution.point(), inlined (_point_kept's lease)
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                step = ex.step = ex.step + 1
                if step > ex.max_steps:
                    ex.livelock()
                if len(ex.runnable) > 1:
                    ex.decide()
            w = self._w
            if w & _NO_WRITE:
                _uaf(ex, self, "Write", name)
            lock = self._lock
            if lock is not None:
                for hook in ex.hooks.store:
                    hook(ex, ex.cur, self, name, -1, value, lock)
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _STORE, self.addr, name,
                                  -1, value,
                                  _getframe(1).f_code if ex.record > 1 else None))
        elif w & _NO_WRITE:
            _uaf(ex, self, "Write", name)
        if w & PUBLISHED and isinstance(value, SimStruct) and \
                not value._w & PUBLISHED:
            publish(value, guard=self._lock)
        self._v[i] = value

    return property(fget, fset, doc=f"instrumented field {name!r}")


def _hooked_load(ex: Execution, obj: SimStruct, i: int, name: str) -> Any:
    """An observed load of field @name through ``ex.access_hook``: the
    pending access, the point, the poison check, the hook, the event."""
    hook = ex.access_hook
    assert hook is not None
    if hook.wants_pending:
        ex.cur.pending = word_access(obj.addr, name, False)
    ex.point()
    if obj._w > PUBLISHED:
        _dead_read(ex, obj, name)
    value = obj._v[i]
    if not hook.passive:
        value = hook.load(ex, obj, name, -1, value)
    ex.cur.pending = None
    if ex.record:
        shown = hook.last_read if hook.last_read is not None else value
        ex.events.append((ex.step, ex.cur_tid, _LOAD, obj.addr, name, -1, shown,
                          _getframe(2).f_code if ex.record > 1 else None))
    return value


def _hooked_store(ex: Execution, obj: SimStruct, i: int, name: str,
                  value: Any) -> None:
    """An observed store of field @name through ``ex.access_hook``."""
    hook = ex.access_hook
    assert hook is not None
    if hook.wants_pending:
        ex.cur.pending = word_access(obj.addr, name, True)
    ex.point()
    if obj._w & FREED:
        _uaf(ex, obj, "Write", name)
    lock = obj._lock
    if lock is not None:
        for check in ex.hooks.store:
            check(ex, ex.cur, obj, name, -1, value, lock)
    if not hook.passive:
        hook.store(ex, obj, name, -1, value)
    ex.cur.pending = None
    if ex.record:
        ex.events.append((ex.step, ex.cur_tid, _STORE, obj.addr, name, -1, value,
                          _getframe(2).f_code if ex.record > 1 else None))
    if obj._w & PUBLISHED and isinstance(value, SimStruct) and \
            not value._w & PUBLISHED:
        publish(value, guard=obj._lock)
    obj._v[i] = value


def _store_private_pointer(obj: SimStruct, i: int, value: SimStruct) -> None:
    obj._v[i] = value


def _dead_read(ex: Execution, obj: SimStruct, name: str) -> None:
    """A load from a freed (a finding) or retired (sampled) object; a load
    from an object free in a SLAB_TYPESAFE_BY_RCU cache is legal."""
    w = obj._w
    if w & FREED:
        _uaf(ex, obj, "Read", name)
    elif w & RETIRED:
        ex.heap.retired_read(obj._rec, obj._lock)


def _uaf(ex: Execution, obj: SimStruct, access: str, name: str) -> None:
    rec = ex.heap.record_of(obj)
    if rec is not None:
        ex.fail(use_after_free(ex, rec, access, name, -1))


def field_rmw(obj: SimStruct, name: str, fn: Callable[[Any], Any],
              order: RmwOrder = RmwOrder.FULL, *,
              conditional: bool = False, primitive: str = "") -> Any:
    """An atomic read-modify-write of field @name (``atomic_cmpxchg()`` and
    the refcount_t operations built on it): one scheduling point, then
    ``fn(old)`` gives the new value, stored in the same step unless it equals
    the old one (a failed cmpxchg writes nothing).  Returns the old value.
    Poison-checked like a load (and a store, when it writes); not passed to
    the store hooks (a lock word changes under no lock).

    Under a weak memory model the RMW goes through it with @order, the
    ordering of the kernel primitive the call site models (the read of the
    newest store and the store are one atomic step); @conditional is a
    ``try_cmpxchg()`` loop behind ``refcount_inc_not_zero()`` and friends,
    whose first read is a plain ``atomic_read()``: a value it reads (any
    store the model allows) on which @fn fails ends the operation without a
    write, else the RMW runs on the newest store.  Under sc both are the one
    atomic step above.  @primitive names the kernel primitive the call site
    models (``refcount_dec_and_test``, ``atomic_fetch_add_release``...): the
    model logs it, and the litmus exporter writes the RMW as that primitive
    (:mod:`rcu_harness.litmus.atomics`)."""
    ex = obj._ex
    i = obj.fields.index(name)
    w = obj._w
    hook = ex.access_hook
    if w & PUBLISHED and not ex.quiet:
        if hook is not None and ex.memory_model is None:
            sync_point(ex, obj, name)
        else:
            ex.point()
        w = obj._w
    if w & FREED:
        _uaf(ex, obj, "Read", name)
    mm = ex.memory_model
    if mm is not None and ex.phase is _RUN:
        return _model_rmw(ex, mm, obj, i, name, fn, order, conditional, primitive)
    old = obj._v[i]
    new = fn(old)
    if hook is not None and ex.phase is _RUN:  # a read, and a write if it writes
        if w & PUBLISHED and not ex.quiet:
            hook.load(ex, obj, name, -1, old)
        if new != old:
            hook.store(ex, obj, name, -1, new)
    if new != old:
        if w & SLAB_FREE:
            _uaf(ex, obj, "Write", name)
        obj._v[i] = new
    ex.emit(_ATOMIC, obj.addr, name, -1, new)
    return old


def _model_rmw(ex: Execution, mm: MemoryModel, obj: SimStruct, i: int,
               name: str, fn: Callable[[Any], Any], order: RmwOrder,
               conditional: bool, primitive: str) -> Any:
    """field_rmw() under a memory model, after its point and read check."""
    hook = ex.access_hook
    if conditional and hook is not None:
        seen = hook.load(ex, obj, name, -1, obj._v[i])  # atomic_read()
        if fn(seen) == seen:
            if ex.record and not ex.quiet:
                shown = hook.last_read if hook.last_read is not None else seen
                ex.events.append((ex.step, ex.cur_tid, _LOAD, obj.addr, name,
                                  -1, shown,
                                  _getframe(2).f_code if ex.record > 1 else None))
            return seen
    old, new = mm.rmw(ex, obj, name, fn, order, obj._v[i], primitive)
    if new is not old:
        if obj._w & SLAB_FREE:
            _uaf(ex, obj, "Write", name)
        obj._v[i] = new
    ex.emit(_ATOMIC, obj.addr, name, -1, new)
    return old


def acquire_next(obj: SimStruct) -> None:
    """The current thread's next load is an acquire: ``smp_load_acquire()``
    written out at a call site that must stay the frame of its load (the
    trace names the function of each access).  Nothing under sc."""
    model = obj._ex.memory_model
    if model is not None:
        model.acquire_next()


def field_set_release(obj: SimStruct, name: str, value: Any) -> None:
    """``refcount_set_release()``, ``atomic_set_release()``: a release store
    of field @name, an atomic step as :func:`field_rmw` makes it (under sc
    the same step: an RMW that writes @value), under a weak memory model a
    release store (it reads nothing)."""
    ex = obj._ex
    mm = ex.memory_model
    hook = ex.access_hook
    if mm is None or hook is None or ex.phase is not _RUN:
        field_rmw(obj, name, lambda c: value)
        return
    w = obj._w
    if w & PUBLISHED and not ex.quiet:
        ex.point()
        w = obj._w
    if w & _NO_WRITE:
        _uaf(ex, obj, "Write", name)
    mm.release_next()
    hook.store(ex, obj, name, -1, value)
    mm.plain_next()
    obj._v[obj.fields.index(name)] = value
    ex.emit(_ATOMIC, obj.addr, name, -1, value)


def publish(obj: SimStruct, *, guard: Any = None) -> None:
    """Make @obj (and the private objects it points to) reachable by all."""
    if obj._w & PUBLISHED:
        return
    obj._w |= PUBLISHED
    if guard is not None or obj._lock is None:
        obj._lock = guard
    for value in obj._v:
        if isinstance(value, SimStruct) and not value._w & PUBLISHED:
            publish(value, guard=guard)


def _new(ex: Execution, cls: type[S], init: dict[str, Any]) -> S:
    obj = cls.__new__(cls)
    obj._ex = ex
    obj._v = [None] * len(cls.fields)
    obj._w = 0
    obj._lock = None
    for name, value in init.items():
        obj._v[cls.fields.index(name)] = value
    return obj


def kmalloc(cls: type[S], **init: Any) -> S:
    """kmalloc(sizeof(*p)): a private, zeroed (None) @cls with @init fields."""
    ex = current()
    hook = ex.access_hook if ex.phase is _RUN else None
    obj = _new(ex, cls, init if hook is None else {})
    size = 8 * max(1, len(cls.fields))
    obj.addr = ex.heap.new_addr(size)
    obj._rec = ex.heap.register(obj, obj.addr, size, cls.__name__)
    if hook is not None:  # the initialising stores, as a memory model sees them
        for name, value in init.items():
            hook.store(ex, obj, name, -1, value)
            obj._v[cls.fields.index(name)] = value
    return obj


def static(cls: type[S], *, guard: SpinLock | None = None, **init: Any) -> S:
    """A global @cls: published from the start, never freed."""
    ex = current()
    obj = _new(ex, cls, init)
    obj.addr = ex.heap.static_addr()
    obj._rec = ex.heap.register(obj, obj.addr, 8 * max(1, len(cls.fields)),
                                cls.__name__, leak_checked=False)
    publish(obj, guard=guard)
    return obj


def kfree(obj: Any) -> None:
    """kfree(): free @obj now."""
    ex = current()
    if ex.in_threads:
        ex.point()
    ex.heap.free(obj)


def kfree_rcu_cb(obj: Any) -> None:
    """The RCU callback of kfree_rcu()."""
    current().heap.free(obj)


def kfree_rcu(obj: Any) -> None:
    """kfree_rcu(): free @obj after a grace period."""
    call_rcu(obj, kfree_rcu_cb)


def rcu_assign_pointer(obj: SimStruct, name: str, value: Any) -> None:
    """rcu_assign_pointer(obj->name, value): publish @value through @obj
    (a release store)."""
    mm = obj._ex.memory_model
    if mm is None:
        setattr(obj, name, value)
        return
    mm.release_next()
    setattr(obj, name, value)
    mm.plain_next()


def _check_protected(ex: Execution, obj: SimStruct, name: str,
                     ok: bool) -> None:
    if ok or not obj._w & PUBLISHED or not ex.in_threads:
        return
    t = ex.cur
    if t.rcu_nesting or (obj._lock is not None and obj._lock.owner is t) or \
            t.tid == 0:
        return
    ex.fail(suspicious_rcu_usage(ex, obj, name, obj._lock))


def rcu_dereference(obj: SimStruct, name: str) -> Any:
    """rcu_dereference(obj->name): needs rcu_read_lock() or the guard lock."""
    _check_protected(current(), obj, name, False)
    return getattr(obj, name)


def rcu_dereference_check(obj: SimStruct, name: str, cond: bool) -> Any:
    """rcu_dereference_check(obj->name, cond)."""
    _check_protected(current(), obj, name, cond)
    return getattr(obj, name)


def rcu_dereference_protected(obj: SimStruct, name: str, lock: SpinLock) -> Any:
    """rcu_dereference_protected(obj->name, lockdep_is_held(lock))."""
    ex = current()
    if ex.in_threads and lock.owner is not ex.cur:
        ex.fail(suspicious_rcu_usage(ex, obj, name, lock))
    return getattr(obj, name)
