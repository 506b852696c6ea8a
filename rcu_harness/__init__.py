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
module's docstring says more): sequential consistency by default, and with
``memory_model="lkmm"`` an approximation of the Linux kernel memory model
that never produces load buffering (:mod:`rcu_harness.memory.wmm`);
no preemption model beyond "any thread may run at any scheduling point";
freed addresses are never reused.

Layering, bottom first (:data:`LAYERS`; ``tests/test_layering.py`` fails
if a module imports from a layer above its own, except for type hints
under ``TYPE_CHECKING``, or from another unit of its own layer):

* ``maple``: the model of lib/maple_tree.c; imports nothing of the harness;
* leaves: ``errors``, ``version``, ``invocation`` (how printed commands
  name the running harness), ``trace`` (events, trace files),
  ``store`` (run directories), ``patches`` (model functions swapped for a
  run); then ``known`` (the catalogue of known kernel bugs and the model
  side of their candidate fixes);
* ``sched``: strategies and schedules, which never see program state;
* ``runtime``: the engine, one execution of simulated threads, findings,
  liveness; it gets its RCU model, heap, checkers and strategy passed in;
* the modelled kernel objects: ``sync`` (locks, atomics, may-sleep), then
  ``rcu`` (read-side sections, grace periods), then ``memory`` (heap,
  KASAN, lockdep-RCU, the instrumented maple port), then ``checks``
  (observers), then ``kernel`` (their kernel-named facade);
* ``runner``: a program's harness, one execution wired with the defaults,
  the exploration loop, replay, the shrinker, the OS-thread mode;
* users of the runner: ``testing`` (pytest), ``scenarios`` (the catalog of
  workloads, programs and mutants), ``litmus`` (C litmus tests run on the
  harness, exported from a weak-memory finding, checked by herd7);
* ``campaign`` (stress runs) and ``report``; then ``oracle`` (the kernel's
  own maple tree, which confirms a run's findings); then ``cli``; then this
  module, which re-exports the small public surface.
"""

from rcu_harness.runner.explore import ExploreResult as ExploreResult
from rcu_harness.runner.explore import explore as explore
from rcu_harness.runner.harness import Harness as Harness
from rcu_harness.runner.replay import ReplayResult as ReplayResult
from rcu_harness.runner.replay import replay as replay
from rcu_harness.runtime.finding import Finding as Finding
from rcu_harness.runtime.records import ReadKind as ReadKind
from rcu_harness.sched.schedule import Schedule as Schedule
from rcu_harness.version import __version__ as __version__

LAYERS: tuple[tuple[str, ...], ...] = (
    ("maple",),
    ("rcu_harness.errors", "rcu_harness.version", "rcu_harness.invocation",
     "rcu_harness.trace", "rcu_harness.store", "rcu_harness.patches"),
    ("rcu_harness.known",),
    ("rcu_harness.sched",),
    ("rcu_harness.runtime",),
    ("rcu_harness.sync",),
    ("rcu_harness.rcu",),
    ("rcu_harness.memory",),
    ("rcu_harness.checks",),
    ("rcu_harness.kernel",),
    ("rcu_harness.runner",),
    ("rcu_harness.testing", "rcu_harness.scenarios", "rcu_harness.litmus"),
    ("rcu_harness.campaign", "rcu_harness.report"),
    ("rcu_harness.oracle",),
    ("rcu_harness.cli",),
    ("rcu_harness.__main__", "rcu_harness"),
)
"""The units of the code base, bottom layer first: a unit may import from
units of lower layers only (and from itself)."""

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
