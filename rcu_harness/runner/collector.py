"""The cyclic garbage collector's young threshold while a block runs.

CPython starts a young collection whenever 700 more container objects
were allocated than freed (``gc.get_threshold()[0]``).  An execution makes
tens of thousands of them (node views, frames, accesses, records), most
alive until it ends, so at the default threshold a young pass walks the
running execution's live objects every 700 allocations, promotes them, and
the older generations walk them again.  What a pass frees is the
execution's cycles (a node and its word arrays point at each other), which
wait just as well for a pass every :data:`YOUNG` allocations.  The
collector decides nothing an execution does: its passes only free
unreachable objects, and the harness keeps no weak references or
finalisers that would run model code, so every execution, trace and
finding is the same at any threshold (tests/runner/test_collector.py runs
blocks both ways).  Measured in docs/performance.md (*Twelfth round*):
1.5 to 2.6% of an execution's instructions.

:func:`young_threshold` raises it for the duration of a block and puts the
caller's thresholds back after, so a program that calls
:func:`~rcu_harness.runner.block.run_block` keeps its own settings.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

YOUNG = 10_000
"""Net container allocations between two young collections while a block
runs (CPython's default: 700).  10,000 and 50,000 measured alike; the
memory it lets wait is a few MB at most."""


@contextmanager
def young_threshold(young: int = YOUNG) -> Iterator[None]:
    """Run the body with the young generation's threshold at @young (never
    lowered below the caller's; a disabled collector stays disabled)."""
    saved = gc.get_threshold()
    if young > saved[0] > 0:
        gc.set_threshold(young, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)
