"""A thread's pending access: what it loads or stores when it next runs.

Set on ``SimThread.pending`` by the access seam
(:mod:`rcu_harness.memory.access`) and by lock operations
(:mod:`rcu_harness.sync.flow`) for the strategies that watch
(:class:`~rcu_harness.sched.protocol.Watching`).  It lives in the runtime
layer so that every layer above (``sync``, ``memory``) can make one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Access:
    """A pending memory access of a thread (what it does when it next runs)."""

    addr: int
    """The node's, tree's, struct's or lock's address."""
    word: str
    """``pivot``, ``slot``, ``gap``, ``parent``, ``meta``, ``ma_root``,
    ``ma_flags``, a SimStruct field's name, or ``lock``."""
    index: int
    """The array index, -1 for single words."""
    store: bool
    """A store (else a load); a lock operation is a store."""
