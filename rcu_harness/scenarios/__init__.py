"""Scenarios of the 2021 dup_mmap patch, their parameters, and seeded mutants.

``dup_mmap``, ``rcu_transitions`` and ``mmput_race`` model the workloads of
"kernel/fork: Use maple tree for dup_mmap() during forking" (v2) on the
maple model, each in the patch's design (``design=2021``) or modern Linux's
(``design=modern``).  :data:`MUTANTS` lists realistic seeded bugs; each
applies to one or more scenarios.  :func:`explore_scenario` and
:func:`replay_scenario` run them with the mutant's model patches in place.
"""

from __future__ import annotations

from rcu_harness.scenarios.mutants import MUTANTS, Mutant, applied, get_mutant
from rcu_harness.scenarios.registry import (
    SCENARIOS,
    Config,
    Param,
    Scenario,
    ScenarioError,
    configure,
    get_scenario,
    program,
)
from rcu_harness.scenarios.run import explore_scenario, replay_command, replay_scenario

__all__ = [
    "MUTANTS",
    "SCENARIOS",
    "Config",
    "Mutant",
    "Param",
    "Scenario",
    "ScenarioError",
    "applied",
    "configure",
    "explore_scenario",
    "get_mutant",
    "get_scenario",
    "program",
    "replay_command",
    "replay_scenario",
]
