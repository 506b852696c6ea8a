"""Exceptions escaping a simulated thread, and which finding kind they are.

A Python exception in model or scenario code is a finding of kind
``exception`` whose report is the traceback restricted to model and
scenario frames.  ``maple.MaplePreallocExhausted`` (raised by the model's
``mas_pop_node()`` when an operation's bulk preallocation runs out) is the
finding ``prealloc-exhausted``; it is matched by class name until the model
exports it.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from rcu_harness.runtime.callchain import from_traceback
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

PREALLOC_EXHAUSTED_NAMES = ("MaplePreallocExhausted",)


def exception_kind(exc: BaseException) -> FindingKind:
    """The finding kind of an exception raised by model or scenario code."""
    for cls in type(exc).__mro__:
        if cls.__name__ in PREALLOC_EXHAUSTED_NAMES:
            return FindingKind.PREALLOC_EXHAUSTED
    return FindingKind.EXCEPTION


def exception_violation(ex: Execution, t: SimThread,
                        exc: BaseException) -> Violation:
    """A violation for @exc escaping thread @t."""
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
