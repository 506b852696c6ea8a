"""The catalog: every scenario there is, and how to set one up to run.

The built-in scenarios are listed here, by import; no module registers
itself: ``dup_mmap`` (:mod:`~.dup_mmap`), ``rcu_transitions``
(:mod:`~.transitions`), ``mmput_race`` (:mod:`~.mmput_race`),
``stack_expand`` (:mod:`~.stack_expand`), ``tree_destroy``
(:mod:`~.tree_destroy`) and ``page_fault`` (:mod:`~.page_fault`).  A name
of the form ``MODULE:FUNCTION`` is a user's program (:mod:`~.programs`),
resolved on first use.

:func:`configure` checks a scenario's parameters and mutant, giving a
:class:`~rcu_harness.scenarios.spec.Config`; :func:`program` binds one to
the ``setup(h)`` callable :func:`rcu_harness.explore` runs; :func:`applied`
runs a block with a mutant's model patches (and candidate kernel fixes,
``kernel_fixes``) in place (:mod:`rcu_harness.patches`).  Every scenario
module is imported here, before any patch, so none can capture a patched
function for good.
"""

from __future__ import annotations

from contextlib import contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rcu_harness.known.fixes import FixError, get_fix, parse_fixes
from rcu_harness.memory.wmm import MemoryModelError, check_name, with_memory_model
from rcu_harness.patches import patched
from rcu_harness.scenarios import (
    dup_mmap,
    mmput_race,
    mutants,
    page_fault,
    stack_expand,
    transitions,
    tree_destroy,
)
from rcu_harness.scenarios.mutants import get_mutant
from rcu_harness.scenarios.programs import is_program, program_scenario
from rcu_harness.scenarios.spec import (
    KERNEL_FIXES,
    MEMORY_MODEL,
    Config,
    Scenario,
    ScenarioError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from rcu_harness.runner.harness import Harness

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in (
    dup_mmap.SCENARIO,
    transitions.SCENARIO,
    mmput_race.SCENARIO,
    stack_expand.SCENARIO,
    tree_destroy.SCENARIO,
    page_fault.SCENARIO,
)})
"""The built-in scenarios by name."""

_PROGRAMS: dict[str, Scenario] = {}
"""Users' programs resolved so far in this process."""


def get_scenario(name: str) -> Scenario:
    """The scenario @name (or the program ``MODULE:FUNCTION``), or a
    ScenarioError listing the known ones."""
    if is_program(name):
        if name not in _PROGRAMS:
            _PROGRAMS[name] = program_scenario(name)
        return _PROGRAMS[name]
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ScenarioError(f"unknown scenario {name!r} (known: "
                            f"{', '.join(sorted(SCENARIOS))}; or a program "
                            "MODULE:FUNCTION)") from None


def configure(name: str, overrides: Mapping[str, object] | None = None,
              mutant: str | None = None) -> Config:
    """Parameter values for scenario @name: defaults, then the mutant's
    overrides, then @overrides (text or typed); all checked."""
    scenario = get_scenario(name)
    values = scenario.defaults()
    if mutant is not None:
        bug = get_mutant(mutant)
        if name not in bug.scenarios:
            raise ScenarioError(f"mutant {mutant} does not apply to scenario {name}"
                                f" (it applies to: {', '.join(bug.scenarios)})")
        values.update(bug.params)
    for key, value in (overrides or {}).items():
        if key == KERNEL_FIXES:
            values[key] = _parse_fixes(value)
            continue
        if key == MEMORY_MODEL:
            values[key] = _parse_memory_model(value)
            continue
        values[key] = scenario.param(key).parse(value)
    if values.get(KERNEL_FIXES) == "":
        del values[KERNEL_FIXES]
    if values.get(MEMORY_MODEL) == "sc":
        del values[MEMORY_MODEL]
    problem = scenario.check(values) if scenario.check is not None else ""
    if problem:
        raise ScenarioError(f"scenario {name}: {problem}")
    return Config(name, MappingProxyType(values), mutant)


def _parse_fixes(value: object) -> str:
    """``kernel_fixes``: known fix names, normalised (sorted, comma-joined)."""
    try:
        return ",".join(parse_fixes(str(value)))
    except FixError as err:
        raise ScenarioError(str(err)) from None


def _parse_memory_model(value: object) -> str:
    """``memory_model``: sc or lkmm."""
    try:
        return check_name(str(value))
    except MemoryModelError as err:
        raise ScenarioError(str(err)) from None


def default_max_steps(cfg: Config) -> int:
    """The step bound of @cfg's executions unless the user gives one
    (:meth:`~rcu_harness.scenarios.spec.Scenario.default_max_steps`)."""
    return get_scenario(cfg.scenario).default_max_steps(cfg)


def program(cfg: Config) -> Callable[[Harness], None]:
    """The ``setup(h)`` callable that runs @cfg's scenario (under its
    memory model)."""
    scenario = get_scenario(cfg.scenario)
    snapshots: dict[Any, Any] = {}

    def setup(h: Harness) -> None:
        h.setup_cache = snapshots
        scenario.build(h, cfg)

    setup.__qualname__ = f"scenario_{cfg.scenario}"
    return with_memory_model(setup, cfg.memory_model)


@contextmanager
def applied(mutant: str | None, fixes: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a block with @mutant's model patches in place (none for None), and
    the model side of the candidate kernel fixes @fixes
    (:mod:`rcu_harness.known.fixes`)."""
    if mutant is None and not fixes:
        yield
        return
    patches = list(get_mutant(mutant).patches) if mutant is not None else []
    for name in fixes:
        patches += get_fix(name).patches
    with patched(patches, skip=(mutants.__name__,)):
        yield
