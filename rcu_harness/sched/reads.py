"""How a strategy chooses the store a load reads under a weak memory model.

Under ``--memory-model lkmm`` a load that may read one of several stores
asks the strategy (:class:`~rcu_harness.sched.protocol.ChoosesReads`):
``0`` is the newest store its view allows, ``options - 1`` the oldest.
Every strategy of the registry chooses uniformly from its own generator
(``reads=uniform``).  ``random-sync``, ``pct-site`` and ``pct-relay`` also
take ``reads=oldest``: every such load reads the oldest store the model
allows.  The uniform draw is still made (and thrown away), so an execution
with ``reads=oldest`` makes every other decision exactly as the one with
``reads=uniform`` of the same seed and index: only which store each load
reads differs.  Under ``sc`` no load has a choice, so ``reads`` changes
nothing there.

Why: ``vma-start-read-refcount-relaxed`` (the reference taken relaxed in
``vma_start_read()``) needs the fault, after its increment, to read the
VMA's ``vm_lock_seq`` from before the writer's ``vma_start_write()``; a
uniform choice reads it stale in only some executions that open the window,
and the oldest store in all of them.  pct-site's chance per execution on it
goes from 0.2% to 2.2%, pct-relay's from 1.3% to 3.7% (reports/BENCHMARKS.md,
*Stale reads for the aimed members*).  A publication bug (a reader that
must find the *new* node and read its contents stale,
``replace-node-no-release``, ``dead-node-no-rmb``) is never found with the
oldest store everywhere (0 of 300 executions for surw and pct, against
6 to 20% uniformly): ``reads=oldest`` is for members that aim at a
check-then-act window, beside members that keep the uniform choice
(docs/search.md, *Stale reads*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.sched.errors import check_choice

if TYPE_CHECKING:
    from collections.abc import Callable

READS = ("uniform", "oldest")
"""The read policies: uniform among the stores a load may read, or the oldest."""


def check_reads(reads: str, strategy: str) -> None:
    """Refuse (ValueError, one line) a read policy @strategy does not know."""
    check_choice(strategy, "reads", reads, READS)


def oldest_reads(uniform: Callable[[int, int], int]) -> Callable[[int, int], int]:
    """A ``next_read`` that reads the oldest store, after making the draw
    @uniform makes (so that every later draw of the execution is the same)."""

    def next_read(options: int, thread: int) -> int:
        """The oldest of the @options stores (the uniform draw made and
        dropped)."""
        uniform(options, thread)
        return options - 1

    return next_read
