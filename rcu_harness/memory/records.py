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


_LIVE = AllocState.LIVE
"""The member once (a look-up through the Enum class is slow): every
allocation makes a record."""

RawSite = tuple[str, int, "CallChain"]
"""A site as the heap records it: (thread, step, chain), made a :class:`Site`
when something reads it (:class:`AllocRecord`'s properties)."""


def _site(raw: Site | RawSite | None) -> Site | None:
    if isinstance(raw, tuple):
        return Site(*raw)
    return raw


class AllocRecord:
    """Everything the heap knows about one object.

    The sites are kept as the heap recorded them, plain tuples, and read as
    :class:`Site` objects (built on the first read, then kept): an
    execution records hundreds of sites and reads a few, for a finding's
    signature and report.
    """

    __slots__ = ("_alloc", "_call_rcu", "_death", "_free", "addr", "call_rcu_gp",
                 "free_gp", "leak_checked", "obj", "rcu_pending", "retire_gp",
                 "size", "state", "type_name")

    def __init__(self, obj: Any, addr: int, size: int, type_name: str,
                 alloc: Site | RawSite, leak_checked: bool) -> None:
        self.obj = obj
        self.addr = addr
        self.size = size
        self.type_name = type_name
        self.state = _LIVE
        self._alloc: Site | RawSite = alloc
        self._death: Site | RawSite | None = None
        self._call_rcu: Site | RawSite | None = None
        self.call_rcu_gp = 0
        self._free: Site | RawSite | None = None
        self.free_gp = 0
        """The grace period whose end freed it (0: not freed from a callback)."""
        self.rcu_pending = False
        self.retire_gp = 0
        """gp_seq when it was retired (marked dead or queued with call_rcu)."""
        self.leak_checked = leak_checked

    @property
    def alloc(self) -> Site:
        """Where it was allocated."""
        site = self._alloc
        if isinstance(site, tuple):
            site = self._alloc = Site(*site)
        return site

    @alloc.setter
    def alloc(self, site: Site | RawSite) -> None:
        self._alloc = site

    @property
    def death(self) -> Site | None:
        """Where it was marked dead, if it was."""
        site = self._death = _site(self._death)
        return site

    @death.setter
    def death(self, site: Site | RawSite | None) -> None:
        self._death = site

    @property
    def call_rcu(self) -> Site | None:
        """Where it was last queued with call_rcu(), if it was."""
        site = self._call_rcu = _site(self._call_rcu)
        return site

    @call_rcu.setter
    def call_rcu(self, site: Site | RawSite | None) -> None:
        self._call_rcu = site

    @property
    def free(self) -> Site | None:
        """Where it was freed, if it was."""
        site = self._free = _site(self._free)
        return site

    @free.setter
    def free(self, site: Site | RawSite | None) -> None:
        self._free = site
