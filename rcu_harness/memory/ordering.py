"""Memory-ordering primitives for thread code: barriers, release, acquire.

``smp_wmb()``, ``smp_rmb()``, ``smp_mb()``, ``smp_store_release()``,
``smp_load_acquire()``, ``READ_ONCE()`` and ``WRITE_ONCE()`` on the fields
of :class:`~rcu_harness.memory.simstruct.SimStruct` objects, with the
kernel's names.  Under sequential consistency (the default) the barriers
do nothing and the accesses are plain field accesses; under a weak memory
model (``--memory-model lkmm``, :mod:`rcu_harness.memory.wmm`) each one
does what tools/memory-model says it does.  ``READ_ONCE()`` and
``WRITE_ONCE()`` are the plain accesses: the harness treats every access
as a marked one, and every load heads an address dependency.
"""

from __future__ import annotations

from typing import Any

from rcu_harness.runtime.current import current


def smp_wmb() -> None:
    """smp_wmb(): order this thread's earlier stores before its later ones."""
    mm = current().memory_model
    if mm is not None:
        mm.smp_wmb()


def smp_rmb() -> None:
    """smp_rmb(): order this thread's earlier loads before its later ones."""
    mm = current().memory_model
    if mm is not None:
        mm.smp_rmb()


def smp_mb() -> None:
    """smp_mb(): a full barrier."""
    mm = current().memory_model
    if mm is not None:
        mm.smp_mb()


def smp_store_release(obj: Any, name: str, value: Any) -> None:
    """smp_store_release(&obj->name, value)."""
    mm = current().memory_model
    if mm is None:
        setattr(obj, name, value)
        return
    mm.release_next()
    setattr(obj, name, value)
    mm.plain_next()


def smp_load_acquire(obj: Any, name: str) -> Any:
    """smp_load_acquire(&obj->name)."""
    mm = current().memory_model
    if mm is None:
        return getattr(obj, name)
    mm.acquire_next()
    value = getattr(obj, name)
    mm.plain_next()
    return value


def READ_ONCE(obj: Any, name: str) -> Any:
    """READ_ONCE(obj->name): a marked load (every field load is one)."""
    return getattr(obj, name)


def WRITE_ONCE(obj: Any, name: str, value: Any) -> None:
    """WRITE_ONCE(obj->name, value): a marked store (every field store is)."""
    setattr(obj, name, value)
