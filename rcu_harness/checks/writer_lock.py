"""Writers hold the tree lock: no unlocked store to a published word.

Every store to a published maple node, to ``ma_root`` or to ``ma_flags``
(and to a published :class:`~rcu_harness.memory.simstruct.SimStruct` with a
guard lock) must be made by the thread holding the protecting lock: the
tree's spinlock, or for a tree with ``MT_FLAGS_LOCK_EXTERN`` the external
lock set with ``mt_set_external_lock()`` (the mm's mmap_lock, held for
write).  An external tree with no lock set is not checked (the port passes
``lock=None``), and RCU callbacks (``rcu_gp``) own the dead objects they
scribble on.  A VMA under per-VMA locks is protected by its VMA lock, whose
rule this checker applies through the lock
(:meth:`rcu_harness.checks.vma_lock.VmaLockState.check_store`).
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


class WriterLockCheck(Observer):
    """Stores to published words need the protecting lock."""

    def store(self, ex: Execution, t: SimThread, target: object, word: str,
              index: int, value: object, lock: SpinLock | None) -> None:
        """Fail if @t does not hold @lock."""
        if lock is None or lock.owner is t or t.tid == 0:
            return
        if getattr(lock, "per_vma", False):
            guard: Any = lock
            guard.check_store(ex, t, word)
            return
        chain = capture(1)
        func = chain.top()
        where = f"{word}[{index}]" if index >= 0 else word
        addr = getattr(target, "addr", 0)
        owner = lock.owner.label if lock.owner else "nobody"
        body = "\n".join([
            "WARNING: store to a published object without its lock",
            f"task {t.label} stores {where} of {type(target).__name__} at "
            f"{addr:x} at step {ex.step}",
            f"protecting lock {lock.name} is held by {owner}",
            "Call trace:", *chain.lines()])
        ex.fail(Violation(FindingKind.WRITER_LOCK,
                          f"unlocked store to {where} in {func} by {t.label} "
                          f"({lock.name} not held)",
                          body, key=(func, word), thread=t.label, step=ex.step))
