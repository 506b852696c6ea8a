"""The engine: simulated threads, one execution, the runner.

Layering: ``runtime`` knows strategies only through
:class:`~rcu_harness.sched.protocol.Strategy`, checkers only through
:class:`~rcu_harness.checks.observer.Hooks`; the modelled objects (``rcu``,
``sync``, ``memory``) call into the execution's scheduling points.
"""
