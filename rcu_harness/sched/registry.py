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

from rcu_harness.sched.aimed import AimedStrategy
from rcu_harness.sched.aimed_class import AimedClassStrategy
from rcu_harness.sched.aimed_conflict import AimedConflictStrategy
from rcu_harness.sched.aimed_data import AimedDataStrategy
from rcu_harness.sched.aimed_pct import AimedPctStrategy
from rcu_harness.sched.aimed_rcu import AimedRcuStrategy
from rcu_harness.sched.aimed_relay import AimedRelayStrategy
from rcu_harness.sched.aimed_site import AimedSiteStrategy
from rcu_harness.sched.aimed_stale import AimedStaleStrategy
from rcu_harness.sched.aimed_surw import AimedSurwStrategy
from rcu_harness.sched.dfs import DfsStrategy
from rcu_harness.sched.mix import MixStrategy
from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.pct_relay import PctRelayStrategy
from rcu_harness.sched.pct_site import PctSiteStrategy
from rcu_harness.sched.pct_sync import PctSyncStrategy
from rcu_harness.sched.portfolio import PortfolioStrategy
from rcu_harness.sched.pos import PosStrategy
from rcu_harness.sched.protocol import Guided
from rcu_harness.sched.random_sync import RandomSyncStrategy
from rcu_harness.sched.random_walk import RandomStrategy
from rcu_harness.sched.rff import RffStrategy
from rcu_harness.sched.surw import SurwStrategy

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
    sync_calibrated: bool = False
    """It takes ``sync_steps`` (``pct-sync``'s ``k``), calibrated before a
    run unless given, when an instance has ``counts_sync`` (a portfolio only
    with a ``pct-sync`` member: :func:`counts_sync`)."""
    site_calibrated: bool = False
    """It takes ``sites`` (``pct-site``'s number of sites), calibrated
    before a run unless given, when an instance has ``counts_sites`` (a
    portfolio only with a ``pct-site`` member: :func:`counts_sites`)."""
    profiled: bool = False
    """It takes ``profile``, measured before a run unless given."""
    watching: bool = False
    """Its instances are :class:`~rcu_harness.sched.protocol.Watching`
    (they read pending accesses)."""
    guided: bool = False
    """Its instances are :class:`~rcu_harness.sched.protocol.Guided`: runs
    measure reads-from coverage and feed it the corpus of earlier epochs
    (a portfolio is guided only with an rff member: :func:`is_guided`)."""

    def options(self) -> dict[str, Any]:
        """Its keyword parameters with their defaults."""
        sig = inspect.signature(self.factory)
        return {p.name: p.default for p in sig.parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}

    def make(self, seed: int, **params: Any) -> Strategy:
        """A new instance seeded with @seed; ValueError if it has a
        ``check_given`` (a portfolio) that refuses one of @params (a member
        parameter none of its members takes)."""
        strategy = self.factory(seed, **params)
        check_given = getattr(strategy, "check_given", None)
        if check_given is not None:
            check_given(params)
        return strategy


STRATEGIES: Mapping[str, StrategyKind] = MappingProxyType({k.name: k for k in (
    StrategyKind("random", RandomStrategy),
    StrategyKind("pct", PctStrategy, calibrated=True),
    StrategyKind("dfs", DfsStrategy, sequential=True),
    StrategyKind("mix", MixStrategy, calibrated=True),
    StrategyKind("pos", PosStrategy, watching=True),
    StrategyKind("surw", SurwStrategy, profiled=True, watching=True),
    StrategyKind("portfolio", PortfolioStrategy, calibrated=True, profiled=True,
                 watching=True, sync_calibrated=True, site_calibrated=True),
    StrategyKind("rff", RffStrategy, guided=True),
    StrategyKind("pct-sync", PctSyncStrategy, watching=True, sync_calibrated=True),
    StrategyKind("random-sync", RandomSyncStrategy, watching=True),
    StrategyKind("pct-site", PctSiteStrategy, watching=True, site_calibrated=True),
    StrategyKind("pct-relay", PctRelayStrategy, watching=True, site_calibrated=True),
    StrategyKind("aimed", AimedStrategy, calibrated=True, watching=True,
                 sync_calibrated=True),
    StrategyKind("aimed-surw", AimedSurwStrategy, calibrated=True, profiled=True,
                 watching=True, sync_calibrated=True),
    StrategyKind("aimed-site", AimedSiteStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-relay", AimedRelayStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-stale", AimedStaleStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-pct", AimedPctStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-rcu", AimedRcuStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-class", AimedClassStrategy, calibrated=True, profiled=True,
                 watching=True, site_calibrated=True),
    StrategyKind("aimed-conflict", AimedConflictStrategy, calibrated=True,
                 profiled=True, watching=True, site_calibrated=True),
    StrategyKind("aimed-data", AimedDataStrategy, calibrated=True,
                 profiled=True, watching=True, site_calibrated=True),
)})


def strategy_kind(name: str) -> StrategyKind:
    """The registered strategy @name, or a ValueError listing the known ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose one of "
                         + ", ".join(sorted(STRATEGIES))) from None


def is_guided(name: str, params: Mapping[str, Any]) -> bool:
    """Is strategy @name with @params :class:`~rcu_harness.sched.protocol.Guided`?"""
    return strategy_kind(name).guided or isinstance(
        make_strategy(name, 0, **params), Guided)


def counts_sync(name: str, params: Mapping[str, Any]) -> bool:
    """Does strategy @name with @params take ``sync_steps`` (``pct-sync``,
    a portfolio with a ``pct-sync`` member)?"""
    return strategy_kind(name).sync_calibrated and bool(getattr(
        make_strategy(name, 0, **params), "counts_sync", False))


def counts_sites(name: str, params: Mapping[str, Any]) -> bool:
    """Does strategy @name with @params take ``sites`` (``pct-site``, a
    portfolio with a ``pct-site`` member)?"""
    return strategy_kind(name).site_calibrated and bool(getattr(
        make_strategy(name, 0, **params), "counts_sites", False))


def takes(name: str, params: Mapping[str, Any], key: str) -> bool:
    """Does strategy @name with @params use parameter @key (a portfolio only
    when one of its members takes it: its ``takes``)?"""
    if key not in strategy_kind(name).options():
        return False
    return key in getattr(make_strategy(name, 0, **params), "takes", (key,))


MAX_EXECUTION = (1 << 63) - 1
"""The largest execution index: a run store keys executions by a signed
64-bit integer."""
MAX_SEQUENTIAL_REPLAY = 100_000
"""The largest execution a sequential strategy (dfs) regenerates by seed:
it must run every execution before it (replay the trace file instead)."""


class StrategyParamError(ValueError):
    """A strategy parameter is out of its bounds (the message is one line)."""


def check_execution(name: str, execution: int,
                    params: Mapping[str, Any] | None = None) -> None:
    """Refuse an execution index that cannot be regenerated by seed in
    reasonable time (StrategyParamError): random-access strategies reach
    any index at once, up to :data:`MAX_EXECUTION`; a sequential one (and a
    guided one, for its corpus) runs every execution before it, up to
    :data:`MAX_SEQUENTIAL_REPLAY`."""
    if execution > MAX_EXECUTION:
        raise StrategyParamError(f"--execution {execution} is beyond the largest "
                                 f"execution index {MAX_EXECUTION}")
    kind = strategy_kind(name)
    guided = is_guided(name, params or {})
    if (kind.sequential or guided) and execution > MAX_SEQUENTIAL_REPLAY:
        raise StrategyParamError(
            f"strategy {name} regenerates execution {execution} only by running "
            f"every execution before it (at most {MAX_SEQUENTIAL_REPLAY} by "
            "seed); replay the finding's trace file instead")


def check_bounds(name: str, params: dict[str, Any], max_steps: int) -> None:
    """Refuse strategy parameters that cannot mean anything for a run whose
    executions take at most @max_steps steps (StrategyParamError).

    * ``steps`` (PCT's ``k``, decisions per execution) and ``sync_steps``
      (pct-sync's, sync decisions per execution): at most @max_steps,
      since every decision is a step;
    * ``depth`` (pct, mix, pct-sync): at most
      :data:`~rcu_harness.sched.pct.MAX_DEPTH` (checked by the strategy
      itself) and at most ``steps + 1`` (``sync_steps + 1``): the
      ``depth - 1`` change points are decisions, and an execution has
      ``steps`` of them;
    * ``sites`` and ``fallback_steps`` (pct-site): at most @max_steps (a
      site is reached, a sync decision made, at a decision), and
      ``fallback_steps`` only with ``sites`` below 2;
    * ``preemption_bound`` (dfs): at most @max_steps (a preemption is a
      decision).
    """
    depth = params.get("depth")
    for key in ("steps", "sync_steps"):
        steps = params.get(key, 0)
        if steps > max_steps:
            raise StrategyParamError(
                f"strategy {name}: {key}={steps} exceeds the step bound "
                f"{max_steps} (an execution cannot make more decisions than steps)")
        if depth is not None and steps and depth > steps + 1:
            raise StrategyParamError(
                f"strategy {name}: depth={depth} exceeds {key} + 1 = {steps + 1} "
                f"(depth - 1 change points among the {steps} decisions of an "
                f"execution); use a depth of at most {steps + 1}")
    if params.get("fallback_steps", 0) and params.get("sites", 0) >= 2:
        raise StrategyParamError(
            f"strategy {name}: fallback_steps applies only with fewer than 2 "
            f"sites (sites={params['sites']})")
    if params.get("fallback_steps", 0) > max_steps:
        raise StrategyParamError(
            f"strategy {name}: fallback_steps={params['fallback_steps']} exceeds "
            f"the step bound {max_steps} (an execution cannot make more "
            "decisions than steps)")
    if params.get("sites", 0) > max_steps:
        raise StrategyParamError(
            f"strategy {name}: sites={params['sites']} exceeds the step bound "
            f"{max_steps} (a site is reached at a decision)")
    bound = params.get("preemption_bound", 0)
    if bound > max_steps:
        raise StrategyParamError(
            f"strategy {name}: preemption_bound={bound} exceeds the step bound "
            f"{max_steps}")


def make_strategy(name: str, seed: int, **params: Any) -> Strategy:
    """A new strategy @name seeded with @seed; @params are its options."""
    return strategy_kind(name).make(seed, **params)
