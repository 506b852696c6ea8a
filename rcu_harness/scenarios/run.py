"""Running a scenario from Python, and the command line that replays one.

A scenario run is named by (scenario, parameters, mutant, strategy, base
seed, execution index, step bound); since execution i's seed depends only
on the base seed and i, that name is enough to rerun any execution exactly,
and :func:`replay_command` prints it as the CLI line that does so.
Model-level mutant patches are applied around the whole run
(:func:`applied`).  Replaying one execution is
:mod:`rcu_harness.campaign.replay`'s (``from_seed``/``from_trace``, then
``replay``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runner.explore import ExploreResult, explore
from rcu_harness.scenarios.catalog import (
    applied,
    configure,
    default_max_steps,
    get_scenario,
    program,
)
from rcu_harness.scenarios.mutants import get_mutant
from rcu_harness.scenarios.programs import is_program
from rcu_harness.scenarios.spec import MEMORY_MODEL, Config, value_text
from rcu_harness.sched.registry import strategy_kind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rcu_harness.runner.findings import ReplayInfo


def _settings(cfg: Config) -> list[str]:
    """``--set`` options for the parameters that differ from the defaults
    (``--memory-model`` for the memory model)."""
    defaults = get_scenario(cfg.scenario).defaults()
    defaults[MEMORY_MODEL] = "sc"
    if cfg.mutant is not None:
        defaults.update(get_mutant(cfg.mutant).params)
    out = [f"--set {key}={value_text(value)}"
           for key, value in sorted(cfg.values.items())
           if defaults.get(key) != value and key != MEMORY_MODEL]
    if defaults[MEMORY_MODEL] != cfg.memory_model:
        out.append(f"--memory-model {cfg.memory_model}")
    return out


def _given(strategy: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """@params without the empty words that are the strategy's defaults
    anyway (a calibration that found no ``acts`` or ``conflicts``): the
    replay command is the same execution without them."""
    defaults = strategy_kind(strategy).options()
    return {k: v for k, v in params.items()
            if not (v == "" and defaults.get(k) == "")}


def replay_command(cfg: Config, *, strategy: str, seed: int, execution: int,
                   strategy_params: Mapping[str, Any] | None = None,
                   max_steps: int | None = None) -> str:
    """The CLI line that reruns execution @execution of this run exactly
    (every option that changes the execution: the step bound too, unless it
    is the scenario's default)."""
    what = "--program" if is_program(cfg.scenario) else "--scenario"
    parts = ["python -m rcu_harness replay", f"{what} {cfg.scenario}"]
    if cfg.mutant is not None:
        parts.append(f"--mutant {cfg.mutant}")
    parts += [f"--strategy {strategy}",
              *(f"--strategy-param {k}={v}" for k, v in
                sorted(_given(strategy, strategy_params or {}).items())),
              f"--seed {seed}", f"--execution {execution}", *_settings(cfg)]
    if max_steps is not None and max_steps != default_max_steps(cfg):
        parts.append(f"--max-steps {max_steps}")
    return " ".join(parts)


def explore_scenario(name: str | Config, *, params: Mapping[str, object] | None = None,
                     mutant: str | None = None, strategy: str = "aimed-data",
                     executions: int = 1000, seed: int = 0,
                     max_steps: int | None = None, stop_on_first: bool = True,
                     **strategy_params: Any) -> ExploreResult:
    """Explore a scenario or a program ``MODULE:FUNCTION`` (with @mutant's
    patches, if any); findings name the CLI line that replays them.
    @max_steps defaults to the scenario's (:func:`default_max_steps`)."""
    cfg = name if isinstance(name, Config) else configure(name, params, mutant)
    bound = max_steps or default_max_steps(cfg)

    def hint(info: ReplayInfo) -> str:
        return replay_command(cfg, strategy=strategy, seed=info.base_seed,
                              execution=info.execution,
                              strategy_params=info.strategy_params, max_steps=bound)

    with applied(cfg.mutant, cfg.fixes):
        return explore(program(cfg), strategy=strategy, executions=executions,
                       seed=seed, max_steps=bound, stop_on_first=stop_on_first,
                       replay_hint=hint, **strategy_params)
