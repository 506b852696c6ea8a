"""Run plans: a checked, fully resolved run, and how its indexes are split.

A :class:`RunPlan` holds everything that decides what execution ``i`` of a
run does: scenario, every parameter value, mutant, strategy and its
parameters, base seed, step bound.  Execution ``i`` depends on the plan and
``i`` alone (the strategies derive its seed from (seed, i)), so a run can
be cut into blocks of indexes run by any process in any order.

Two kinds of strategy need care (the registry says which is which,
:class:`~rcu_harness.sched.registry.StrategyKind`):

* calibrated ones (``pct``, ``mix``): ``pct`` draws its change points from
  ``[1, k]`` where ``k`` estimates the decisions per execution; by default
  it learns ``k`` from the executions it ran before in the same process,
  which would make execution ``i`` depend on how the run was split.
  :func:`resolve` therefore fixes ``steps`` (the ``k``) in the plan with
  :func:`~rcu_harness.runner.block.calibrate`, the same calibration every
  other entry point uses (one ``random`` execution seeded by the base seed
  alone), so ``stress --seed S`` and ``explore(..., seed=S)`` run the same
  executions.  It is then an ordinary strategy parameter, stored with the
  run, written into trace files and replay commands (``--strategy-param
  steps=K``).  ``--strategy-param steps=K`` skips the calibration.
* sequential ones (``dfs``): each execution backtracks from the previous one's
  path.  Its blocks run one after another (never two at once); each block
  first retraces the previous block's last execution
  (:func:`~rcu_harness.runner.block.resume`) and then goes on, so
  results do not depend on the block size.  With ``--jobs N`` such a run
  uses one worker at a time and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.runner.block import calibrate
from rcu_harness.scenarios.catalog import (
    applied,
    configure,
    default_max_steps,
    get_scenario,
    program,
)
from rcu_harness.scenarios.run import replay_command
from rcu_harness.sched.registry import STRATEGIES, is_guided, strategy_kind

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.scenarios.spec import Config

class PlanError(ValueError):
    """A run cannot be planned (unknown strategy parameter and the like)."""


@dataclass(frozen=True, slots=True)
class RunPlan:
    """A resolved run: what every one of its executions does.

    Plain dicts, not mapping proxies: a plan is pickled to worker processes.
    """

    scenario: str
    params: Mapping[str, Any]
    """Every parameter value (defaults included)."""
    mutant: str | None
    strategy: str
    strategy_params: Mapping[str, Any]
    seed: int
    max_steps: int
    keep_going: bool
    coverage: bool = False
    """Measure reads-from coverage (stored per pair)."""
    until_saturated: bool = False
    """Stop when reads-from coverage saturates
    (:func:`rcu_harness.campaign.saturation.saturated`)."""

    def config(self) -> Config:
        """The scenario configuration."""
        return configure(self.scenario, dict(self.params), self.mutant)

    @property
    def sequential(self) -> bool:
        """Executions must run in order in one process (dfs)."""
        return strategy_kind(self.strategy).sequential

    @property
    def guided(self) -> bool:
        """Executions learn from earlier epochs' reads-from pairs (rff)."""
        return is_guided(self.strategy, self.strategy_params)

    def lifted(self) -> list[str]:
        """Notes on the kernel guarantees the plan's parameters lift."""
        return get_scenario(self.scenario).lifted(self.params)

    @property
    def scenario_module(self) -> str:
        """The module that defines the scenario (part of the trace fingerprint)."""
        return get_scenario(self.scenario).source_module

    def replay_command(self, execution: int) -> str:
        """The CLI line that reruns execution @execution exactly."""
        return replay_command(self.config(), strategy=self.strategy, seed=self.seed,
                              execution=execution,
                              strategy_params=dict(self.strategy_params),
                              max_steps=self.max_steps)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (stored in the run's meta)."""
        return {"scenario": self.scenario, "params": dict(self.params),
                "mutant": self.mutant, "strategy": self.strategy,
                "strategy_params": dict(self.strategy_params), "seed": self.seed,
                "max_steps": self.max_steps, "keep_going": self.keep_going,
                "coverage": self.coverage, "until_saturated": self.until_saturated}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunPlan:
        """The inverse of :meth:`to_json` (PlanError if @data is not one)."""
        _typed_fields(data, "run plan", _PLAN_FIELDS)
        if data["max_steps"] < 1:
            raise PlanError("the stored run plan has a bad 'max_steps' "
                            f"({data['max_steps']})")
        return cls(data["scenario"], dict(data["params"]), data["mutant"],
                   data["strategy"], dict(data["strategy_params"]), data["seed"],
                   data["max_steps"], data["keep_going"],
                   bool(data.get("coverage", False)),
                   bool(data.get("until_saturated", False)))


_PLAN_FIELDS: dict[str, tuple[type, ...]] = {
    "scenario": (str,), "params": (dict,), "mutant": (str, type(None)),
    "strategy": (str,), "strategy_params": (dict,), "seed": (int,),
    "max_steps": (int,), "keep_going": (bool,)}
_BUDGET_FIELDS: dict[str, tuple[type, ...]] = {"executions": (int,),
                                                "seconds": (int,)}


def _typed_fields(data: object, what: str, fields: Mapping[str, tuple[type, ...]]
                  ) -> None:
    """PlanError unless @data has exactly @fields, each of its types (an
    integer is never a bool, nor negative)."""
    if not isinstance(data, dict):
        raise PlanError(f"the stored {what} is not an object")
    for name, types in fields.items():
        if name not in data:
            raise PlanError(f"the stored {what} has no {name!r}")
        value = data[name]
        if isinstance(value, bool):
            wrong = bool not in types
        elif isinstance(value, int):
            wrong = int not in types or value < 0
        else:
            wrong = not isinstance(value, types)
        if wrong:
            raise PlanError(f"the stored {what} has a bad {name!r} ({value!r:.40})")


@dataclass(frozen=True, slots=True)
class Budget:
    """When a run ends: whichever is reached first."""

    executions: int
    seconds: int = 0
    """0: no time budget."""

    def to_json(self) -> dict[str, int]:
        """A JSON-able dict."""
        return {"executions": self.executions, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Budget:
        """The inverse of :meth:`to_json` (PlanError if @data is not one)."""
        _typed_fields(data, "budget", _BUDGET_FIELDS)
        return cls(data["executions"], data["seconds"])


@dataclass(frozen=True, slots=True)
class Block:
    """A contiguous block of execution indexes ``[start, stop)``."""

    seq: int
    start: int
    stop: int


def strategy_options(name: str) -> dict[str, Any]:
    """The keyword parameters of strategy @name with their defaults."""
    if name not in STRATEGIES:
        raise PlanError(f"unknown strategy {name!r}; choose one of "
                        f"{', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name].options()


def check_strategy(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """@params of strategy @name, typed and checked (PlanError if wrong)."""
    options = strategy_options(name)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in options:
            known = ", ".join(sorted(options)) or "none"
            raise PlanError(f"strategy {name} has no parameter {key!r} "
                            f"(known: {known})")
        out[key] = _typed(name, key, value, options[key])
    try:
        STRATEGIES[name].make(0, **out)
    except (ValueError, TypeError) as exc:
        raise PlanError(f"strategy {name}: {exc}") from None
    return out


def _typed(strategy: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(default, int) or isinstance(default, bool):
        return value
    try:
        number = value if isinstance(value, int) else int(str(value), 0)
    except ValueError:
        number = None
    if number is None or isinstance(value, bool) or number < 0:
        raise PlanError(f"strategy {strategy} parameter {key} must be a "
                        f"non-negative integer (got {value!r})")
    return number


def resolve(spec: RunSpec) -> RunPlan:
    """Check @spec and fix everything its executions depend on."""
    cfg = configure(spec.scenario, dict(spec.params), spec.mutant)
    sparams = check_strategy(spec.strategy, spec.strategy_params)
    max_steps = spec.max_steps or default_max_steps(cfg)
    with applied(cfg.mutant, cfg.fixes):
        sparams = calibrate(program(cfg), spec.strategy, spec.seed,
                            max_steps=max_steps, strategy_params=sparams)
    return RunPlan(cfg.scenario, dict(cfg.values), cfg.mutant, spec.strategy,
                   sparams, spec.seed, max_steps, spec.keep_going,
                   spec.coverage or spec.until_saturated
                   or is_guided(spec.strategy, sparams), spec.until_saturated)


def blocks(done: set[int], limit: int, size: int) -> Iterator[Block]:
    """Blocks of at most @size indexes below @limit that are not in @done."""
    seq, i = 0, 0
    while i < limit:
        if i in done:
            i += 1
            continue
        start = i
        while i < limit and i not in done and i - start < size:
            i += 1
        yield Block(seq, start, i)
        seq += 1
