"""What a scenario is: a named workload with typed parameters.

A :class:`Scenario` is a name, a one-line description, its parameters (each
with a type, a default, bounds and help) and a ``build(h, cfg)`` function
that sets up the world and spawns the threads; a :class:`Config` is its
parameter values and the mutant it runs with.  Parameter values given as
text (the CLI's ``--set KEY=VALUE``) are parsed and checked here, with
one-line errors.  Which scenarios exist is the catalog's business
(:mod:`rcu_harness.scenarios.catalog`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rcu_harness.runner.harness import Harness


class ScenarioError(ValueError):
    """A scenario, mutant or parameter the user asked for does not exist or
    does not fit; the message is one line saying how to fix it."""


@dataclass(frozen=True, slots=True)
class Param:
    """One scenario parameter."""

    name: str
    default: int | str | bool
    help: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    lifts: str = ""
    """The kernel guarantee a value other than the default lifts, if any:
    findings under such a value are what the lifted guarantee prevents, not
    kernel bugs, so a run says so and clean runs keep the default."""

    def parse(self, value: object) -> int | str | bool:
        """Check @value (text or typed) and return it typed."""
        kind = type(self.default)
        if kind is bool:
            return self._parse_bool(value)
        if kind is int:
            return self._parse_int(value)
        text = str(value)
        if self.choices and text not in self.choices:
            raise ScenarioError(f"{self.name} must be one of {', '.join(self.choices)}"
                                f" (got {text!r})")
        return text

    def _parse_bool(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ScenarioError(f"{self.name} must be true or false (got {value!r})")

    def _parse_int(self, value: object) -> int:
        if isinstance(value, bool):
            raise ScenarioError(f"{self.name} must be an integer (got {value!r})")
        name = self.name
        try:
            number = int(str(value), 0) if not isinstance(value, int) else value
        except ValueError:
            raise ScenarioError(f"{name} must be an integer (got {value!r})") from None
        low, high = self.minimum, self.maximum
        if low is not None and number < low:
            raise ScenarioError(f"{name} must be at least {low} (got {number})")
        if high is not None and number > high:
            raise ScenarioError(f"{name} must be at most {high} (got {number})")
        return number


KERNEL_FIXES = "kernel_fixes"
"""The parameter every scenario takes: candidate kernel fixes to apply
(``NAME[,NAME]``, :mod:`rcu_harness.known.fixes`); absent means none, so
that runs without it store exactly the parameters they did before."""

MEMORY_MODEL = "memory_model"
"""The other parameter every scenario takes: ``sc`` or ``lkmm``
(:mod:`rcu_harness.memory.wmm`); absent means sc, so that sc runs store
exactly the parameters they did before."""


@dataclass(frozen=True, slots=True)
class Config:
    """A scenario's parameter values and the mutant it runs with, if any."""

    scenario: str
    values: Mapping[str, Any]
    mutant: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def bug(self, name: str) -> bool:
        """Is the scenario running with mutant @name?"""
        return self.mutant == name

    @property
    def memory_model(self) -> str:
        """The memory model the run explores (``memory_model``; sc if absent)."""
        return str(self.values.get(MEMORY_MODEL, "sc"))

    @property
    def fixes(self) -> tuple[str, ...]:
        """The candidate kernel fixes the run applies (``kernel_fixes``)."""
        text = str(self.values.get(KERNEL_FIXES, ""))
        return tuple(name for name in text.split(",") if name)


STEP_BOUND_FACTOR = 10
"""Default step bound over a scenario's work estimate: fair executions stay
far below it, so reaching it means a spin (or starvation, see
:mod:`rcu_harness.runtime.execution`), never a large scenario."""
MIN_STEP_BOUND = 200_000
"""The smallest default step bound (and the one of programs without a
work estimate)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named workload."""

    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[Harness, Config], None] = field(repr=False)
    work: Callable[[Config], int] | None = field(default=None, repr=False)
    """An upper estimate of the scheduling steps one execution of @cfg takes
    under a fair strategy (from its operations, VMAs and readers): the
    default step bound is :data:`STEP_BOUND_FACTOR` times it."""
    check: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)
    """Cross-parameter check: a one-line problem with the values, or ''."""
    module: str = ""
    """The module whose source defines the workload (part of a trace's model
    fingerprint); the module of ``build`` when empty."""

    def param(self, name: str) -> Param:
        """The parameter @name, or a ScenarioError listing the known ones."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params)
        raise ScenarioError(f"scenario {self.name} has no parameter {name!r}"
                            f" (known: {known})")

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default."""
        return {p.name: p.default for p in self.params}

    def lifted(self, values: Mapping[str, Any]) -> list[str]:
        """A note per kernel guarantee @values lift (see :attr:`Param.lifts`)."""
        return [f"{p.name}={value_text(values[p.name])} lifts a kernel guarantee "
                f"({p.lifts}): its findings are not kernel bugs"
                for p in self.params
                if p.lifts and p.name in values and values[p.name] != p.default]

    def default_max_steps(self, cfg: Config) -> int:
        """The step bound of @cfg's executions unless the user gives one."""
        work = self.work
        return max(MIN_STEP_BOUND, STEP_BOUND_FACTOR * work(cfg) if work else 0)

    @property
    def source_module(self) -> str:
        """The module whose source defines the workload."""
        return self.module or self.build.__module__


def value_text(value: object) -> str:
    """A parameter value as ``--set NAME=VALUE`` spells it (booleans in
    lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
