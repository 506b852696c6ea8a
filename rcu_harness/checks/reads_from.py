"""The observer that measures reads-from coverage (not a checker: it never
fails an execution).

At execution start it installs a
:class:`~rcu_harness.memory.reads_from.ReadsFromHook` in front of whatever
access hook is there, and leaves the execution's set of pairs in
``ex.context["reads_from"]`` for the exploration loop
(:func:`rcu_harness.runner.block.run_block` with ``coverage=True``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.checks.observer import Observer
from rcu_harness.memory.reads_from import ReadsFromHook

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution

CONTEXT_KEY = "reads_from"


class ReadsFromCoverage(Observer):
    """Collects the reads-from pairs of one execution."""

    def execution_start(self, ex: Execution) -> None:
        """Install the hook before setup allocates any node."""
        hook = ReadsFromHook(ex.access_hook)
        ex.access_hook = hook
        ex.context[CONTEXT_KEY] = hook.pairs
