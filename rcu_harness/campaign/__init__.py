"""Campaigns: stress jobs run by local processes or a cluster into a run directory.

One concept per module, in data-flow order: :mod:`~.jobs` (TOML job files
and command-line overrides) -> :mod:`~.plan` (a checked, resolved run and
its blocks of execution indexes) -> :mod:`~.executor` (where blocks run:
this process or a local process pool, behind a small protocol;
:mod:`~.cluster` implements it on ``dask.distributed``) -> :mod:`~.worker`
(runs a block) ->
:mod:`~.coordinator` (budgets, order, commits, interrupts) ->
:mod:`~.session` (new and resumed run directories) -> :mod:`~.summary`.
:mod:`~.progress` draws progress, :mod:`~.replay` reruns and shrinks one
execution, :mod:`~.catalog` lists what can be run.
"""
