"""Slab caches, and the one kind whose freed objects are reused at once:
``SLAB_TYPESAFE_BY_RCU``.

``kmem_cache_create(name, cls, typesafe_by_rcu=...)`` gives a cache of
:class:`~rcu_harness.memory.simstruct.SimStruct` objects of one type, one per
execution and name.  A plain cache is ``kmalloc()``/``kfree()`` with a name:
a freed object stays freed and is never handed out again (see
:mod:`rcu_harness.memory.heap`).

A ``SLAB_TYPESAFE_BY_RCU`` cache models mm/slub.c's promise for such caches:
the *memory* of a freed object stays an object of the cache's type until a
grace period after its slab page is freed (never, here: the page is never
freed), but the *object* may be reused at once, by anybody.  So:

* ``kmem_cache_free()`` marks the object free with the watch bit
  ``SLAB_FREE``: a stale reader may still load its words (no KASAN report,
  as KASAN does not poison such objects); a store to it is a use after
  free;
* ``kmem_cache_alloc()`` hands out the most recently freed object first
  (SLUB's per-CPU freelist is LIFO), at the same address, still published
  (whoever kept a pointer to its last life can reach it), its fields set
  again by the caller with ordinary, observed stores;
* the cache remembers every object's past lives (allocation and free sites,
  :meth:`KmemCache.lives`) so a checker can say which life a stale reader
  reached.

Whether a reader that holds such a pointer uses the object correctly (takes
a reference, then re-checks that it is still the object it looked up) is
the business of the object's own checker (for VMAs:
:mod:`rcu_harness.checks.vma_lock`).

Not modelled: slab pages and their freeing after a grace period, per-CPU
and per-node freelists (one LIFO list per cache), constructors (the caller
initialises), ``freeptr_offset`` (no free pointer is written into the
object), allocation failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rcu_harness.memory.heap import SLAB_FREE
from rcu_harness.memory.records import AllocState
from rcu_harness.memory.simstruct import SimStruct, kfree, kmalloc
from rcu_harness.runtime.current import current

if TYPE_CHECKING:
    from rcu_harness.memory.records import Site

S = TypeVar("S", bound=SimStruct)


class KmemCache(Generic[S]):
    """struct kmem_cache of one execution."""

    __slots__ = ("cls", "free", "history", "name", "typesafe")

    def __init__(self, name: str, cls: type[S], typesafe: bool) -> None:
        self.name = name
        self.cls = cls
        self.typesafe = typesafe
        self.free: list[S] = []
        """Objects free for reuse, most recently freed last."""
        self.history: dict[int, list[tuple[Site, Site | None]]] = {}
        """addr -> (allocation site, free site) of each past life."""

    def lives(self, obj: SimStruct) -> int:
        """How many times @obj was handed out before its current life."""
        return len(self.history.get(obj.addr, ()))

    def __repr__(self) -> str:
        flag = " SLAB_TYPESAFE_BY_RCU" if self.typesafe else ""
        return f"<kmem_cache {self.name}{flag}>"


def kmem_cache_create(name: str, cls: type[S], *,
                      typesafe_by_rcu: bool = False) -> KmemCache[S]:
    """kmem_cache_create(): the cache @name of this execution (created on
    first use; the same object for every later call with that name)."""
    ctx = current().context
    caches: dict[str, KmemCache[Any]] = ctx.setdefault("kmem_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = KmemCache(name, cls, typesafe_by_rcu)
    return cache


def kmem_cache_alloc(cache: KmemCache[S], **init: Any) -> S:
    """kmem_cache_alloc(): a fresh object, or (SLAB_TYPESAFE_BY_RCU) the
    most recently freed one, live again at the same address; @init fields
    are stored into it (observed stores when it is published)."""
    if not cache.free:
        return kmalloc(cache.cls, **init)
    obj = cache.free.pop()
    ex = current()
    rec = obj._rec
    cache.history.setdefault(obj.addr, []).append((rec.alloc, rec.free))
    ex.heap.reuse(rec)
    for name, value in init.items():
        setattr(obj, name, value)
    return obj


def kmem_cache_free(cache: KmemCache[S], obj: S) -> None:
    """kmem_cache_free(): free @obj now; in a SLAB_TYPESAFE_BY_RCU cache it
    stays readable and may be handed out again at once."""
    if not cache.typesafe:
        kfree(obj)
        return
    ex = current()
    if ex.in_threads:
        ex.point()
    rec = ex.heap.record_of(obj)
    freeing = rec is not None and rec.state is not AllocState.FREED
    ex.heap.free(obj, typesafe=True)
    if freeing and obj._w & SLAB_FREE:
        cache.free.append(obj)
