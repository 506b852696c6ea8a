"""rcu-harness: deterministic interleaving exploration for RCU code.

Background: a lockless reader of an RCU-protected structure (the maple tree
under ``mmap_lock``-free lookups) must never touch memory freed by a
writer, and must never return an entry that was not there.  Such races
need a precise interleaving to show up; stress testing finds them by luck.

Solution: the code under test (the Python model in ``maple/`` plus scenario
code) runs as simulated threads, stackful greenlets, and every access another
thread could observe is a *scheduling point* where a strategy (random walk,
PCT, bounded DFS, replay) picks who runs next.  RCU grace periods are run by
a simulated kthread the strategy schedules too, so they end at the earliest
legal moment.  Freed memory is poisoned and reported in KASAN's layout;
lockdep-RCU, lock discipline, leaks, liveness and reader-result checkers
watch every execution.  Every finding carries the schedule that replays it.

Writing tests::

    from rcu_harness import explore
    from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock, kfree_rcu

    def program(h):
        ...build the world, then h.spawn("reader", reader, ...)

    result = explore(program, strategy="pct", executions=500, seed=1)
    assert result.ok, result.findings[0].report

Under pytest use :func:`rcu_harness.testing.check`.  Limitations (each
module's docstring says more): sequential consistency only, no weak memory;
no preemption model beyond "any thread may run at any scheduling point";
freed addresses are never reused.

Layering: ``runtime`` (engine) <- ``sched`` (strategies), ``rcu``, ``sync``,
``memory`` (modelled objects), ``checks`` (observers), ``trace`` (events and
files); this module re-exports the small public surface.
"""

from rcu_harness.runtime.finding import Finding as Finding
from rcu_harness.runtime.harness import Harness as Harness
from rcu_harness.runtime.records import ReadKind as ReadKind
from rcu_harness.runtime.runner import ExploreResult as ExploreResult
from rcu_harness.runtime.runner import ReplayResult as ReplayResult
from rcu_harness.runtime.runner import explore as explore
from rcu_harness.runtime.runner import replay as replay
from rcu_harness.sched.schedule import Schedule as Schedule

__version__ = "0.1.0"

__all__ = [
    "ExploreResult",
    "Finding",
    "Harness",
    "ReadKind",
    "ReplayResult",
    "Schedule",
    "__version__",
    "explore",
    "replay",
]
