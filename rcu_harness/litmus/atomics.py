"""Atomic read-modify-writes in exported litmus tests.

The memory model logs each atomic read-modify-write that wrote
(:func:`~rcu_harness.memory.simstruct.field_rmw`) with its ordering and the
kernel primitive its call site names.  The litmus exporter writes it as an
RMW herd7's LKMM (tools/memory-model/linux-kernel.def) knows, with that
ordering:

* a primitive of linux-kernel.def itself (``atomic_inc()``,
  ``atomic_dec_and_test()``, ``atomic_fetch_add_release()``, ``xchg()``,
  ``cmpxchg_acquire()``...) as it is, when the pattern keeps its ordering;
* a refcount_t operation (include/linux/refcount.h), which herd7 does not
  know, as the ``atomic_*`` RMW with the same ordering it is built on:
  ``refcount_sub_and_test()`` and ``refcount_dec_and_test()`` are
  ``atomic_fetch_sub_release()`` (their acquire on reaching zero,
  ``smp_acquire__after_ctrl_dep()``, is the ``smp_rmb()`` the harness runs
  there, which the exporter finds in the log like any barrier),
  ``refcount_add_not_zero()`` and ``refcount_inc_not_zero()`` the
  successful iteration of their ``atomic_try_cmpxchg_relaxed()`` loop, an
  ``atomic_fetch_add_relaxed()`` (a failed one wrote nothing: it is the
  ``atomic_read()`` it began with), ``__refcount_inc_not_zero_limited_acquire()``
  an ``atomic_fetch_add_acquire()``;
* any other (an unnamed RMW, or one whose ordering the fixed pattern
  changes) as ``atomic_fetch_add*()``/``atomic_fetch_sub*()`` with the
  difference it made to an integer, ``xchg*()`` otherwise.

A counter keeps its real values (the litmus test starts the word at the
value the RMW read), so a refcount's test against its real bias
(``VMA_LOCK_OFFSET``) reads the same in the test as in the execution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from rcu_harness.litmus.parse import RMWS, VOID_RMWS
from rcu_harness.memory.access import RmwOrder

SUFFIX = {RmwOrder.RELAXED: "_relaxed", RmwOrder.ACQUIRE: "_acquire",
          RmwOrder.RELEASE: "_release", RmwOrder.FULL: ""}
KERNEL_FORMS = {
    "refcount_add_not_zero": "its atomic_try_cmpxchg_relaxed() loop's "
                             "successful iteration",
    "refcount_inc_not_zero": "its atomic_try_cmpxchg_relaxed() loop's "
                             "successful iteration",
    "__refcount_inc_not_zero_limited_acquire":
        "its atomic_try_cmpxchg_acquire() loop's successful iteration",
    "refcount_sub_and_test": "atomic_fetch_sub_release(), acquire "
                             "(smp_acquire__after_ctrl_dep()) when it reaches zero",
    "refcount_dec_and_test": "atomic_fetch_sub_release(), acquire "
                             "(smp_acquire__after_ctrl_dep()) when it reaches zero",
    "__refcount_dec_and_test": "atomic_fetch_sub_release(), acquire "
                               "(smp_acquire__after_ctrl_dep()) when it reaches zero",
    "refcount_inc": "atomic_fetch_add_relaxed()",
    "refcount_add": "atomic_fetch_add_relaxed()",
    "refcount_dec": "atomic_fetch_sub_release()",
}
"""The refcount_t operations the harness models (include/linux/refcount.h):
what each is built on."""
_ORDERED = re.compile(r"(_relaxed|_acquire|_release)$")
_LIMIT = 1 << 31


@dataclass(frozen=True, slots=True)
class Rmw:
    """One atomic read-modify-write of an execution, as the log has it."""

    order: RmwOrder
    primitive: str
    """The kernel primitive its call site names (``""``: none)."""
    old: Any
    """The value it read."""
    new: Any
    """The value it wrote."""
    was: RmwOrder | None = None
    """Its ordering in the execution, when a fixed pattern changed it."""

    @property
    def numeric(self) -> bool:
        """Are both values integers a litmus test can hold?"""
        return all(type(v) is int and -_LIMIT <= v < _LIMIT
                   for v in (self.old, self.new))

    @property
    def delta(self) -> int:
        """What it added (numeric only)."""
        return int(self.new) - int(self.old)

    def with_order(self, order: RmwOrder) -> Rmw:
        """The same RMW with @order (the fixed pattern's)."""
        return replace(self, order=order, was=self.was or self.order)

    def describe(self) -> str:
        """The primitive, with its ordering (for the test's comment)."""
        name = f"{self.primitive}()" if self.primitive else \
            "an atomic read-modify-write"
        how = KERNEL_FORMS.get(self.primitive) or (self.was or self.order).value
        if self.was is not None:
            how += f"; {self.order.value} in this fixed test"
        return f"{name} ({how})"


def _verbatim(r: Rmw, returning: bool) -> bool:
    """Can @r be written as its own primitive (one linux-kernel.def knows,
    with @r's ordering; returning the value it read if @returning)?"""
    p = r.primitive
    if p in VOID_RMWS:
        return not returning and r.order is RmwOrder.RELAXED
    if p not in RMWS:
        return False
    m = _ORDERED.search(p)
    order = {"_relaxed": RmwOrder.RELAXED, "_acquire": RmwOrder.ACQUIRE,
             "_release": RmwOrder.RELEASE}[m.group(1)] if m else RmwOrder.FULL
    if order is not r.order:
        return False
    return not returning or "fetch" in p or "xchg" in p


def call(r: Rmw, var: str, *, returning: bool, init: str = "0",
         new: str = "1") -> str:
    """The litmus call of @r on @var (``atomic_t *var``), without ``;``:
    its own primitive where it can be, else the ``atomic_fetch_*``/``xchg``
    form with @r's ordering.  @returning: the value read must be the call's
    value (the reader's RMW).  @init: the word's value in the test when the
    RMW runs (a ``cmpxchg`` expects it); @new: the value an ``xchg`` or a
    ``cmpxchg`` writes (a counter's own RMW adds its real difference)."""
    p = r.primitive
    if _verbatim(r, returning):
        if "cmpxchg" in p:
            return f"{p}({var}, {init}, {new})"
        if "xchg" in p:
            return f"{p}({var}, {new})"
        if r.numeric and r.delta:
            if re.search(r"_(inc|dec)(_|$)", p):
                if abs(r.delta) == 1:
                    return f"{p}({var})"
                return _derived(r, var, new)
            by = -r.delta if "sub" in p else r.delta
            return f"{p}({by}, {var})"
    return _derived(r, var, new)


def _derived(r: Rmw, var: str, new: str) -> str:
    sfx = SUFFIX[r.order]
    if r.numeric and r.delta:
        op = "add" if r.delta > 0 else "sub"
        return f"atomic_fetch_{op}{sfx}({abs(r.delta)}, {var})"
    return f"xchg{sfx}({var}, {new})"


def stronger(order: RmwOrder, side: RmwOrder) -> RmwOrder:
    """@order with @side (RELEASE or ACQUIRE) added: the ordering a fixed
    pattern gives an RMW that lacked it."""
    if order is RmwOrder.RELAXED:
        return side
    return order if order is side else RmwOrder.FULL


def releases(order: RmwOrder | None) -> bool:
    """Does an RMW of @order order what its thread did before its store?"""
    return order is RmwOrder.RELEASE or order is RmwOrder.FULL


def acquires(order: RmwOrder | None) -> bool:
    """Does an RMW of @order order its thread's later accesses after its read?"""
    return order is RmwOrder.ACQUIRE or order is RmwOrder.FULL
