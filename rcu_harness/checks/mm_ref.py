"""A lockless reader of an mm holds a reference (``mm_users``) throughout.

Scenario code brackets a lockless read with ``h.reader_enter(mm)`` /
``h.reader_exit(mm)``.  At entry the thread must hold a reference it took
(``atomic_inc``, a successful ``atomic_inc_not_zero``) or was spawned with
(``h.spawn(..., refs=(mm.mm_users,))``), and the count must be positive;
dropping its last reference before the exit, or finishing inside the read,
is an ``mm-ref`` finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.checks.observer import Observer
from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.sync.atomic import Atomic


def _violation(ex: Execution, t: SimThread, users: Atomic, what: str) -> Violation:
    chain = capture(2)
    body = "\n".join([
        "BUG: lockless mm reader without a reference",
        f"task {t.label} {what} ({users.name} = {users.value}, references held"
        f" by the task: {t.refs.get(users, 0)}) at step {ex.step}",
        "Call trace:", *chain.lines()])
    return Violation(FindingKind.MM_REF, f"{t.label} {what} in {chain.top()}",
                     body, key=(what, chain.top()), thread=t.label, step=ex.step)


class MmRefCheck(Observer):
    """Readers declared with reader_enter() hold an mm reference."""

    def reader_enter(self, ex: Execution, t: SimThread, users: Atomic) -> None:
        """The reader must hold a reference now."""
        if t.refs.get(users, 0) <= 0 or users.value <= 0:
            ex.fail(_violation(ex, t, users,
                               "starts a lockless read without holding mm_users"))

    def atomic_op(self, ex: Execution, t: SimThread, atomic: Atomic, op: str,
                  old: int, new: int) -> None:
        """Dropping the last reference inside the read is a bug."""
        if t.reader_of.get(atomic) and t.refs.get(atomic, 0) <= 0:
            ex.fail(_violation(ex, t, atomic,
                               f"drops its mm reference ({op}) inside a lockless"
                               " read"))

    def thread_exit(self, ex: Execution, t: SimThread) -> None:
        """A reader must end its read before finishing."""
        for users in t.reader_of:
            ex.fail(_violation(ex, t, users, "exits inside a lockless read"))
            return
