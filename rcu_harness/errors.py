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
