"""Reads-from coverage: which write site each read site read from.

A *reads-from pair* is ``(word, write site, read site)``: a load of a node
word (``pivot``, ``slot``, ``gap``, ``parent``, ``meta``), tree word
(``ma_root``, ``ma_flags``) or published SimStruct field at read site R
returned the value a store at write site W put there; under sequential
consistency an atomic read-modify-write of a field and a lock operation
(word ``lock``: an acquisition reads from the last release,
:mod:`rcu_harness.sync.flow`) count too.  A site is a code location, the
innermost model or scenario frame (``mas_wr_node_store:812``: function and
line of the file that defines it), so the pair names the two lines of lib/maple_tree.c's
model between which a value flowed.  The write site is ``-`` when the value
was stored before the threads ran or while unobserved (setup, a node's
initialisation while it was private: loads of a freshly published node read
those).  Under sequential consistency the store a load reads is the last one
to the same word; the key is the object's address (unique per allocation),
the word and the index.  Under a weak memory model the load may read an
older store: the inner hook then says which one in ``last_read`` (an object
with the ``step`` and ``thread`` of the store read, as the ``wmm`` branch's
:class:`ReadsFrom` records it), and the write site is that store's, kept by
(step, thread) when it was made.

RFF (Wolff et al., ASPLOS 2024) showed that the number of distinct pairs is
the feedback that tracks how much of a concurrent program's behaviour a
search has seen; here it is a measurement for every strategy: a campaign
stores each pair with the first execution that produced it
(:mod:`rcu_harness.store.runstore`), and the saturation curve (distinct
pairs against executions) shows when a campaign stops learning.

It is an access hook (:mod:`rcu_harness.memory.access`), installed by the
:class:`~rcu_harness.checks.reads_from.ReadsFromCoverage` observer at
execution start; it chains to the hook installed before it (a strategy's
pass-through, a memory model) and changes no value, no scheduling point and
no decision: an execution measured is the execution unmeasured.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.callchain import is_model_file

if TYPE_CHECKING:
    from types import FrameType

    from rcu_harness.memory.access import AccessHook
    from rcu_harness.runtime.execution import Execution

UNOBSERVED = "-"
"""The write site of a value stored before the threads ran or unobserved."""

Pair = tuple[str, str, str]
"""(word, write site, read site)."""

_getframe = sys._getframe
_SITES: dict[tuple[Any, int], str] = {}
"""Site names by (code, line), made once."""
_MODEL: dict[str, bool] = {}


def site(skip: int = 2) -> str:
    """The innermost model or scenario frame above the caller's @skip
    frames, as ``function:line`` (``?`` if there is none)."""
    frame: FrameType | None = _getframe(skip)
    model = _MODEL
    while frame is not None:
        code = frame.f_code
        keep = model.get(code.co_filename)
        if keep is None:
            keep = model[code.co_filename] = is_model_file(code.co_filename)
        if keep:
            key = (code, frame.f_lineno)
            name = _SITES.get(key)
            if name is None:
                name = _SITES[key] = f"{code.co_name}:{frame.f_lineno}"
            return name
        frame = frame.f_back
    return "?"


def pair_text(pair: Pair) -> str:
    """``word: write site -> read site``, how a pair is stored and shown."""
    word, writer, reader = pair
    return f"{word}: {writer} -> {reader}"


class ReadsFromHook:
    """The access hook that collects an execution's reads-from pairs."""

    __slots__ = ("by_store", "inner", "last", "pairs")
    wants_pending = True
    passive = False

    def __init__(self, inner: AccessHook | None) -> None:
        self.inner = inner
        """The hook installed before this one (values pass through it)."""
        self.last: dict[tuple[int, str, int], str] = {}
        """Per word, the site of the last observed store."""
        self.pairs: set[Pair] = set()
        self.by_store: dict[tuple[int, int], str] = {}
        """Sites by (step, thread) of the store, for a weak memory model's
        ``last_read``."""

    @property
    def last_read(self) -> object | None:
        """The inner hook's (a weak memory model's store read), else None."""
        return getattr(self.inner, "last_read", None)

    def load(self, ex: Execution, obj: Any, word: str, index: int,
             value: Any) -> Any:
        """Record the pair of this load; @value unchanged (or the inner
        hook's)."""
        inner = self.inner
        if inner is not None:
            value = inner.load(ex, obj, word, index, value)
            read = getattr(inner, "last_read", None)
            if read is not None:  # a weak memory model chose the store
                writer = self.by_store.get((read.step, read.thread), UNOBSERVED)
                self.pairs.add((word, writer, site()))
                return value
        writer = self.last.get((obj.addr, word, index), UNOBSERVED)
        self.pairs.add((word, writer, site()))
        return value

    def store(self, ex: Execution, obj: Any, word: str, index: int,
              value: Any) -> None:
        """Remember the site of this store."""
        if self.inner is not None:
            self.inner.store(ex, obj, word, index, value)
        where = self.last[(obj.addr, word, index)] = site()
        if self.inner is not None:
            self.by_store[(ex.step, ex.cur_tid)] = where
