"""Per-VMA locks: readers see a stable VMA, writers write-lock what they change.

Every VMA of an mm with per-VMA locks carries a :class:`VmaLockState` as its
guard (the ``_lock`` of the instrumented struct, kept when the VMA is
published into the tree).  The mm model (:mod:`rcu_harness.scenarios.vma`)
tells it when a thread's ``vma_start_read()`` succeeded and when it called
``vma_end_read()``, when the VMA was attached to a tree and detached, and
when it was freed; a subclass answers the two lock questions only the mm
model can (is the VMA write-locked by this thread in the current mmap_lock
cycle; does the thread hold the mm's mmap_lock).  The rules:

* **stable under the read lock**: no thread stores to a field of a VMA
  while another thread holds it read-locked (between a successful
  ``vma_start_read()`` and its ``vma_end_read()``), frees it, or hands the
  memory out again (SLAB_TYPESAFE_BY_RCU reuse: the re-initialising stores
  are such stores);
* **vma_assert_write_locked()**: a store to a field of an *attached* VMA
  needs the VMA write-locked by the storing thread in the current
  mmap_lock cycle (``vma_start_write()`` since its ``mmap_write_lock()``),
  except for the fault-owned words (:data:`FAULT_WORDS`: the stand-ins for
  the page tables a fault fills and the anon_vma it prepares), which a
  thread holding the VMA's read lock or the mm's mmap_lock for read may
  store too (faults serialise among themselves with the page table lock);
* **no use without revalidation**: a fault that *uses* a VMA
  (:meth:`VmaLockState.use`, the fault work reading the fields it relies
  on) holds its read lock (or the mm's mmap_lock), and the VMA is still what
  the fault looked up: attached, of the fault's mm, covering its address --
  not detached, freed, or reused for another VMA or another mm;
* **no reference leak**: a thread finishes holding no VMA read lock.

The lock words themselves (:data:`LOCK_WORDS`: ``vm_lock_seq``,
``vm_refcnt``, ``detached``) change without a lock and are not checked
here; ``vma_mark_detached()`` asserts the write lock itself
(:meth:`VmaLockState.assert_write_locked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.checks.observer import Observer
from rcu_harness.memory.heap import FREED, SLAB_FREE
from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread

LOCK_WORDS = frozenset(("vm_lock_seq", "vm_refcnt", "detached"))
"""Words of the lock itself."""
FAULT_WORDS = frozenset(("vm_pte", "anon_vma"))
"""Words a fault may store under the VMA's read lock (or the mmap_lock)."""
HOLDS = "vma_holds"
"""``ex.context`` key: tid -> the VMA lock states the thread holds for read."""


@dataclass(frozen=True, slots=True)
class ReadHold:
    """One successful vma_start_read() not yet ended."""

    thread: str
    mm: object
    address: int
    step: int


class VmaLockState:
    """The per-VMA lock as the checker sees it; the mm model subclasses it."""

    __slots__ = ("attached", "holds", "vma")
    per_vma = True
    """Tells the writer-lock checker this guard is checked here."""

    def __init__(self, vma: Any) -> None:
        self.vma = vma
        self.attached = False
        self.holds: dict[int, ReadHold] = {}
        """tid -> its read hold."""

    # -- what only the mm model knows ---------------------------------------
    def write_locked_by(self, t: SimThread) -> bool:
        """__is_vma_write_locked(): @t holds the mm's mmap_lock for write and
        the VMA's vm_lock_seq is the mm's current sequence."""
        raise NotImplementedError

    def mmap_locked_by(self, t: SimThread) -> bool:
        """Does @t hold the VMA's mm's mmap_lock (either mode)?"""
        raise NotImplementedError

    def mmap_read_locked_by(self, t: SimThread) -> bool:
        """Does @t hold the VMA's mm's mmap_lock for read?"""
        raise NotImplementedError

    def identity(self) -> tuple[object, int, int]:
        """The VMA's (vm_mm, vm_start, vm_end) now, read without observing."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """How reports name this lock."""
        return f"vm_lock of VMA {getattr(self.vma, 'addr', 0):#x}"

    @property
    def owner(self) -> SimThread | None:
        """Nobody owns a VMA as a spinlock is owned (lockdep-RCU asks)."""
        return None

    # -- events from the mm model ---------------------------------------------
    def read_locked(self, ex: Execution, mm: object, address: int) -> None:
        """The current thread's vma_start_read() succeeded."""
        t = ex.cur
        self.holds[t.tid] = ReadHold(t.label, mm, address, ex.step)
        ex.context.setdefault(HOLDS, {}).setdefault(t.tid, []).append(self)

    def read_unlocked(self, ex: Execution) -> None:
        """The current thread called vma_end_read()."""
        t = ex.cur
        if self.holds.pop(t.tid, None) is None:
            ex.fail(_violation(ex, t, "vma_end_read() of a VMA it has not "
                               "read-locked", "unbalanced"))
            return
        ex.context[HOLDS][t.tid].remove(self)

    def assert_write_locked(self, ex: Execution, what: str) -> None:
        """vma_assert_write_locked() at @what (a kernel assertion site)."""
        t = ex.cur
        if ex.in_threads and self.attached and not self.write_locked_by(t):
            ex.fail(_violation(ex, t, f"{what} of a VMA not write-locked "
                               "(vma_assert_write_locked)", "assert", what))

    def freed(self, ex: Execution) -> None:
        """The VMA is being freed (or queued for its grace period)."""
        self._readers_conflict(ex, ex.cur, "frees")

    def use(self, ex: Execution, mm: object, address: int | None) -> None:
        """The current thread uses the VMA for @address of @mm (a fault), or
        as a VMA of @mm (@address None: /proc/PID/maps)."""
        t = ex.cur
        if not ex.in_threads:
            return
        problem = ""
        if t.tid not in self.holds and not self.mmap_locked_by(t):
            problem = "without holding its read lock (or the mmap_lock)"
        else:
            vm_mm, start, end = self.identity()
            if not self.attached or self.vma._w & _FREE_BITS:
                problem = "that is detached or freed"
            elif vm_mm is not mm:
                problem = "that now belongs to another mm (reused)"
            elif address is not None and not start <= address < end:
                problem = (f"whose bounds [{start:#x}, {end:#x}) no longer "
                           f"contain {address:#x}")
        if problem:
            ex.fail(_violation(ex, t, f"uses a VMA {problem}: a VMA must be "
                               "revalidated after vma_start_read()", "use",
                               problem.split(" (")[0]))

    # -- the store rules --------------------------------------------------------
    def _readers_conflict(self, ex: Execution, t: SimThread, verb: str) -> bool:
        others = [h for tid, h in sorted(self.holds.items()) if tid != t.tid]
        if not others:
            return False
        h = others[0]
        ex.fail(_violation(
            ex, t, f"{verb} a VMA that {h.thread} holds read-locked (its "
            f"vma_start_read() at step {h.step}; it must see the VMA unchanged "
            "until vma_end_read())", "read-locked", verb))
        return True

    def check_store(self, ex: Execution, t: SimThread, word: str) -> None:
        """A store of @word by @t (from the writer-lock checker's store hook,
        as for every guarded object)."""
        if word in LOCK_WORDS or t.tid == 0:
            return
        if word in FAULT_WORDS and (t.tid in self.holds
                                    or self.mmap_read_locked_by(t)):
            return  # a fault filling page tables (serialised by the PTL)
        if self._readers_conflict(ex, t, f"stores {word} of"):
            return
        if not self.attached or self.write_locked_by(t):
            return
        ex.fail(_violation(ex, t, f"stores {word} of an attached VMA it has not "
                           "write-locked in this mmap_lock cycle "
                           "(vma_assert_write_locked)", "unlocked", word))


_FREE_BITS = FREED | SLAB_FREE


def _violation(ex: Execution, t: SimThread, what: str, rule: str,
               detail: str = "") -> Violation:
    chain = capture(3)
    func = chain.top()
    body = "\n".join([
        "BUG: per-VMA lock violated",
        f"task {t.label} {what}, at step {ex.step}",
        "Call trace:", *chain.lines()])
    return Violation(FindingKind.VMA_LOCK, f"{t.label} {what.split(':')[0]} in {func}",
                     body, key=(rule, detail, func), thread=t.label, step=ex.step)


class VmaLockCheck(Observer):
    """The leak rule (the store rule runs in the writer-lock checker, which
    every store to a guarded object reaches: one hook, not two)."""

    def thread_exit(self, ex: Execution, t: SimThread) -> None:
        """A thread may not finish holding a VMA read lock."""
        held = ex.context.get(HOLDS, {}).get(t.tid)
        if held:
            ex.fail(_violation(ex, t, "exits holding a VMA read lock (a "
                               "vma_start_read() without vma_end_read())",
                               "leak"))
