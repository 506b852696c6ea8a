"""Locks as shared words, for the strategies and the coverage that ask.

A lock operation is a scheduling point on the lock, and what a lock hands
from its release to its next acquisition is a flow of data like any
store's to a load: PCT-style stalls and reads-from fuzzing care about
which release an acquisition followed.  Under an access hook
(:mod:`rcu_harness.memory.access`: a watching strategy, reads-from
coverage) and sequential consistency, a lock operation therefore

* sets the thread's *pending* access before its point (the lock's address,
  word ``lock``, a store: two threads about to take the same lock race, so
  POS redraws their priorities as for two stores to one node word), and
* passes through the hook as a load and a store of the word ``lock`` (an
  acquisition: it reads from the previous release or acquisition) or as a
  store (a release), so that reads-from coverage has the pairs ``lock:
  release site -> acquire site`` (``up_write`` in ``vma_start_write`` ->
  ``down_read_trylock`` in ``vma_start_read``).

Without a hook nothing changes (one attribute test per operation).  Under a
weak memory model the model orders lock operations itself
(``lock_acquire``, ``lock_release``) and nothing here runs: a lock word is
not a location of the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.pending import word_access
from rcu_harness.runtime.thread import Phase

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

WORD = "lock"
"""The word a lock operation accesses."""
_RUN = Phase.RUN


def sync_point(ex: Execution, obj: Any, word: str = WORD) -> None:
    """The scheduling point of an operation on @obj's @word (a lock; called
    when ``ex.access_hook`` is set): the pending access is set for a hook
    that wants it."""
    hook = ex.access_hook
    if hook is None or not hook.wants_pending or ex.memory_model is not None:
        ex.point()
        return
    t = ex.cur
    t.pending = word_access(obj.addr, word, True)
    ex.point()
    t.pending = None


def sync_flow(ex: Execution, obj: Any, *, acquire: bool, word: str = WORD) -> None:
    """A lock operation on @obj has taken effect: an acquisition reads
    @word and writes it, a release writes it (through ``ex.access_hook``,
    under sequential consistency, while the threads run)."""
    hook = ex.access_hook
    if hook is None or ex.memory_model is not None or ex.phase is not _RUN \
            or ex.quiet:
        return
    if acquire:
        hook.load(ex, obj, word, -1, None)
    hook.store(ex, obj, word, -1, None)
