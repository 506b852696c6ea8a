"""Errors a strategy raises when the program does not behave as recorded,
and the one-line refusal of a parameter value it does not know.

They are harness errors, not findings: the runtime lets them escape the
execution instead of reporting them as a bug in the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.errors import HarnessError

if TYPE_CHECKING:
    from collections.abc import Sequence


def check_choice(strategy: str, param: str, value: str,
                 choices: Sequence[str]) -> None:
    """Refuse (ValueError, one line) a value of @strategy's @param that is
    not one of @choices."""
    if value not in choices:
        raise ValueError(f"{strategy} {param} must be one of {', '.join(choices)} "
                         f"(got {value!r})")


class StrategyError(HarnessError):
    """Base of errors raised by strategies."""


class ReplayDivergence(StrategyError):
    """Replay reached a decision the recorded schedule does not match."""


class NondeterminismError(StrategyError):
    """The program behaved differently on the same decision prefix."""
