"""Records a scenario keeps of its writer operations and reader results.

They are filled in by :class:`~rcu_harness.runtime.harness.Harness` helpers
(``h.writing(...)``, ``h.reading(...)``) and checked by
:class:`~rcu_harness.checks.results.ResultCheck`.  Steps are the execution's
global step counter, so "during the read" means between the read's begin
and end steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class WriteOp(Enum):
    """What a recorded writer operation did."""

    STORE = "store"
    ERASE = "erase"


class ReadKind(Enum):
    """What a recorded read was."""

    LOAD = "load"
    """A point lookup of ``first``: one result, range unknown (``mtree_load``)."""
    FIND = "find"
    """Results carry their whole stored range (``mas_walk``, one ``mas_find``)."""
    ITERATE = "iterate"
    """An ascending iteration over [first, limit] that ran to completion."""


@dataclass(slots=True)
class WriteRecord:
    """One writer operation: store @entry over [index, last], or erase."""

    tree: Any
    op: WriteOp
    index: int
    last: int
    entry: object
    thread: str
    begin: int
    end: int | None = None


@dataclass(slots=True)
class ReadRecord:
    """One reader operation and what it returned."""

    tree: Any
    kind: ReadKind
    first: int
    limit: int
    thread: str
    begin: int
    end: int | None = None
    results: list[tuple[int, int, object]] = field(default_factory=list)

    def saw(self, index: int, last: int, entry: object) -> None:
        """The reader returned @entry for the range [index, last]."""
        self.results.append((index, last, entry))
