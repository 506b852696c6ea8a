"""lockdep-RCU: ``suspicious rcu_dereference_check() usage``.

A load from a published object must be made inside an RCU read-side section
or with the lock that protects the object held (``rcu_dereference_check(p,
lockdep_is_held(lock))``).  For maple nodes every load of a published node
is checked against the tree's lock (the model loads node words directly,
where the kernel would use ``mt_slot()`` / ``mt_slot_locked()``); for
:class:`~rcu_harness.memory.simstruct.SimStruct` objects the check is made
by ``rcu_dereference()`` and friends.  RCU callbacks (run by ``rcu_gp``) are
exempt: they own the object by then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution


def suspicious_rcu_usage(ex: Execution, obj: Any, where: str,
                         lock: Any) -> Violation:
    """The lockdep splat for an unprotected load from a published object."""
    t = ex.cur
    chain = capture(2)
    func = chain.top()
    frames = chain.model_frames()
    loc = (f"{frames[0][0].co_filename.rsplit('/', 1)[-1]}:{frames[0][1]}"
           if frames else "?")
    held = t.locks_held
    lines = [
        "=============================",
        "WARNING: suspicious RCU usage",
        "-----------------------------",
        f"{loc} suspicious rcu_dereference_check() usage!",
        "",
        "other info that might help us debug this:",
        "",
        f"load of {where} at {getattr(obj, 'addr', 0):x} "
        f"({type(obj).__name__}) at step {ex.step}",
        f"protecting lock: {getattr(lock, 'name', 'none')}",
        f"rcu_scheduler_active = 2, debug_locks = 1, RCU nest depth "
        f"{t.rcu_nesting}",
        (f"{len(held)} lock(s) held by {t.label}: "
         + ", ".join(getattr(lk, "name", "?") for lk in held))
        if held else f"no locks held by {t.label}.",
        "",
        "stack backtrace:",
        *chain.lines(),
    ]
    return Violation(FindingKind.LOCKDEP_RCU,
                     f"suspicious rcu_dereference_check() usage in {func}: "
                     f"{t.label} loads {where} outside rcu_read_lock() without "
                     f"{getattr(lock, 'name', 'the lock')}",
                     "\n".join(lines), key=(func, where.split("[")[0]),
                     thread=t.label, step=ex.step,
                     access=f"Read {where} outside rcu_read_lock()")
