"""Errors a strategy raises when the program does not behave as recorded.

They are harness errors, not findings: the runtime lets them escape the
execution instead of reporting them as a bug in the model.
"""

from __future__ import annotations

from rcu_harness.errors import HarnessError


class StrategyError(HarnessError):
    """Base of errors raised by strategies."""


class ReplayDivergence(StrategyError):
    """Replay reached a decision the recorded schedule does not match."""


class NondeterminismError(StrategyError):
    """The program behaved differently on the same decision prefix."""
