"""Scenarios of the 2021 dup_mmap patch, users' programs, and seeded mutants.

``dup_mmap``, ``rcu_transitions`` and ``mmput_race`` model the workloads of
"kernel/fork: Use maple tree for dup_mmap() during forking" (v2) on the
maple model, each in the patch's design (``design=2021``) or modern Linux's
(``design=modern``); the catalog (:mod:`~.catalog`) lists them, and a name
``MODULE:FUNCTION`` runs a user's program the same way (:mod:`~.programs`).
:data:`MUTANTS` lists realistic seeded bugs; each applies to one or more
scenarios.  :func:`explore_scenario` runs them with the mutant's model
patches in place.
"""

from __future__ import annotations

from rcu_harness.scenarios.catalog import (
    SCENARIOS,
    applied,
    configure,
    get_scenario,
    program,
)
from rcu_harness.scenarios.mutants import MUTANTS, Mutant, get_mutant
from rcu_harness.scenarios.run import explore_scenario, replay_command
from rcu_harness.scenarios.spec import Config, Param, Scenario, ScenarioError

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
]
