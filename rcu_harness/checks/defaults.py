"""The checkers attached to every execution unless the caller says otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.checks.mm_ref import MmRefCheck
from rcu_harness.checks.rcu_mode import RcuModeCheck
from rcu_harness.checks.results import ResultCheck
from rcu_harness.checks.validate import MtValidateCheck
from rcu_harness.checks.vma_lock import VmaLockCheck
from rcu_harness.checks.writer_lock import WriterLockCheck

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.checks.observer import Observer


def default_checkers() -> tuple[Callable[[], Observer], ...]:
    """Factories of the default checkers (fresh instances per execution)."""
    return (WriterLockCheck, RcuModeCheck, MtValidateCheck, MmRefCheck,
            ResultCheck, VmaLockCheck)
