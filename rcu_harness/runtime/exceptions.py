"""Exceptions escaping a simulated thread, and which finding kind they are.

A Python exception in model or scenario code is a finding of kind
``exception`` whose report is the traceback restricted to model and
scenario frames.  ``maple.MaplePreallocExhausted`` (raised by the model's
``mas_pop_node()`` when an operation's bulk preallocation runs out) is the
finding ``prealloc-exhausted``.  ``maple.nullptr.NullPointerDereference`` (a
load or store through the NULL node, where C would dereference NULL) is the
finding ``null-ptr-deref``, reported in the layout of the kernel's oops.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from maple import nullptr
from maple.alloc import MaplePreallocExhausted
from maple.nullptr import NullPointerDereference
from rcu_harness.runtime.callchain import CallChain, from_traceback
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread


def exception_kind(exc: BaseException) -> FindingKind:
    """The finding kind of an exception raised by model or scenario code."""
    if isinstance(exc, NullPointerDereference):
        return FindingKind.NULL_DEREF
    if isinstance(exc, MaplePreallocExhausted):
        return FindingKind.PREALLOC_EXHAUSTED
    return FindingKind.EXCEPTION


def null_deref_violation(ex: Execution, t: SimThread,
                         exc: NullPointerDereference) -> Violation:
    """The kernel's oops for a load or store through a NULL node pointer.

    The call trace starts at the model function that made the access (the
    frames of :mod:`maple.nullptr` that raise are not kernel code).
    """
    raw = from_traceback(exc.__traceback__)
    chain = CallChain(tuple(f for f in raw.frames
                            if f[0].co_filename != nullptr.__file__))
    access = "write" if exc.write else "read"
    body = "\n".join([
        f"BUG: kernel NULL pointer dereference, address: {exc.address:016x}",
        f"#PF: supervisor {access} access in kernel mode",
        f"#PF: error_code(0x000{2 if exc.write else 0}) - not-present page",
        "Oops: 0000 [#1] PREEMPT SMP",
        f"{t.label}: {access} of struct maple_node.{exc.word} through a NULL"
        f" node pointer at step {ex.step}",
        "Call Trace:",
        *chain.lines(),
    ])
    return Violation(
        FindingKind.NULL_DEREF,
        f"kernel NULL pointer dereference in {' <- '.join(chain.names(4))}"
        f" ({access} of maple_node.{exc.word}, address {exc.address:#x})",
        body,
        key=("null-ptr-deref", *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def exception_violation(ex: Execution, t: SimThread,
                        exc: BaseException) -> Violation:
    """A violation for @exc escaping thread @t."""
    if isinstance(exc, NullPointerDereference):
        return null_deref_violation(ex, t, exc)
    chain = from_traceback(exc.__traceback__)
    kind = exception_kind(exc)
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    head = ("BUG: maple tree bulk preallocation exhausted"
            if kind is FindingKind.PREALLOC_EXHAUSTED
            else f"BUG: unhandled exception in task {t.label}")
    body = "\n".join([
        head,
        f"{text}",
        f"in task {t.label} at step {ex.step}",
        "Traceback (model and scenario frames, innermost first):",
        *chain.lines(),
    ])
    return Violation(
        kind,
        f"{type(exc).__name__} in {chain.top()}: {str(exc)[:120]}",
        body,
        key=(type(exc).__name__, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )
