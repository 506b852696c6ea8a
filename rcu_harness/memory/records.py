"""What the heap records about an object: its life and who did what to it.

A leaf of :mod:`rcu_harness.memory`: the heap keeps these records and the
KASAN reports (:mod:`rcu_harness.memory.kasan`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rcu_harness.runtime.callchain import CallChain


class AllocState(Enum):
    """Life of a heap object."""

    LIVE = "live"
    DEAD = "dead"
    """Unlinked and marked dead; memory valid until freed."""
    FREED = "freed"


@dataclass(frozen=True, slots=True)
class Site:
    """Who did something to an object, when, and from where."""

    thread: str
    step: int
    chain: CallChain


class AllocRecord:
    """Everything the heap knows about one object."""

    __slots__ = ("addr", "alloc", "call_rcu", "call_rcu_gp", "death", "free",
                 "free_gp", "leak_checked", "obj", "rcu_pending", "retire_gp",
                 "size", "state", "type_name")

    def __init__(self, obj: Any, addr: int, size: int, type_name: str,
                 alloc: Site, leak_checked: bool) -> None:
        self.obj = obj
        self.addr = addr
        self.size = size
        self.type_name = type_name
        self.state = AllocState.LIVE
        self.alloc = alloc
        self.death: Site | None = None
        self.call_rcu: Site | None = None
        self.call_rcu_gp = 0
        self.free: Site | None = None
        self.free_gp = 0
        """The grace period whose end freed it (0: not freed from a callback)."""
        self.rcu_pending = False
        self.retire_gp = 0
        """gp_seq when it was retired (marked dead or queued with call_rcu)."""
        self.leak_checked = leak_checked
