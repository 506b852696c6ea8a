"""Findings: what a checker reports, and the public record of a failure.

A checker that sees a bug builds a :class:`Violation`: its kind, a one-line
message, the report body (KASAN layout for memory errors, lockdep's for
locking ones) and the *key*: the few names that identify the bug
independently of step numbers and addresses (the faulting model function,
the allocation and free sites...).  The runner turns the first violation of
an execution into a :class:`Finding`, adding the interleaving excerpt, the
schedule that replays it and the replay command.  ``signature`` hashes kind
and key, so the same bug found by two executions deduplicates.  A finding
also carries the structured events of its execution (from the diagnosing
re-run) and, for memory errors, the object and its life cycle, so that a
report can draw the interleaving without rerunning anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcu_harness.trace.events import Event

Mark = tuple[str, str, int]
"""One step of an object's life: (what, thread label, step), where what is
``alloc``, ``death`` (marked dead), ``call_rcu`` or ``free``."""


class FindingKind(StrEnum):
    """The kinds of finding the harness reports."""

    USE_AFTER_FREE = "use-after-free"
    DOUBLE_FREE = "double-free"
    INVALID_FREE = "invalid-free"
    LEAK = "leak"
    LOCKDEP_RCU = "lockdep-rcu"
    RCU_UNBALANCED = "rcu-unbalanced"
    RCU_SLEEP = "sleep-in-rcu"
    ATOMIC_SLEEP = "sleep-in-atomic"
    RCU_EXIT = "exit-in-rcu"
    LOCK_MISUSE = "lock-misuse"
    DEADLOCK = "deadlock"
    LIVELOCK = "livelock"
    EXCEPTION = "exception"
    NULL_DEREF = "null-ptr-deref"
    WARNING = "warning"
    BUG = "bug"
    NOT_A_NODE = "not-a-node"
    METADATA_MISREAD = "metadata-misread"
    METADATA_AS_ENTRY = "metadata-as-entry"
    PREALLOC_EXHAUSTED = "prealloc-exhausted"
    WRITER_LOCK = "writer-lock"
    RCU_MODE = "rcu-mode-transition"
    MT_VALIDATE = "mt-validate"
    MM_REF = "mm-ref"
    VMA_LOCK = "vma-lock"
    RESULT = "result-inconsistent"


@dataclass(frozen=True, slots=True)
class Violation:
    """A checker's report of one bug, before the runner finalises it."""

    kind: FindingKind
    message: str
    """One line."""
    body: str
    """The report text, without interleaving excerpt and replay command."""
    key: tuple[str, ...] = ()
    """Names that identify the bug across executions (for the signature)."""
    thread: str = ""
    step: int = 0
    addr: int = 0
    """The object the bug is about (memory errors), or 0."""
    lifecycle: tuple[Mark, ...] = ()
    """That object's allocation, death, call_rcu and free, as known."""
    access: str = ""
    """The faulting access (``Read vm_end of freed Vma``), when the bug is one:
    the interleaving excerpt shows it as the thread's last row."""


def signature(kind: str, key: tuple[str, ...]) -> str:
    """A stable short hash of a finding's kind and key."""
    text = "\0".join((kind, *key)).encode()
    return hashlib.blake2b(text, digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Finding:
    """A bug found in one execution, with everything needed to replay it."""

    kind: str
    signature: str
    message: str
    report: str
    thread: str
    step: int
    execution: int
    seed: int
    """The seed of this execution (what its schedule's random draws use)."""
    schedule: str
    """The encoded :class:`~rcu_harness.sched.schedule.Schedule`."""
    replay_command: str
    addr: int = 0
    """The object the bug is about (memory errors), or 0."""
    lifecycle: tuple[Mark, ...] = ()
    """That object's allocation, death, call_rcu and free (what, thread, step)."""
    events: tuple[Event, ...] = ()
    """The events of the execution, from the diagnosing re-run: the last
    :data:`~rcu_harness.runner.findings.KEEP_EVENTS` plus every life-cycle
    event of the object (empty when the run recorded none)."""
    threads: tuple[str, ...] = ()
    """Thread labels by thread id (``events`` refer to threads by id)."""

    def __str__(self) -> str:
        return self.report
