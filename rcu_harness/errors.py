"""Harness errors: the harness or the program's use of it went wrong.

These are not findings about the model.  When one is raised inside a
simulated thread the execution is aborted and the error re-raised from
``explore()`` / ``replay()``.  A leaf module: every layer may raise them.
"""

from __future__ import annotations


class HarnessError(RuntimeError):
    """Base of errors that escape an execution instead of becoming findings."""


class HarnessUsageError(HarnessError):
    """The program used the harness wrongly (blocking in setup, say)."""


class ExecutionAbandoned(KeyboardInterrupt):
    """A second Ctrl-C (or SIGTERM) during an execution: drop it at once.

    Raised by the campaign's signal handler wherever the execution happens
    to be, it escapes the execution like a Ctrl-C (never a finding);
    ``partial`` carries what the interrupted block finished before.
    """

    partial: object = None
