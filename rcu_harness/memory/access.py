"""The access seam: one place where a memory model or a strategy meets each
observed access, at no cost when nobody asks.

The port's fast path (:mod:`rcu_harness.memory.maple_node`) is sequentially
consistent and records nothing a strategy could ask for: an observed load
is one Python call (``Words.__getitem__``) that makes the scheduling point,
the checks, and a plain list index.  Two later layers need more from each
access:

* a weak memory model (``--memory-model lkmm``): a load may read an older
  store than the last one in coherence order, chosen at the access; a store
  enters the location's history;
* search strategies such as POS or reads-from fuzzing: at a scheduling
  point they want the *pending* access of every runnable thread (node,
  word, index, load or store).

Both hook in through :class:`AccessHook`, set as ``ex.access_hook`` before
the program's setup runs (an observer's ``execution_start`` is the place).
A *passive* hook (a strategy's pending accesses alone, nothing to call at
an access) keeps the plain nodes: their inline paths set the pending
access at the point where they ask the strategy and clear it when the
thread runs on.  When any other hook is set, the instrumented port
allocates *hooked* nodes
(:class:`HookedSimMapleNode` with :class:`HookedWords`), whose observed
accesses take the port's general path, which

1. if the hook ``wants_pending``, stores the pending access on the thread
   (``t.pending``, an :class:`Access`) before the scheduling point, so that
   a strategy deciding at that point sees, for each suspended runnable
   thread, the access it will make when it runs (``None``: a point that is
   not a memory access: a lock, an RCU primitive, a yield);
2. after the point, passes a load's value through :meth:`AccessHook.load`
   (the memory model returns the value the load reads) and a store through
   :meth:`AccessHook.store` (before the word is written), unless the hook
   is :attr:`~AccessHook.passive` (a strategy's pending accesses alone);
3. clears ``t.pending``.

A pending access is made only where a strategy can read it: at a point that
asks the strategy.  The inline branch of a kept thread's lease (a point
that decides nothing: the thread runs on) makes none.

The tree words (``ma_root``, ``ma_flags``) go through the same three steps.
So do the fields of published :class:`~rcu_harness.memory.simstruct.SimStruct`
objects.  Stores the threads make without a scheduling point (to a private
node or struct, or while the execution is quiet) reach :meth:`AccessHook.store`
too, without a pending access: a memory model must know every store made
while the threads run (a private node's initialisation is what a reader
may fail to see).
Without a hook (the default: ``sc`` and every strategy that does not ask)
the node classes are the plain ones and the tree-word paths test one
attribute, so sequential consistency pays nothing measurable.  A node's
class is fixed at allocation: a hook installed after setup does not see the
nodes built before it.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from rcu_harness.memory.heap import PUBLISHED
from rcu_harness.memory.maple_node import SimMapleNode, Words
from rcu_harness.runtime.pending import Access as Access
from rcu_harness.runtime.pending import MapleAccess as MapleAccess
from rcu_harness.runtime.thread import Phase

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

_lset = list.__setitem__
_RUN = Phase.RUN


class RmwOrder(Enum):
    """The ordering of an atomic read-modify-write, as the kernel names it
    (``atomic_fetch_add_relaxed()``, ``_acquire()``, ``_release()``, and the
    fully ordered value-returning forms); a failed conditional RMW (a
    cmpxchg that does not write) is unordered, whatever its order."""

    RELAXED = "relaxed"
    ACQUIRE = "acquire"
    RELEASE = "release"
    FULL = "full"


class AccessHook(Protocol):
    """What a memory model (or a strategy's helper) implements."""

    @property
    def wants_pending(self) -> bool:
        """Should the port set ``t.pending`` before each access (a strategy
        that reads pending accesses wants it; a memory model alone does
        not, and is spared building an :class:`Access` per access)?"""

    @property
    def passive(self) -> bool:
        """Are :meth:`load` and :meth:`store` no-ops (a load reads @value, a
        store does nothing, :attr:`last_read` stays None)?  Then the port
        does not call them, and what the harness does while the execution
        is quiet (setup, mt_validate()) is what it does without a hook:
        setup snapshots and mt_validate()'s fast pass stay on.  Only
        :class:`~rcu_harness.runtime.execution.PendingOnly` is."""

    @property
    def last_read(self) -> object | None:
        """What the event of the last load records as its value: None for
        the value itself; a memory model sets a
        :class:`~rcu_harness.trace.events.ReadsFrom` (which store it read)."""

    def load(self, ex: Execution, obj: Any, word: str, index: int,
             value: Any) -> Any:
        """The value the current thread's load of @obj's @word[@index] reads;
        @value is the last store in coherence order (what ``sc`` reads)."""

    def store(self, ex: Execution, obj: Any, word: str, index: int,
              value: Any) -> None:
        """The current thread stores @value into @obj's @word[@index] (called
        before the word is written; also for the stores the threads make
        without a scheduling point)."""


class HookedWords(Words):
    """A word array of a hooked node: observed accesses go through the
    port's general path, which consults ``ex.access_hook``."""

    __slots__ = ()

    def __getitem__(self, i: Any) -> Any:
        node = self._node
        if node._w & PUBLISHED and not node._ex.quiet:
            return node._port.load_words(node, self, i)
        return Words.__getitem__(self, i)

    def __setitem__(self, i: Any, value: Any) -> None:
        node = self._node
        if node._w:
            node._port.store_words(node, self, i, value)
            return
        ex = node._ex
        hook = ex.access_hook
        if hook is not None and ex.phase is _RUN:  # a private store, tracked
            if type(i) is int:
                hook.store(ex, node, self._word, i, value)
            else:
                for k, v in zip(range(*i.indices(len(self))), value, strict=True):
                    hook.store(ex, node, self._word, k, v)
        _lset(self, i, value)


class HookedSimMapleNode(SimMapleNode):
    """A node whose parent and meta words go through the port's general
    path (stores to a private node's included)."""

    __slots__ = ()

    @property
    def parent(self) -> int:
        """The parent word, through the port when watched."""
        if self._w:
            value: int = self._port.load_word(self, "parent")
            return value
        return self._p

    @parent.setter
    def parent(self, value: int) -> None:
        self._port.store_word(self, "parent", value)

    @property
    def meta(self) -> Any:
        """The arange64 metadata word, through the port when watched."""
        if self._w:
            return self._port.load_word(self, "meta")
        return self._m

    @meta.setter
    def meta(self, value: Any) -> None:
        self._port.store_word(self, "meta", value)
