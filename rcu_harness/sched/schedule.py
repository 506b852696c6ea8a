"""Schedules as data, and their compact versioned text encoding.

A :class:`Schedule` is the execution seed plus the list of decisions: the
thread chosen at each point where more than one thread was runnable,
:data:`RANDOM` where the program drew a random value (the value itself is
regenerated from the seed), or, under a weak memory model, which of the
stores a load may read it read (:func:`read_code`: ``-2 - k`` for the
``k``-th newest of the stores its view allows; ``-2`` is the newest, what
sequential consistency reads).  A strategy that chooses the program's
values itself (:class:`~rcu_harness.sched.protocol.ChoosesData`) makes a
schedule that also carries :attr:`Schedule.values`, the value of each
``RANDOM`` decision in order, which replay returns instead of regenerating
them.  Encoding (hypothesis ``reproduce_failure`` style)::

    b"RH" | version | flags | varint(seed) | varint(n) | n * varint(code)
          [ | varint(m) | m * varint(value) ]   (version 3 only)

Version 1 (every schedule without read choices, so that their text never
changed) codes a step as ``step + 1`` (``RANDOM``, -1, is 0); version 2
(schedules with read choices) as the zigzag code of the step (0, -1, 1, -2,
2, ... as 0, 1, 2, 3, 4, ...); version 3 (schedules with chosen values,
only those: every other schedule's text is unchanged) codes steps as
version 2 and then the values.  If ``zlib`` makes the body smaller, flag
bit 0 is set and the body after the flags is compressed.  The bytes are
then base64url without padding.

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
READ = -2
"""The decision step of a load that read the newest store its view allows;
``READ - k`` read the ``k``-th older one (:func:`read_code`)."""
MAGIC = b"RH"
VERSION = 1
"""The version of schedules without read choices."""
VERSION_READS = 2
"""The version of schedules with read choices (zigzag-coded steps)."""
VERSION_VALUES = 3
"""The version of schedules with chosen values (:attr:`Schedule.values`)."""
READABLE = (VERSION, VERSION_READS, VERSION_VALUES)
_ZLIB = 1


def read_code(k: int) -> int:
    """The decision step of a load that read the @k-th newest allowed store."""
    return READ - k


def read_index(step: int) -> int:
    """The inverse of :func:`read_code` (-1 if @step is not a read choice)."""
    return READ - step if step <= READ else -1


def is_thread(step: int) -> bool:
    """Is decision @step a thread choice (not a random draw or a read)?"""
    return step >= 0


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
    values: tuple[int, ...] = ()
    """The value of each ``RANDOM`` step, in order, when the strategy chose
    them (empty: regenerated from :attr:`seed`)."""

    def __post_init__(self) -> None:
        """Refuse values that are not one per ``RANDOM`` step, or negative
        (ValueError): replay would hand a draw another's value or none, and
        a negative value has no encoding."""
        if not self.values:
            return
        draws = sum(1 for s in self.steps if s == RANDOM)
        if len(self.values) != draws:
            raise ValueError(f"schedule has {len(self.values)} values for "
                             f"{draws} random draws")
        for i, value in enumerate(self.values):
            if value < 0:
                raise ValueError(f"schedule value {value} of draw {i} is negative")

    def encode(self) -> str:
        """The compact text form (base64url, versioned)."""
        body = bytearray()
        _varint(self.seed, body)
        _varint(len(self.steps), body)
        version = VERSION_READS if any(s < RANDOM for s in self.steps) else VERSION
        if self.values:
            version = VERSION_VALUES
        if version == VERSION:
            for step in self.steps:
                _varint(step + 1, body)
        else:
            for step in self.steps:
                _varint(step * 2 if step >= 0 else -step * 2 - 1, body)
        if self.values:
            _varint(len(self.values), body)
            for value in self.values:
                _varint(value, body)
        flags = 0
        packed = zlib.compress(bytes(body), 9)
        if len(packed) < len(body):
            body, flags = bytearray(packed), _ZLIB
        raw = MAGIC + bytes([version, flags]) + bytes(body)
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
        version = raw[2]
        if version not in READABLE:
            raise ScheduleDecodeError(
                f"schedule format version {version}, this harness reads "
                f"{' and '.join(map(str, READABLE))}: re-run the campaign to "
                "regenerate it")
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
            if version == VERSION:
                steps.append(v - 1)
            else:
                steps.append(v >> 1 if not v & 1 else -((v + 1) >> 1))
        values = []
        if version == VERSION_VALUES:
            m, pos = _read_varint(body, pos)
            for _ in range(m):
                v, pos = _read_varint(body, pos)
                values.append(v)
            if m != sum(1 for s in steps if s == RANDOM):
                raise ScheduleDecodeError(
                    f"schedule has {m} values for "
                    f"{sum(1 for s in steps if s == RANDOM)} random draws")
        if pos != len(body):
            raise ScheduleDecodeError("trailing bytes after schedule")
        return cls(seed, tuple(steps), tuple(values))

    @property
    def decisions(self) -> int:
        """Number of thread choices (random draws and read choices excluded)."""
        return sum(1 for s in self.steps if s >= 0)

    @property
    def stale_reads(self) -> int:
        """Number of loads that read an older store than the newest allowed."""
        return sum(1 for s in self.steps if s < READ)


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
