"""Violations of the RCU read-side rules, in lockdep's wording.

Unbalanced ``rcu_read_unlock()`` and a task exiting while still inside a
read-side section.  Sleeping inside one is reported by the may-sleep points
(:mod:`rcu_harness.sync.sleep`), which also know about spinlocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread


def bad_unlock(ex: Execution, t: SimThread) -> Violation:
    """rcu_read_unlock() with no matching rcu_read_lock()."""
    chain = capture(2)
    body = "\n".join([
        "WARNING: bad unlock balance detected!",
        f"task {t.label} is trying to release lock (rcu_read_lock) at step "
        f"{ex.step}:",
        *chain.lines(),
        "but there are no more locks to release!",
    ])
    return Violation(FindingKind.RCU_UNBALANCED,
                     f"rcu_read_unlock() without rcu_read_lock() in {chain.top()}",
                     body, key=("rcu_read_unlock", chain.top()),
                     thread=t.label, step=ex.step)


def exit_in_section(ex: Execution, t: SimThread) -> Violation:
    """A task returned while still inside a read-side section."""
    body = "\n".join([
        "WARNING: lock held when returning to user space!",
        f"task {t.label} is leaving the kernel with locks still held!",
        f"{t.rcu_nesting} lock(s) held: rcu_read_lock (RCU nest depth "
        f"{t.rcu_nesting}) at step {ex.step}",
    ])
    return Violation(FindingKind.RCU_EXIT,
                     f"task {t.label} exited inside an RCU read-side section",
                     body, key=("exit-in-rcu", t.name), thread=t.label,
                     step=ex.step)
