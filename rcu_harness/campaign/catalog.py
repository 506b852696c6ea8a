"""What can be run: scenarios, mutants and strategies, as plain records.

``rcu-harness list`` prints these as a table or as JSON; every record has
at least ``name`` and ``description`` (mutants also ``scenario``, the one
the scoreboard runs them in).
"""

from __future__ import annotations

import sys
from typing import Any

from rcu_harness.campaign.plan import strategy_options
from rcu_harness.scenarios.catalog import SCENARIOS
from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.sched.registry import STRATEGIES


def scenarios() -> list[dict[str, Any]]:
    """Every scenario of the catalog with its parameters."""
    out = []
    for name in sorted(SCENARIOS):
        s = SCENARIOS[name]
        params = [{"name": p.name, "default": p.default, "help": p.help,
                   "minimum": p.minimum, "maximum": p.maximum,
                   "choices": list(p.choices), "lifts": p.lifts}
                  for p in s.params]
        out.append({"name": name, "description": s.description, "params": params})
    return out


def mutants() -> list[dict[str, Any]]:
    """Every mutant, the scenario it is scored in and where else it applies."""
    return [{"name": m.name, "description": m.description, "scenario": m.scenario,
             "scenarios": list(m.scenarios), "params": dict(m.params)}
            for m in sorted(MUTANTS.values(), key=lambda m: m.name)]


def _summary(cls: Any) -> str:
    doc = sys.modules[cls.__module__].__doc__ or cls.__doc__ or ""
    line = doc.strip().splitlines()[0] if doc.strip() else ""
    line = line.split(": ", 1)[-1].replace("``", "")
    return line[:1].upper() + line[1:]


def strategies() -> list[dict[str, Any]]:
    """Every exploration strategy with its options and their defaults."""
    out = []
    for name in sorted(STRATEGIES):
        options = strategy_options(name)
        out.append({"name": name,
                    "description": _summary(STRATEGIES[name].factory),
                    "params": options,
                    "options": " ".join(f"{k}={v}" for k, v in options.items())})
    return out
