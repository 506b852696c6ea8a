"""The execution that is running now (shuttle's ``ExecutionState``).

Kernel primitives are plain functions (``rcu_read_lock()``), so they find
their execution here.  Exactly one execution runs at a time in a process;
the runner sets and clears it, so lookups are deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution


class NoExecutionError(RuntimeError):
    """A kernel primitive was called outside ``explore()`` / ``replay()``."""


class _Slot:
    __slots__ = ("ex",)

    def __init__(self) -> None:
        self.ex: Execution | None = None


SLOT = _Slot()


def current() -> Execution:
    """The running execution; raises :class:`NoExecutionError` if none."""
    ex = SLOT.ex
    if ex is None:
        raise NoExecutionError(
            "kernel primitive called outside an execution: run the program "
            "with rcu_harness.explore() or rcu_harness.replay()"
        )
    return ex
