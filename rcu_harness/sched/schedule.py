"""Schedules as data, and their compact versioned text encoding.

A :class:`Schedule` is the execution seed plus the list of decisions: the
thread chosen at each point where more than one thread was runnable, or
:data:`RANDOM` where the program drew a random value (the value itself is
regenerated from the seed).  Encoding (hypothesis ``reproduce_failure``
style)::

    b"RH" | version | flags | varint(seed) | varint(n) | n * varint(step + 1)

``step + 1`` makes ``RANDOM`` (-1) encode as 0.  If ``zlib`` makes the body
smaller, flag bit 0 is set and the body after the flags is compressed.  The
bytes are then base64url without padding.

A :class:`Decision` is one thread choice with what the strategy was shown
(current thread, yielding, runnable set): a strict replay can log them
(:class:`~rcu_harness.sched.replay.ReplayStrategy` with ``log=True``) to
count a schedule's preemptions or to cut it into segments (the shrinker).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

RANDOM = -1
"""A decision step that is a random draw rather than a thread choice."""
MAGIC = b"RH"
VERSION = 1
_ZLIB = 1


class ScheduleDecodeError(ValueError):
    """The text is not an encoded schedule of a version this harness reads."""


def _varint(n: int, out: bytearray) -> None:
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(data):
            raise ScheduleDecodeError("truncated schedule")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return n, pos


@dataclass(frozen=True, slots=True)
class Schedule:
    """The decisions of one execution: replayable data."""

    seed: int
    steps: tuple[int, ...]

    def encode(self) -> str:
        """The compact text form (base64url, versioned)."""
        body = bytearray()
        _varint(self.seed, body)
        _varint(len(self.steps), body)
        for step in self.steps:
            _varint(step + 1, body)
        flags = 0
        packed = zlib.compress(bytes(body), 9)
        if len(packed) < len(body):
            body, flags = bytearray(packed), _ZLIB
        raw = MAGIC + bytes([VERSION, flags]) + bytes(body)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Schedule:
        """Parse :meth:`encode` output; raise :class:`ScheduleDecodeError`."""
        text = text.strip()
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (ValueError, TypeError) as exc:
            raise ScheduleDecodeError(f"not base64url: {exc}") from None
        if raw[:2] != MAGIC or len(raw) < 4:
            raise ScheduleDecodeError("not an rcu-harness schedule (bad magic)")
        if raw[2] != VERSION:
            raise ScheduleDecodeError(
                f"schedule format version {raw[2]}, this harness reads "
                f"{VERSION}: re-run the campaign to regenerate it")
        body = raw[4:]
        if raw[3] & _ZLIB:
            try:
                body = zlib.decompress(body)
            except zlib.error as exc:
                raise ScheduleDecodeError(f"corrupt schedule: {exc}") from None
        seed, pos = _read_varint(body, 0)
        n, pos = _read_varint(body, pos)
        steps = []
        for _ in range(n):
            v, pos = _read_varint(body, pos)
            steps.append(v - 1)
        if pos != len(body):
            raise ScheduleDecodeError("trailing bytes after schedule")
        return cls(seed, tuple(steps))

    @property
    def decisions(self) -> int:
        """Number of thread choices (random draws excluded)."""
        return sum(1 for s in self.steps if s != RANDOM)


@dataclass(frozen=True, slots=True)
class Decision:
    """One thread choice and what the strategy was shown."""

    current: int | None
    yielding: bool
    runnable: tuple[int, ...]
    choice: int

    @property
    def preemptive(self) -> bool:
        """It switched away from a current thread that could go on."""
        return (self.current is not None and self.current in self.runnable
                and not self.yielding and self.choice != self.current)


def preemptions(decisions: Sequence[Decision]) -> int:
    """How many of @decisions preempt a thread that could go on."""
    return sum(1 for d in decisions if d.preemptive)
