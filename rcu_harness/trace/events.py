"""Events: what each scheduling step did, recorded cheaply, decoded lazily.

The runtime appends one plain tuple per observable operation to the
execution's event list (a tuple append is the cheapest record Python has)::

    (step, tid, kind, addr, word, index, value, code)

``kind`` is an :class:`EventKind` value (an ``int``), ``word`` the name of
the memory word or primitive argument (``"pivot"``, ``"slot"``, ``"parent"``,
a field name, a lock name) or ``None``, ``index`` the array index or ``-1``,
``value`` the raw value loaded or stored, and ``code`` the code object of the
model function that made the access (``None`` when unknown).  Only when a
trace or report is written are tuples turned into frozen :class:`Event`
dataclasses, and values into short deterministic summaries
(:func:`summarize`): never ``repr()`` of arbitrary objects, whose default
form contains ``id()`` and would differ between processes.

:func:`canonical` and :func:`events_digest` give a byte-stable text form of
an event stream, used to prove that replay and re-runs are identical.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from types import CodeType


PSEUDO_THREADS = {-1: "setup", -2: "teardown"}
"""Thread ids of events no simulated thread made: the program's setup (and
the engine right after it, waking rcu_gp) and teardown; the ids the engine
gives its setup and teardown pseudo-threads."""


def thread_label(tid: int, labels: Sequence[str]) -> str:
    """The label of thread @tid: @labels by thread id, or setup/teardown."""
    if 0 <= tid < len(labels):
        return labels[tid]
    return PSEUDO_THREADS.get(tid, str(tid))


class EventKind(IntEnum):
    """What one recorded step did."""

    LOAD = 1
    STORE = 2
    LOCK = 3
    UNLOCK = 4
    RCU_LOCK = 5
    RCU_UNLOCK = 6
    CALL_RCU = 7
    SYNC_RCU = 8
    GP_START = 9
    GP_END = 10
    RCU_CALLBACK = 11
    ATOMIC = 12
    SCHEDULE = 13
    ALLOC = 14
    FREE = 15
    SPAWN = 16
    EXIT = 17
    BLOCK = 18
    WAKE = 19
    RANDOM = 20
    MARK = 21
    """A scenario annotation (write/read begin/end and the like)."""
    FENCE = 22
    """A memory barrier under a weak memory model (``word`` names it)."""


RawEvent = tuple[int, int, int, int, "str | None", int, Any, "CodeType | None"]

_SHORT = {
    EventKind.LOAD: "ld",
    EventKind.STORE: "st",
    EventKind.LOCK: "lock",
    EventKind.UNLOCK: "unlock",
    EventKind.RCU_LOCK: "rcu_read_lock",
    EventKind.RCU_UNLOCK: "rcu_read_unlock",
    EventKind.CALL_RCU: "call_rcu",
    EventKind.SYNC_RCU: "synchronize_rcu",
    EventKind.GP_START: "gp_start",
    EventKind.GP_END: "gp_end",
    EventKind.RCU_CALLBACK: "rcu_cb",
    EventKind.ATOMIC: "atomic",
    EventKind.SCHEDULE: "schedule",
    EventKind.ALLOC: "alloc",
    EventKind.FREE: "free",
    EventKind.SPAWN: "spawn",
    EventKind.EXIT: "exit",
    EventKind.BLOCK: "block",
    EventKind.WAKE: "wake",
    EventKind.RANDOM: "random",
    EventKind.MARK: "mark",
    EventKind.FENCE: "fence",
}


_OBJECT_KINDS = frozenset({EventKind.ALLOC, EventKind.FREE, EventKind.CALL_RCU,
                           EventKind.RCU_CALLBACK})
"""Kinds about one object (the word is its type or callback): their cell
names the object's address first (``free 0xffff888000002c00 maple_node``)."""


@dataclass(frozen=True, slots=True)
class ReadsFrom:
    """The raw value of a load event under a weak memory model: the value
    and which store it read."""

    value: Any
    step: int
    """The step of the store read (0: the value before any store)."""
    thread: int
    """Its thread (-1: the initial value)."""
    stale_step: int
    """0, or the step of the newest store, which the load did not read."""
    stale_thread: int


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded step, decoded."""

    step: int
    thread: int
    kind: EventKind
    addr: int
    word: str | None
    index: int
    value: str
    """Deterministic summary of the value loaded or stored."""
    function: str
    """The model function that made the access, or ``""``."""
    reads: str = ""
    """Under a weak memory model, the store a load read: ``step N`` or
    ``init`` (the value before any store); ``""`` otherwise."""
    stale: str = ""
    """The newest store a load did not read (``step N``), ``""`` if it read
    the newest."""

    @property
    def where(self) -> str:
        """``word[index]``, ``word`` or ``""``."""
        if self.word is None:
            return ""
        return f"{self.word}[{self.index}]" if self.index >= 0 else self.word

    def short(self) -> str:
        """A compact one-cell description for interleaving columns."""
        parts = [_SHORT[self.kind]]
        if self.kind in _OBJECT_KINDS and self.addr:
            parts.append(f"{self.addr:#x}")  # first: a narrow cell keeps it
        if self.where:
            parts.append(self.where)
        if self.kind in (EventKind.LOAD, EventKind.STORE, EventKind.ATOMIC):
            parts.append(self.value)
        if self.function:
            parts.append(self.function)
        return " ".join(parts)

    def stale_note(self) -> str:
        """``ld pivot[3] = 0x41ffff (stale: store at step 212 not yet
        visible)`` for a load that read an older store, else ``""``."""
        if not self.stale:
            return ""
        return (f"{_SHORT[self.kind]} {self.where} = {self.value} (stale: store at "
                f"{self.stale} not yet visible)")

    def canonical(self) -> str:
        """The byte-stable text form of this event."""
        text = (
            f"{self.step} {self.thread} {self.kind.name} {self.addr:#x} "
            f"{self.where or '-'} {self.value} {self.function or '-'}"
        )
        if self.reads:
            text += f" reads={self.reads.replace(' ', '')}"
        if self.stale:
            text += f" stale={self.stale.replace(' ', '')}"
        return text


def summarize(value: object) -> str:
    """A short summary of @value that is identical in every process."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, str):
        return repr(value[:24])
    summary = getattr(value, "rcu_summary", None)
    if callable(summary):
        return str(summary())
    if isinstance(value, tuple) and value and hasattr(value[0], "addr"):
        return f"enode({value[0].addr:#x},{value[1]})"
    addr = getattr(value, "addr", None)
    if isinstance(addr, int):
        return f"{type(value).__name__}@{addr:#x}"
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        inner = ",".join(summarize(getattr(value, f)) for f in fields)
        return f"{type(value).__name__}({inner})"
    return type(value).__name__


def decode(raw: RawEvent) -> Event:
    """Turn one recorded tuple into an :class:`Event`."""
    step, tid, kind, addr, word, index, value, code = raw
    reads = stale = ""
    if type(value) is ReadsFrom:
        reads = f"step {value.step}" if value.thread >= 0 else "init"
        stale = f"step {value.stale_step}" if value.stale_step else ""
        value = value.value
    return Event(
        step=step,
        thread=tid,
        kind=EventKind(kind),
        addr=addr,
        word=word,
        index=index,
        value=summarize(value),
        function=code.co_name if code is not None else "",
        reads=reads,
        stale=stale,
    )


def decode_all(raws: Iterable[RawEvent]) -> tuple[Event, ...]:
    """Decode a whole event stream."""
    return tuple(decode(r) for r in raws)


def canonical(events: Sequence[Event]) -> bytes:
    """The canonical serialisation of an event stream (UTF-8, one per line)."""
    return "".join(e.canonical() + "\n" for e in events).encode()


def events_digest(events: Sequence[Event]) -> str:
    """A BLAKE2b digest of the canonical serialisation."""
    return hashlib.blake2b(canonical(events), digest_size=16).hexdigest()
