"""Memory models: ``sc`` (sequential consistency, the default) and ``lkmm``.

Under ``sc`` every load reads the newest store: the harness explores
interleavings only.  Under ``lkmm`` (:mod:`.model`) a load may also read an
older store when no barrier, release, acquire, address dependency, lock or
grace period forbids it, as the Linux kernel memory model allows; which
store it reads is a strategy decision recorded in the schedule, so replay,
shrinking and traces work unchanged.  docs/weak-memory.md has the design,
what is and is not modelled, and the litmus tests that pin each rule.

A model is installed on an execution before its setup runs
(:func:`install`, or :func:`with_memory_model` around a program): it becomes
the execution's access hook (:mod:`rcu_harness.memory.access`), so the
port allocates nodes whose every access reaches it, and its
``memory_model``, which barriers, locks and RCU tell what they do.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rcu_harness.memory.reads_from import ReadsFromHook
from rcu_harness.memory.wmm.api import MemoryModel
from rcu_harness.memory.wmm.model import LkmmModel
from rcu_harness.runtime.current import current
from rcu_harness.runtime.execution import PENDING_ONLY

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution

MEMORY_MODELS = ("sc", "lkmm")
"""The memory models by name; the first is the default."""
DEFAULT = "sc"


class MemoryModelError(ValueError):
    """An unknown memory model name (the message is one line)."""


def check_name(name: str) -> str:
    """@name if it names a memory model, else a MemoryModelError."""
    if name not in MEMORY_MODELS:
        raise MemoryModelError(f"unknown memory model {name!r} (choose "
                               f"{' or '.join(MEMORY_MODELS)})")
    return name


def install(ex: Execution, name: str) -> MemoryModel | None:
    """Put memory model @name on @ex (before its setup creates anything)."""
    if check_name(name) == "sc":
        return None
    if isinstance(ex.memory_model, LkmmModel):  # wrapped twice: one model
        return ex.memory_model
    hook = ex.access_hook
    wrapper = hook if isinstance(hook, ReadsFromHook) else None
    behind = wrapper.inner if wrapper is not None else hook
    if behind is not None and behind is not PENDING_ONLY:
        raise MemoryModelError("the execution already has an access hook; "
                               "install the memory model first")
    model = LkmmModel(ex)
    if behind is PENDING_ONLY:
        model.wants_pending = True  # a watching strategy reads pending accesses
    if wrapper is not None:  # reads-from coverage: the model goes behind it
        wrapper.inner = model
    else:
        ex.access_hook = model
    ex.memory_model = model
    return model


def with_memory_model(program: Callable[[Any], None],
                      name: str) -> Callable[[Any], None]:
    """@program with memory model @name installed first (itself for sc)."""
    if check_name(name) == DEFAULT:
        return program

    @functools.wraps(program)
    def setup(h: Any) -> None:
        install(current(), name)
        program(h)

    return setup


__all__ = ["DEFAULT", "MEMORY_MODELS", "LkmmModel", "MemoryModel",
           "MemoryModelError", "check_name", "install", "with_memory_model"]
