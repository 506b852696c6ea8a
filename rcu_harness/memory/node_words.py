"""The node-word slow path of the instrumented port.

:class:`NodeWordsPath` is what :class:`~rcu_harness.memory.maple_port.InstrumentedPort`
does for a node-word access that the inline fast path of
:mod:`rcu_harness.memory.maple_node` leaves to it: slices (word by word, as
the model's ``memcpy``), loads of freed nodes outside the threads, the parent
and meta stores (where ``mte_set_node_dead()`` is recognised), publication,
and every observed access of a hooked node (:mod:`rcu_harness.memory.access`:
the pending access, the hook's load and store).  The steps of an observed
load are those of ``Words.__getitem__``: the scheduling point, the poison
check (a finding, or a retired-object sample), lockdep-RCU, the event,
interleaving coverage; of a store: the point, the poison check, the store
hooks (writer-lock checker), the event, publication.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from maple.node import MapleEnode
from rcu_harness.memory.coverage import reader_load
from rcu_harness.memory.heap import FREED, PUBLISHED
from rcu_harness.memory.kasan import use_after_free
from rcu_harness.memory.lockdep import suspicious_rcu_usage
from rcu_harness.memory.maple_node import (
    RawSimMapleNode,
    model_code,
    observed_view,
    quiet_view,
)
from rcu_harness.memory.records import AllocState
from rcu_harness.memory.simstruct import SimStruct
from rcu_harness.memory.simstruct import publish as publish_struct
from rcu_harness.runtime.pending import maple_access
from rcu_harness.runtime.thread import Phase
from rcu_harness.trace.events import EventKind

if TYPE_CHECKING:
    from rcu_harness.memory.maple_node import SimMapleNode, Words
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.sync.spinlock import SpinLock

_LOAD = EventKind.LOAD.value
_STORE = EventKind.STORE.value
_RUN = Phase.RUN
_SETUP = Phase.SETUP
_getframe = sys._getframe
_lget = list.__getitem__
_lset = list.__setitem__
_ADDR_MASK = ~0xFF


_CALLER = object()
"""The model function of an access is its caller's (read from the stack)."""


def _code(ex: Execution, depth: int) -> Any:
    """The code object @depth frames up (past transparent helpers such as
    the port's rcu_assign_pointer()), when the execution records functions."""
    return model_code(depth) if ex.record > 1 else None


class NodeWordsPath:
    """The slow path of node-word loads and stores (a port mixin)."""

    ex: Execution
    writers: dict[Any, Any]
    setup_quiet: list[SimMapleNode]

    def lockdep(self, node: SimMapleNode, where: str, lock: SpinLock) -> None:
        """A load of @node's @where by a thread neither in a read-side section
        nor holding @lock: lockdep-RCU's suspicious RCU usage, unless @lock is
        an external lock the thread holds for read (mt_locked())."""
        if self.ex.cur in getattr(lock, "readers", ()):
            return  # mt_locked(): the external lock held for read will do
        self.ex.fail(suspicious_rcu_usage(self.ex, node, where, lock))

    def _uaf(self, node: SimMapleNode, access: str, word: str, index: int) -> None:
        self.ex.fail(use_after_free(self.ex, node._rec, access, word, index))

    def _dead_load(self, node: SimMapleNode, access: str, word: str,
                   index: int) -> None:
        """A load from a freed (a finding) or retired (sampled) node."""
        if node._w & FREED:
            self._uaf(node, access, word, index)
        else:
            self.ex.heap.retired_read(node._rec, node._lock)

    def load_words(self, node: SimMapleNode, words: Words, i: Any,
                   code: Any = _CALLER) -> Any:
        """Load @words[@i] (an index or a slice) of a watched node.

        @code: the model function the load's event names (default: the
        caller of the word array's ``__getitem__``); a slice's loads all
        name the one that loaded the slice."""
        if isinstance(i, slice):
            ex = self.ex
            if ex.access_hook is None and ex.record < 2:
                return self._load_slice(node, words, i)
            code = _code(ex, 3)
            out = []
            for k in range(*i.indices(len(words))):
                out.append(self.load_words(node, words, k, code))
            return out
        ex = self.ex
        if node._w & PUBLISHED and not ex.quiet:
            hook = ex.access_hook
            if ex.lease:  # Execution._point_kept's first branch: the kept thread
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            elif hook is None or not hook.wants_pending:
                ex.point()
            elif ex.watch_lease:  # the keeper's answer at a maple word
                ex.watch_lease -= 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                ex.cur.pending = maple_access(node.addr, words._word, i, False)
                ex.point()
            if node._w > PUBLISHED:
                self._dead_load(node, "Read", words._word, i)
            t = ex.cur
            lock = node._lock
            if not (t.rcu_nesting or lock is None or lock.owner is t or t.tid == 0):
                self.lockdep(node, f"{words._word}[{i}]", lock)
            value = shown = _lget(words, i)
            if hook is not None:
                if not hook.passive:
                    value = shown = hook.load(ex, node, words._word, i, value)
                    if hook.last_read is not None:
                        shown = hook.last_read
                t.pending = None
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _LOAD, node.addr,
                                  words._word, i, shown,
                                  _code(ex, 3) if code is _CALLER else code))
            if self.writers and lock in self.writers and not t.write_ops:
                reader_load(ex.metrics, t, node, lock)
            return value
        if node._w & FREED:
            self._uaf(node, "Read", words._word, i)
        return _lget(words, i)

    def _load_slice(self, node: SimMapleNode, words: Words, i: slice) -> list[Any]:
        """:meth:`load_words` of each index of slice @i, written out in one
        loop (no access hook, no model functions recorded: nothing reads
        the call stack), the same checks in the same order per word."""
        ex = self.ex
        word = words._word
        out: list[Any] = []
        for k in range(*i.indices(len(words))):
            if node._w & PUBLISHED and not ex.quiet:
                if ex.lease:  # Execution._point_kept's first branch
                    ex.lease -= 1
                    ex.kept += 1
                    ex.step += 1
                    ex.decisions.append(ex.cur_tid)
                else:  # no watch lease without a watching strategy's hook
                    ex.point()
                if node._w > PUBLISHED:
                    self._dead_load(node, "Read", word, k)
                t = ex.cur
                lock = node._lock
                if not (t.rcu_nesting or lock is None or lock.owner is t
                        or t.tid == 0):
                    self.lockdep(node, f"{word}[{k}]", lock)
                value = _lget(words, k)
                if ex.record:
                    ex.events.append((ex.step, ex.cur_tid, _LOAD, node.addr,
                                      word, k, value, None))
                if self.writers and lock in self.writers \
                        and not ex.cur.write_ops:
                    reader_load(ex.metrics, ex.cur, node, lock)
                out.append(value)
            else:
                if node._w & FREED:
                    self._uaf(node, "Read", word, k)
                out.append(_lget(words, k))
        return out

    def store_words(self, node: SimMapleNode, words: Words, i: Any,
                    value: Any, code: Any = _CALLER) -> None:
        """Store @value into @words[@i] (an index or a slice) of a watched
        node (@code: as :meth:`load_words`'s)."""
        if isinstance(i, slice):
            values = list(value)
            idx = range(*i.indices(len(words)))
            if len(idx) != len(values):
                raise ValueError("slice store would resize a node word array")
            if node._w & PUBLISHED and not self.ex.quiet:  # word by word
                code = _code(self.ex, 3)
                for k, v in zip(idx, values, strict=True):
                    self.store_words(node, words, k, v, code)
                return
            if node._w & FREED and idx:  # unobserved: what store_words does
                self._uaf(node, "Write", words._word, idx[0])
            tracker = self.ex.access_hook
            if tracker is not None and self.ex.phase is _RUN and not tracker.passive:
                for k, v in zip(idx, values, strict=True):
                    tracker.store(self.ex, node, words._word, k, v)
            if node._w & PUBLISHED:
                for v in values:
                    if v is not None and type(v) is not int:
                        self.publish_value(node, v)
            _lset(words, i, values)
            return
        ex = self.ex
        if node._w & PUBLISHED and not ex.quiet:
            access = ex.access_hook
            if ex.lease:  # Execution._point_kept's first branch: the kept thread
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            elif access is None or not access.wants_pending:
                ex.point()
            elif ex.watch_lease:  # the keeper's answer at a maple word
                ex.watch_lease -= 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                ex.cur.pending = maple_access(node.addr, words._word, i, True)
                ex.point()
            if node._w & FREED:
                self._uaf(node, "Write", words._word, i)
            if node._lock is not None:
                for hook in ex.hooks.store:
                    hook(ex, ex.cur, node, words._word, i, value, node._lock)
            if access is not None:
                if not access.passive:
                    access.store(ex, node, words._word, i, value)
                ex.cur.pending = None
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _STORE, node.addr,
                                  words._word, i, value,
                                  _code(ex, 3) if code is _CALLER else code))
        else:
            if node._w & FREED:
                self._uaf(node, "Write", words._word, i)
            access = ex.access_hook
            if access is not None and ex.phase is _RUN and not access.passive:
                access.store(ex, node, words._word, i, value)  # unobserved, tracked
        if node._w & PUBLISHED:
            self.publish_value(node, value)
        _lset(words, i, value)

    def publish_value(self, node: SimMapleNode, value: Any) -> None:
        """@value is being stored into published @node: what it points to
        becomes reachable.

        Publication is bookkeeping, not observation: a node becomes
        reachable even when the store is unobserved (a tree built before
        the threads start).  An entry that is an instrumented struct (a VMA)
        becomes reachable by readers too, so that their loads of it are
        scheduling points.
        """
        if type(value) is MapleEnode:
            child = cast("SimMapleNode", value[0])
            if not child._w & PUBLISHED:
                self.publish(child, node._lock)
        elif isinstance(value, SimStruct) and not value._w & PUBLISHED:
            publish_struct(value)

    def load_word(self, node: SimMapleNode, word: str) -> Any:
        """Load the parent or meta word of a watched node."""
        ex = self.ex
        attr = "_p" if word == "parent" else "_m"
        if node._w & PUBLISHED and not ex.quiet:
            hook = ex.access_hook
            if ex.lease:  # Execution._point_kept's first branch: the kept thread
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            elif hook is None or not hook.wants_pending:
                ex.point()
            elif ex.watch_lease:  # the keeper's answer at a maple word
                ex.watch_lease -= 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                ex.cur.pending = maple_access(node.addr, word, -1, False)
                ex.point()
            if node._w > PUBLISHED:
                self._dead_load(node, "Read", word, -1)
            t = ex.cur
            lock = node._lock
            if not (t.rcu_nesting or lock is None or lock.owner is t or t.tid == 0):
                self.lockdep(node, word, lock)
            value = shown = getattr(node, attr)
            if hook is not None:
                if not hook.passive:
                    value = shown = hook.load(ex, node, word, -1, value)
                    if hook.last_read is not None:
                        shown = hook.last_read
                t.pending = None
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _LOAD, node.addr, word,
                                  -1, shown, _code(ex, 3)))
            if self.writers and lock in self.writers and not t.write_ops:
                reader_load(ex.metrics, t, node, lock)
            if attr == "_p" and (value & _ADDR_MASK) == node.addr \
                    and (lock is None or lock.owner is not t):
                # A reader saw a dead node and will restart: a spin, so
                # let other threads (the writer) progress first.
                ex.count("reader_restart")
                ex.yield_point()
            return value
        if node._w & FREED:
            self._uaf(node, "Read", word, -1)
        return getattr(node, attr)

    def store_word(self, node: SimMapleNode, word: str, value: Any) -> None:
        """Store the parent or meta word (every parent store comes here)."""
        ex = self.ex
        if node._w & PUBLISHED and not ex.quiet:
            access = ex.access_hook
            if ex.lease:  # Execution._point_kept's first branch: the kept thread
                ex.lease -= 1
                ex.kept += 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            elif access is None or not access.wants_pending:
                ex.point()
            elif ex.watch_lease:  # the keeper's answer at a maple word
                ex.watch_lease -= 1
                ex.step += 1
                ex.decisions.append(ex.cur_tid)
            else:
                ex.cur.pending = maple_access(node.addr, word, -1, True)
                ex.point()
            if node._w & FREED:
                self._uaf(node, "Write", word, -1)
            if node._lock is not None:
                for hook in ex.hooks.store:
                    hook(ex, ex.cur, node, word, -1, value, node._lock)
            if access is not None:
                if not access.passive:
                    access.store(ex, node, word, -1, value)
                ex.cur.pending = None
            if ex.record:
                ex.events.append((ex.step, ex.cur_tid, _STORE, node.addr, word,
                                  -1, value, _code(ex, 3)))
        else:
            if node._w & FREED:
                self._uaf(node, "Write", word, -1)
            access = ex.access_hook
            if access is not None and ex.phase is _RUN and not access.passive:
                access.store(ex, node, word, -1, value)  # unobserved, tracked
        if word == "parent":
            node._p = value
            rec = node._rec
            if (value & _ADDR_MASK) == node.addr:
                ex.heap.mark_dead(rec)
            elif rec.state is AllocState.DEAD:
                ex.heap.revive(rec)
        else:
            node._m = value

    def publish(self, node: SimMapleNode, lock: SpinLock | None) -> None:
        """Make @node and the private subtree below it reachable by readers."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n._w & PUBLISHED and n._lock is not None:
                continue
            n._w |= PUBLISHED
            n._lock = lock
            if type(n) is RawSimMapleNode:  # leaves its private view
                ex = self.ex
                if ex.phase is _SETUP and ex.quiet:
                    quiet_view(n)
                    self.setup_quiet.append(n)
                else:
                    observed_view(n)
            for value in cast("Words", n.slot).raw():
                if type(value) is MapleEnode:
                    child = cast("SimMapleNode", value[0])
                    if not child._w & PUBLISHED:
                        stack.append(child)
