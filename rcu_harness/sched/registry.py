"""Strategies by name, for ``explore(strategy="pct", depth=3)`` and the CLI.

Each entry is a :class:`StrategyKind`: the class and its capabilities
(:mod:`rcu_harness.sched.protocol`), so callers ask the registry, never a
strategy's name, what a strategy can do.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.sched.mix import MixStrategy
from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.random_walk import RandomStrategy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rcu_harness.sched.protocol import Strategy


@dataclass(frozen=True, slots=True)
class StrategyKind:
    """A strategy class and what it can do."""

    name: str
    factory: Callable[..., Strategy]
    """``factory(seed, **params)`` makes one."""
    sequential: bool = False
    """Its instances are :class:`~rcu_harness.sched.protocol.Sequential`."""
    calibrated: bool = False
    """It takes ``steps``, calibrated before a run unless given."""

    def options(self) -> dict[str, Any]:
        """Its keyword parameters with their defaults."""
        sig = inspect.signature(self.factory)
        return {p.name: p.default for p in sig.parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}

    def make(self, seed: int, **params: Any) -> Strategy:
        """A new instance seeded with @seed."""
        return self.factory(seed, **params)


STRATEGIES: Mapping[str, StrategyKind] = MappingProxyType({k.name: k for k in (
    StrategyKind("random", RandomStrategy),
    StrategyKind("pct", PctStrategy, calibrated=True),
    StrategyKind("dfs", DfsStrategy, sequential=True),
    StrategyKind("mix", MixStrategy, calibrated=True),
)})


def strategy_kind(name: str) -> StrategyKind:
    """The registered strategy @name, or a ValueError listing the known ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose one of "
                         + ", ".join(sorted(STRATEGIES))) from None


class StrategyParamError(ValueError):
    """A strategy parameter is out of its bounds (the message is one line)."""


def check_bounds(name: str, params: dict[str, Any], max_steps: int) -> None:
    """Refuse strategy parameters that cannot mean anything for a run whose
    executions take at most @max_steps steps (StrategyParamError).

    * ``steps`` (PCT's ``k``, decisions per execution): at most @max_steps,
      since every decision is a step;
    * ``depth`` (pct, mix): at most :data:`~rcu_harness.sched.pct.MAX_DEPTH`
      (checked by the strategy itself) and at most ``steps + 1``: the
      ``depth - 1`` change points are decisions, and an execution has
      ``steps`` of them;
    * ``preemption_bound`` (dfs): at most @max_steps (a preemption is a
      decision).
    """
    steps = params.get("steps", 0)
    if steps > max_steps:
        raise StrategyParamError(
            f"strategy {name}: steps={steps} exceeds the step bound {max_steps} "
            "(an execution cannot make more decisions than steps)")
    depth = params.get("depth")
    if depth is not None and steps and depth > steps + 1:
        raise StrategyParamError(
            f"strategy {name}: depth={depth} exceeds steps + 1 = {steps + 1} "
            f"(depth - 1 change points among the {steps} decisions of an "
            f"execution); use a depth of at most {steps + 1}")
    bound = params.get("preemption_bound", 0)
    if bound > max_steps:
        raise StrategyParamError(
            f"strategy {name}: preemption_bound={bound} exceeds the step bound "
            f"{max_steps}")


def make_strategy(name: str, seed: int, **params: Any) -> Strategy:
    """A new strategy @name seeded with @seed; @params are its options."""
    return strategy_kind(name).make(seed, **params)
