"""mt_validate() after every completed write operation.

Scenario code calls ``h.write_op_done(mt)`` (or uses ``h.writing()``); the
checker then runs ``maple.mt_validate(mt)`` unobserved (no scheduling
points, no events) when the model provides it.  An exception from it names
the broken invariant and becomes an ``mt-validate`` finding.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.observer import Observer
from rcu_harness.runtime.callchain import from_traceback
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread


def find_mt_validate() -> Callable[[Any], object] | None:
    """``maple.mt_validate`` if the model has it yet."""
    try:
        maple = importlib.import_module("maple")
    except ImportError:
        return None
    fn = getattr(maple, "mt_validate", None)
    return fn if callable(fn) else None


class MtValidateCheck(Observer):
    """Run mt_validate() at the end of each write operation."""

    def __init__(self, validate: Callable[[Any], object] | None = None) -> None:
        self.validate = validate if validate is not None else find_mt_validate()

    def write_op_done(self, ex: Execution, t: SimThread, mt: Any) -> None:
        """Validate @mt; a failure is a finding."""
        if self.validate is None or not hasattr(mt, "ma_root"):
            return
        ex.quiet += 1
        try:
            self.validate(mt)
        except Exception as exc:
            chain = from_traceback(exc.__traceback__)
            body = "\n".join([
                f"BUG: mt_validate() failed after a write by {t.label} at step "
                f"{ex.step}",
                f"{type(exc).__name__}: {exc}",
                "Traceback (model frames, innermost first):", *chain.lines()])
            ex.quiet -= 1
            ex.fail(Violation(FindingKind.MT_VALIDATE,
                              f"mt_validate: {str(exc)[:160]}", body,
                              key=(type(exc).__name__, chain.top()),
                              thread=t.label, step=ex.step))
            return
        ex.quiet -= 1
