"""Running programs: the harness a program gets, exploration, replay, shrinking.

The layer above the engine and the modelled objects: it wires an
:class:`~rcu_harness.runtime.execution.Execution` with the default RCU
model, heap and checkers (:mod:`~.run`), hands the program its
:class:`~.harness.Harness`, runs blocks of executions (:mod:`~.block`, the
one exploration loop, used by :func:`~.explore.explore` and by campaign
workers), turns violations into findings (:mod:`~.findings`), replays a
schedule strictly (:mod:`~.replay`), shrinks a failing one
(:mod:`~.shrink`) and runs programs on OS threads (:mod:`~.threaded`).
"""
