"""Strategies by name, for ``explore(strategy="pct", depth=3)`` and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.sched.mix import MixStrategy
from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.random_walk import RandomStrategy

if TYPE_CHECKING:
    from rcu_harness.sched.protocol import Strategy

STRATEGIES: dict[str, Any] = {
    "random": RandomStrategy,
    "pct": PctStrategy,
    "dfs": DfsStrategy,
    "mix": MixStrategy,
}

CALIBRATED = frozenset({"pct", "mix"})
"""Strategies whose ``steps`` parameter (PCT's ``k``) is calibrated before a run."""


def make_strategy(name: str, seed: int, **params: Any) -> Strategy:
    """A new strategy @name seeded with @seed; @params are its options."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose one of "
                         + ", ".join(sorted(STRATEGIES))) from None
    strategy: Strategy = cls(seed, **params)
    return strategy
