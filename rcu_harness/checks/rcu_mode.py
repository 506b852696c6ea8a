"""RCU-mode transitions are serialised with writers.

A store to ``ma_flags`` that flips ``MT_FLAGS_USE_RCU`` must be made with
the tree lock held (unless the tree has an external lock), and while no
other thread is inside a write operation on that tree (declared with
``h.writing()`` / ``h.write_op_begin()``): writers sample the flag once per
operation, so a flip in the middle of one leaves it writing in the wrong
mode, and a read-modify-write of the flags can lose the flip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.checks.observer import Observer
from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.sync.spinlock import SpinLock

MT_FLAGS_USE_RCU = 0x02


class RcuModeCheck(Observer):
    """Flips of MT_FLAGS_USE_RCU must not race with writers."""

    def flags_store(self, ex: Execution, t: SimThread, mt: Any, old: int,
                    new: int, lock: SpinLock | None) -> None:
        """Check a store of ma_flags."""
        if not (old ^ new) & MT_FLAGS_USE_RCU:
            return
        problem = ""
        if lock is not None and lock.owner is not t:
            problem = f"without holding {lock.name}"
        others = [u.label for u in ex.threads
                  if u is not t and u.write_ops.get(mt)]
        if others:
            problem = "while " + ", ".join(others) + " is inside a write operation"
        if not problem:
            return
        chain = capture(1)
        func = chain.top()
        mode = "enters" if new & MT_FLAGS_USE_RCU else "leaves"
        body = "\n".join([
            "WARNING: RCU-mode transition not serialised with writers",
            f"task {t.label}: tree {getattr(mt, 'name', '?')} {mode} RCU mode "
            f"(ma_flags {old:#x} -> {new:#x}) {problem}, at step {ex.step}",
            "Call trace:", *chain.lines()])
        ex.fail(Violation(FindingKind.RCU_MODE,
                          f"ma_flags RCU bit flipped {problem} in {func}",
                          body, key=(func, mode, "lock" if not others else "op"),
                          thread=t.label, step=ex.step))
