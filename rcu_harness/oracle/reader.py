"""The reader API (the ``ma_state`` calls of lockless readers) on the model side.

driver.c keeps a reader state ``rmas`` beside the tree and runs the calls
``mset``, ``mreset``, ``mpause``, ``mwalk``, ``mfind``, ``mfindrev``,
``mnext``, ``mprev``, ``mnextr``, ``mprevr`` and ``mforeach`` on it, each
inside an RCU read section of its own unless the reader holds one across
operations (``rlock`` ... ``runlock``; no grace period ends meanwhile).
:class:`ReaderState` does the same on the model; :func:`state_token` is the
``<entries>@<index>-<last>/<status>`` return part both sides print
(FORMAT.md).

:func:`compare_calls` is the entry point for tests that want to hold a call
sequence against the kernel: it runs it on both sides and returns the first
divergence, or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.nullptr import NullPointerDereference
from rcu_harness.oracle.ops import (
    MFind,
    MFindRev,
    MForEach,
    MNext,
    MNextRange,
    MPause,
    MPrev,
    MPrevRange,
    MReset,
    MSet,
    MWalk,
    Op,
)
from rcu_harness.oracle.pydump import entry_token

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

    from rcu_harness.oracle.diff import Divergence

NODE_STATES = frozenset({0, 5, 6})
"""ma_active, ma_overflow, ma_underflow: the states that use their node."""


class ReaderUseAfterFree(Exception):
    """A reader call begins on a state whose node has been freed."""


NO_NODE_NOTE = ", rmas.node NULL before the call"
"""Added to the word of a NULL dereference by a call that began without a node."""
STATUS_NAMES = ("active", "start", "root", "none", "pause", "overflow",
                "underflow", "error")
"""enum maple_status, without the ``ma_`` prefix, in the enum's order."""


def state_token(mas: Any, entries: str) -> str:
    """``<entries>@<index hex>-<last hex>/<status>`` of the reader state @mas."""
    status = int(mas.status)
    name = STATUS_NAMES[status] if status < len(STATUS_NAMES) else str(status)
    return f"{entries}@{mas.index:x}-{mas.last:x}/{name}"


class ReaderState:
    """The model's rmas and the reader's RCU read lock."""

    def __init__(self, maple: ModuleType, mt: Any) -> None:
        self.m = maple
        self.mas = maple.MaState(mt, 0, 0)
        self.locked = 0

    def lock(self) -> None:
        """rlock: rcu_read_lock(), held across operations."""
        self.mas.tree.port.rcu_read_lock()
        self.locked += 1

    def unlock(self) -> bool:
        """runlock: rcu_read_unlock(); False if the reader holds no lock."""
        if not self.locked:
            return False
        self.locked -= 1
        self.mas.tree.port.rcu_read_unlock()
        return True

    def call(self, op: Op) -> str:
        """Run reader call @op inside its own RCU read section; its ret.

        A NULL dereference by a call that started with ``rmas.node`` NULL
        says so in its message: that tells the two catalogued NULL-node bugs
        apart (:mod:`rcu_harness.known.catalogue`).
        """
        port = self.mas.tree.port
        had_node = self.mas.node is not None
        if not isinstance(op, MSet | MReset | MPause):
            self._check_not_freed(op)
        port.rcu_read_lock()
        try:
            entries = self._call(op)
        except NullPointerDereference as err:
            if had_node:
                raise
            raise NullPointerDereference(err.address, err.word + NO_NODE_NOTE,
                                         write=err.write) from err
        finally:
            port.rcu_read_unlock()
        return state_token(self.mas, entries)

    def _check_not_freed(self, op: Op) -> None:
        """KASAN at API granularity: a call on a state whose node was freed.

        The model's plain port does not poison freed nodes, so a reader call
        that starts from a node freed meanwhile (a grace period that did not
        wait for the reader, a free without one) would read stale words
        silently; the kernel reads freed memory there.  The states that
        navigate from their node are active, overflow and underflow.
        """
        mas = self.mas
        node = mas.node
        freed = getattr(mas.tree.port, "freed", None)
        if (node is None or freed is None or int(mas.status) not in NODE_STATES
                or not hasattr(node[0], "addr") or node[0].addr not in freed):
            return
        raise ReaderUseAfterFree(f"{op.name} starts from maple_node "
                                 f"{node[0].addr:#x}, freed before the call")

    def _call(self, op: Op) -> str:
        """The call itself; the entries part of its ret."""
        m, mas = self.m, self.mas
        match op:
            case MSet(index):
                m.mas_set(mas, index)
                return ""
            case MReset():
                m.mas_reset(mas)
                return ""
            case MPause():
                m.mas_pause(mas)
                return ""
            case MWalk():
                return entry_token(m.mas_walk(mas))
            case MFind(limit):
                return entry_token(m.mas_find(mas, limit))
            case MFindRev(limit):
                return entry_token(m.mas_find_rev(mas, limit))
            case MNext(limit):
                return entry_token(m.mas_next(mas, limit))
            case MPrev(limit):
                return entry_token(m.mas_prev(mas, limit))
            case MNextRange(limit):
                return entry_token(m.mas_next_range(mas, limit))
            case MPrevRange(limit):
                return entry_token(m.mas_prev_range(mas, limit))
            case MForEach(limit, count):
                return self._for_each(limit, count)
        raise TypeError(f"not a reader call: {op!r}")

    def _for_each(self, limit: int, count: int) -> str:
        """mas_for_each(&rmas, entry, @limit), leaving after @count entries."""
        seen: list[str] = []
        if not count:
            return ""
        for entry in self.m.mas_for_each(self.mas, limit):
            seen.append(f"{entry_token(entry)}={self.mas.index:x}-{self.mas.last:x}")
            if len(seen) == count:
                break
        return ",".join(seen)


def compare_calls(ops: list[Op], *, binary: Path | None = None) -> Divergence | None:
    """Run @ops (driver input, ``init`` first) on the kernel and the model.

    Returns the first divergence (``both_crashed`` when both sides die in the
    same op), or None when every line agrees.

    Raises:
        OracleUnavailable: the kernel driver cannot be built here.
    """
    from rcu_harness.oracle.diff import first_divergence

    return first_divergence(ops, binary=binary)
