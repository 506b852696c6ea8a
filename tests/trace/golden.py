"""Golden traces of the scenarios: what a faster model must reproduce exactly.

:func:`compute` runs, for each default scenario and design, executions 0..2
of the default strategy (``mix``, base seed 0) with every event and model
function recorded (record=2, as a finding's report is made), and the first
finding of a set of mutants (as ``rcu-harness stress --mutant`` finds it),
and digests the event streams, the schedules and the finding reports.  The
digests in ``tests/data/golden_traces.json`` were computed on commit 572b98a
(main before the model's speed work, issue 17; fe6e064 gave the same check
before main's fairness changes altered schedules on purpose, then on
main 86ff87d after its scenario changes did; the mutants' report digests
were recomputed when the interleaving excerpt began to show the object's
life and every free its address, the event streams unchanged; the modern
design's traces were recomputed when its writers began to write-lock the
VMAs they change and fork to write-lock the parent's (per-VMA locks, issue
15), and free-without-grace-period's report digest when the owner's unmap
became vma_unlink() in its call chain, its event stream unchanged; every
event digest recorded with model functions and three mutants' report
digests when a slice's loads and stores began to name the model function
that loaded or stored the slice (``memcpy()``, ``node_copy()``) instead
of a harness function (``load_words``, ``__setitem__``; a fixed frame
depth through a list comprehension, which Python 3.12 also inlines), the
schedules, steps, counters, executions and signatures unchanged);
``test_golden_traces.py`` checks that the current code still gives them
byte for byte.  The strategies that watch pending accesses (the members of
the default portfolio, aimed-data, but pct: their executions take the
access hook's path, setup snapshots and mt_validate()'s fast pass apart
from mix's) have digests of their own (``watchers``, first computed on
main 32afe64): executions 0..2 of each default scenario fully recorded,
and the schedules of executions 0..5 with nothing recorded (the path
campaigns take, setup snapshots included).

Regenerate (only when a change *means* to alter traces, and say so in the
commit): ``python -m tests.trace.golden --write``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.sched.registry import make_strategy
from rcu_harness.trace.events import decode_all, events_digest

DATA = Path(__file__).resolve().parents[1] / "data" / "golden_traces.json"
SCENARIOS = ("dup_mmap", "rcu_transitions", "mmput_race")
DESIGNS = ("2021", "modern")
EXECUTIONS = 3
MUTANTS = ("free-without-grace-period", "reader-without-rcu-lock",
           "mmget-not-zero-no-rcu", "set-in-rcu-unlocked", "publish-before-fill",
           "resume-without-pause", "rcu-lock-across-sleep", "entry-count-short",
           "error-path-skips-destroy")


WATCHERS = ("pct-site", "pct-relay", "surw", "random-sync", "pos", "pct-sync")
"""Strategies whose executions set pending accesses (``Watching``)."""
QUIET_EXECUTIONS = 6


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _report(text: str) -> str:
    """A report without source line numbers (``(maple/walk.py:97)``): the
    functions and files of every call chain must stay, lines may move."""
    return _digest(re.sub(r"(\.py):\d+\)", r"\1)", text))


def scenario_traces(scenario: str, design: str,
                    strategy_name: str = "mix") -> list[dict[str, object]]:
    """Executions 0..EXECUTIONS-1 of @strategy_name, seed 0, fully recorded."""
    setup = program(configure(scenario, {"design": design}))
    params = calibrate(setup, strategy_name, 0)
    strategy = make_strategy(strategy_name, 0, **params)
    out = []
    for i in range(EXECUTIONS):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=2)
        out.append({"steps": ex.step, "schedule": _digest(ex.schedule().encode()),
                    "events": events_digest(decode_all(ex.events)),
                    "counters": dict(sorted(ex.counters.items()))})
    return out


def watcher_traces(scenario: str, strategy_name: str) -> dict[str, object]:
    """@strategy_name's executions of @scenario (design 2021): fully
    recorded, then executions 0..QUIET_EXECUTIONS-1 unrecorded, by schedule."""
    setup = program(configure(scenario, {"design": "2021"}))
    strategy = make_strategy(strategy_name, 0,
                             **calibrate(setup, strategy_name, 0))
    quiet = []
    for i in range(QUIET_EXECUTIONS):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=0)
        quiet.append(_digest(ex.schedule().encode()))
    return {"recorded": scenario_traces(scenario, "2021", strategy_name),
            "quiet": quiet}


def mutant_finding(mutant: str) -> dict[str, object]:
    """The first finding of @mutant in its scoreboard scenario (mix, seed 0:
    the strategy of the digests, the default when they were made)."""
    from rcu_harness.scenarios.mutants import get_mutant

    scenario = get_mutant(mutant).scenarios[0]
    result = explore_scenario(scenario, mutant=mutant, executions=500, seed=0,
                              strategy="mix")
    f = result.findings[0]
    return {"executions": result.executions, "signature": f.signature,
            "step": f.step, "report": _report(f.report),
            "events": events_digest(f.events)}


def compute() -> dict[str, object]:
    """Every golden digest."""
    return {
        "scenarios": {f"{s}/{d}": scenario_traces(s, d)
                      for s in SCENARIOS for d in DESIGNS},
        "mutants": {m: mutant_finding(m) for m in MUTANTS},
        "watchers": {f"{s}/{w}": watcher_traces(s, w)
                     for s in SCENARIOS for w in WATCHERS},
    }


if __name__ == "__main__":
    data = compute()
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if "--write" in sys.argv:
        DATA.write_text(text)
    else:
        sys.stdout.write(text)
