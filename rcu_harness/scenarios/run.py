"""Running a registered scenario: exploration, replay by seed, replay commands.

A scenario run is named by (scenario, parameters, mutant, strategy, base
seed, execution index); since execution i's seed depends only on the base
seed and i, that name is enough to rerun any execution exactly, and
:func:`replay_command` prints it as the CLI line that does so.  Model-level
mutant patches are applied around the whole run (:func:`applied`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.runner import (
    ExploreResult,
    ReplayInfo,
    ReplayResult,
    calibrate,
    explore,
    replay,
    run_execution,
)
from rcu_harness.scenarios.mutants import applied
from rcu_harness.scenarios.registry import (
    Config,
    configure,
    default_max_steps,
    get_scenario,
    program,
)
from rcu_harness.sched.registry import make_strategy

if TYPE_CHECKING:
    from collections.abc import Mapping


def _settings(cfg: Config) -> list[str]:
    """``--set`` options for the parameters that differ from the defaults."""
    defaults = get_scenario(cfg.scenario).defaults()
    if cfg.mutant is not None:
        from rcu_harness.scenarios.mutants import get_mutant

        defaults.update(get_mutant(cfg.mutant).params)
    return [f"--set {key}={_text(value)}" for key, value in sorted(cfg.values.items())
            if defaults.get(key) != value]


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def replay_command(cfg: Config, *, strategy: str, seed: int, execution: int,
                   strategy_params: Mapping[str, Any] | None = None,
                   max_steps: int | None = None) -> str:
    """The CLI line that reruns execution @execution of this run exactly
    (every option that changes the execution: the step bound too, unless it
    is the scenario's default)."""
    parts = ["python -m rcu_harness replay", f"--scenario {cfg.scenario}"]
    if cfg.mutant is not None:
        parts.append(f"--mutant {cfg.mutant}")
    parts += [f"--strategy {strategy}", *(f"--strategy-param {k}={v}" for k, v in
                                          sorted((strategy_params or {}).items())),
              f"--seed {seed}", f"--execution {execution}", *_settings(cfg)]
    if max_steps is not None and max_steps != default_max_steps(cfg):
        parts.append(f"--max-steps {max_steps}")
    return " ".join(parts)


def explore_scenario(name: str | Config, *, params: Mapping[str, object] | None = None,
                     mutant: str | None = None, strategy: str = "mix",
                     executions: int = 1000, seed: int = 0,
                     max_steps: int | None = None, stop_on_first: bool = True,
                     **strategy_params: Any) -> ExploreResult:
    """Explore a registered scenario (with @mutant's patches, if any);
    @max_steps defaults to the scenario's (:func:`default_max_steps`)."""
    cfg = name if isinstance(name, Config) else configure(name, params, mutant)
    max_steps = max_steps or default_max_steps(cfg)

    def hint(info: ReplayInfo) -> str:
        return replay_command(cfg, strategy=strategy, seed=info.base_seed,
                              execution=info.execution,
                              strategy_params=info.strategy_params,
                              max_steps=max_steps)

    with applied(cfg.mutant, cfg.fixes):
        return explore(program(cfg), strategy=strategy, executions=executions,
                       seed=seed, max_steps=max_steps, stop_on_first=stop_on_first,
                       replay_hint=hint, **strategy_params)


def schedule_of(cfg: Config, *, strategy: str, seed: int, execution: int,
                max_steps: int | None = None, **strategy_params: Any) -> str:
    """The encoded schedule execution @execution of this run follows."""
    max_steps = max_steps or default_max_steps(cfg)
    strategy_params = calibrate(program(cfg), strategy, seed, max_steps=max_steps,
                                strategy_params=strategy_params)
    inner = make_strategy(strategy, seed, **strategy_params)
    for i in range(execution + 1):  # dfs needs its history; random/pct do not
        if not inner.new_execution(i):
            raise ValueError(f"strategy {strategy} has no execution {execution}")
        if i < execution and strategy == "dfs":
            run_execution(program(cfg), inner, i, max_steps=max_steps, record=0)
    ex = run_execution(program(cfg), inner, execution, max_steps=max_steps, record=0)
    return ex.schedule().encode()


def replay_scenario(cfg: Config, *, strategy: str, seed: int, execution: int,
                    max_steps: int | None = None,
                    **strategy_params: Any) -> ReplayResult:
    """Rerun one execution exactly, with every event recorded."""
    max_steps = max_steps or default_max_steps(cfg)
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(program(cfg), strategy, seed, max_steps=max_steps,
                           strategy_params=strategy_params)

        def hint(info: ReplayInfo) -> str:
            return replay_command(cfg, strategy=strategy, seed=seed,
                                  execution=execution, strategy_params=params,
                                  max_steps=max_steps)

        schedule = schedule_of(cfg, strategy=strategy, seed=seed, execution=execution,
                               max_steps=max_steps, **params)
        return replay(schedule, program=program(cfg), max_steps=max_steps,
                      replay_hint=hint, execution=execution)
