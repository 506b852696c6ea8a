"""mt_validate() after every completed write operation.

Scenario code calls ``h.write_op_done(mt)`` (or uses ``h.writing()``); the
checker then runs ``maple.mt_validate(mt)`` unobserved (no scheduling
points, no events) when the model provides it, with the tree's nodes in
their quiet view when the port has one (plain loads, in C: see
:func:`rcu_harness.memory.maple_node.quiet_view`).  An exception from it names
the broken invariant and becomes an ``mt-validate`` finding.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.fast_validate import Unpatched, tree_is_valid
from rcu_harness.checks.observer import Observer
from rcu_harness.memory.maple_port import InstrumentedPort
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


_MODEL = find_mt_validate()
_UNPATCHED = Unpatched(_MODEL) if _MODEL is not None else None
"""What the model's mt_validate() reaches, taken at import (before any
mutant's patches; :class:`~rcu_harness.checks.fast_validate.Unpatched`)."""


class MtValidateCheck(Observer):
    """Run mt_validate() at the end of each write operation."""

    def __init__(self, validate: Callable[[Any], object] | None = None) -> None:
        self.validate = validate if validate is not None else find_mt_validate()
        self._fast: tuple[Execution, bool] | None = None
        """May the fast pass decide in this execution (computed at its
        first write: patches, hooks and the memory model are fixed before
        setup)?  Not under a hook that changes what loads read or tracks
        stores (a memory model, reads-from coverage); a passive one (a
        strategy's pending accesses) changes nothing mt_validate() reads."""

    def _fast_ok(self, ex: Execution) -> bool:
        fast = self._fast
        if fast is None or fast[0] is not ex:
            fast = self._fast = (ex, bool(
                self.validate is _MODEL and _UNPATCHED is not None and _UNPATCHED()
                and (ex.access_hook is None or ex.access_hook.passive)
                and ex.memory_model is None))
        return fast[1]

    def write_op_done(self, ex: Execution, t: SimThread, mt: Any) -> None:
        """Validate @mt; a failure is a finding."""
        if self.validate is None or not hasattr(mt, "ma_root"):
            return
        port: Any = getattr(mt, "port", None)
        if type(port) is InstrumentedPort and self._fast_ok(ex) \
                and tree_is_valid(mt):
            return
        quiet_nodes = getattr(port, "quiet_nodes", None)
        ex.quiet += 1
        nodes = quiet_nodes() if quiet_nodes is not None else None
        error: Exception | None = None
        try:
            self.validate(mt)
        except Exception as exc:
            error = exc
        finally:
            if nodes is not None:
                port.observe_again(nodes)
            ex.quiet -= 1
        if error is None:
            return
        chain = from_traceback(error.__traceback__)
        body = "\n".join([
            f"BUG: mt_validate() failed after a write by {t.label} at step "
            f"{ex.step}",
            f"{type(error).__name__}: {error}",
            "Traceback (model frames, innermost first):", *chain.lines()])
        ex.fail(Violation(FindingKind.MT_VALIDATE,
                          f"mt_validate: {str(error)[:160]}", body,
                          key=(type(error).__name__, chain.top()),
                          thread=t.label, step=ex.step))
