"""Scenario ``mmput_race``: ``mmget_not_zero()`` against the last ``mmput()``.

The owner holds the only reference, changes its address space a little,
then exits: ``mmput()`` -> ``__mmput()`` -> (2021) ``mt_clear_in_rcu()`` ->
``exit_mmap()``.  Racers call ``mmget_not_zero()``, which in the 2021
design sets RCU mode *before* trying to take the reference.  When a racer
sets RCU mode after ``__mmput()`` cleared it, the dying single-user tree is
destroyed in RCU mode: its nodes are freed through RCU and live one extra
RCU cycle.  The patch documents that race as benign; the scenario counts it
(``teardown_in_rcu_mode``) and never reports it as a failure.  A racer
whose reference succeeds reads the tree and may itself be the last user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.scenarios.mm import (
    DESIGN_PARAM,
    LAYOUT_PARAM,
    Mm,
    Vma,
    mmput,
)
from rcu_harness.scenarios.readers import spawn_owner_and_readers
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.transitions import do_op
from rcu_harness.scenarios.vma import mmap_write_lock, mmap_write_unlock

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness


def owner_thread(h: Harness, cfg: Config, mm: Mm, vmas: list[Vma]) -> None:
    """A few changes, then the task exits and drops the last reference."""
    for k in range(cfg["ops"]):
        mmap_write_lock(mm)
        do_op(h, mm, vmas, ("mmap", "munmap", "split")[k % 3], k, cfg["layout"])
        mmap_write_unlock(mm)
    mmput(h, mm, vmas)


def build(h: Harness, cfg: Config) -> None:
    """Set up the mm and spawn the owner and the racers."""
    spawn_owner_and_readers(h, cfg, owner_thread, name="racer",
                            count=cfg["racers"], reads=1, kind="iterate")


def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (measured: 2,800 at 100 VMAs,
    9,700 with 8 racers, 9,200 with 50 operations; BENCHMARKS.md, *Step
    bounds*)."""
    return int(1000 + 150 * cfg["ops"] + cfg["vmas"] * (10 + 15 * cfg["racers"]))


SCENARIO = Scenario(
    "mmput_race",
    "mmget_not_zero() races the last mmput(): the dying tree may be torn "
    "down in RCU mode (benign, counted as teardown_in_rcu_mode)",
    (
        DESIGN_PARAM,
        LAYOUT_PARAM,
        Param("vmas", 12, "VMAs at the start", 1, 2000),
        Param("layout_seed", 4, "seed of the VMA layout", 0),
        Param("ops", 2, "address-space changes before the owner exits", 0, 100),
        Param("racers", 2, "threads calling mmget_not_zero()", 1, 16),
    ),
    build,
    work,
)
