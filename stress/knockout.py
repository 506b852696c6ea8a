"""What each checker costs: the speed probe's executions with one part a
no-op, counted by callgrind (issue 17, sixth and eighth rounds).

Run as ``python stress/knockout.py TREE [--parts a,b] [--scenarios x,y]``:
for each part and scenario, ``stress/speed_probe.py TREE SCENARIO N
--count`` under :func:`stress.benchlib.callgrind` (``mix``, base seed 0,
calibrated, one warm-up, no events; N = 9, 9 and 30 executions of
``dup_mmap``, ``rcu_transitions`` and ``mmput_race``), in a process that
first replaces the part by a no-op (``python stress/knockout.py --probe
PART TREE SCENARIO N --count`` patches the module, then runs the probe).
Prints one line per run: the counted executions' instructions, their
share of the run with nothing knocked out, the steps and the schedule
digest.  None of the parts decides anything, so every run of a scenario
has the same schedules (the digest says so); the difference to ``none`` is
exactly what the part costs.

Parts: ``none``; ``checker`` (mt_validate()'s checker, ``write_op_done``);
``fast-pass`` (its fast pass answering yes: ``tree_is_valid``);
``coverage`` (interleaving coverage, ``reader_load``); ``coverage-walks``
(its walks of the writer's stack: ``_moved`` replaced by one that starts
each record over without them, path ``other``, which fits every tree since
the ninth round; in a tree before it ``_walk`` and ``_past_harness``
constants); ``results`` (the result checker's ``write_begin``,
``read_end`` and ``initial_contents``, setup's contents at once; in a
tree before the thirteenth round, which stored them through
``write_begin``, the first two); ``gc`` (the cyclic collector off);
``collect`` (the samples as a block takes them: ``sample_lists``, or
``collect`` in a tree before the thirteenth round); ``checks``
(``checker``, ``coverage``, ``results`` and ``collect`` at once, each as
in its own part).  ``--young N`` runs the probe with the collector's
young threshold at N (a campaign's blocks run at
``rcu_harness.runner.collector.YOUNG``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import runpy
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import callgrind

ROOT_DIR = Path(__file__).resolve().parents[1]
PROBE = ROOT_DIR / "stress" / "speed_probe.py"
EXECUTIONS = {"dup_mmap": 9, "rcu_transitions": 9, "mmput_race": 30}
"""Counted executions per scenario (the sixth and seventh rounds')."""
_READERS = ("rcu_harness.memory.node_words", "rcu_harness.memory.maple_node",
            "rcu_harness.memory.maple_port")
"""Modules that call ``reader_load`` by its own name."""


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _true(*_args: Any, **_kwargs: Any) -> bool:
    return True


def _moved_without_walks(metrics: Any, w: Any, top: Any, i: int) -> None:
    """``coverage._moved`` with no look at the writer's stack: each record
    started over with write path ``other`` (the record layout of every tree
    since the ninth round of issue 17)."""
    coverage = sys.modules["rcu_harness.memory.coverage"]
    span = w.spans[-1].name if w.spans else "write"
    rec = w.cover
    if rec is not None:
        rec[0] = top if top is not None else coverage._NO_FRAME
        rec[2] = None
        if rec[3] == "other" and span == rec[4]:
            rec[1][i] += 1
            return
        rec[3] = "other"
        rec[4] = span
        rec[1] = counts = coverage._pair_counts(metrics, span, "other")
    else:
        counts = coverage._pair_counts(metrics, span, "other")
        w.cover = [top if top is not None else coverage._NO_FRAME, counts, None,
                   "other", span]
    counts[i] += 1


KNOCKS: dict[str, list[tuple[str, str, str, Any]]] = {
    "none": [],
    "checker": [("rcu_harness.checks.validate", "MtValidateCheck", "write_op_done",
                 _noop)],
    "fast-pass": [("rcu_harness.checks.validate", "", "tree_is_valid", _true)],
    "coverage": [(name, "", "reader_load", _noop) for name in _READERS],
    "coverage-walks": [
        ("rcu_harness.memory.coverage", "", "_moved", _moved_without_walks)],
    "results": [("rcu_harness.checks.results", "ResultCheck", name, _noop)
                for name in ("write_begin", "read_end", "initial_contents")],
    "gc": [],
    "collect": [("rcu_harness.runtime.metrics", "", "sample_lists", _noop)],
}
"""Part -> (module, class or "", attribute, replacement) of each patch."""
OLDER: dict[str, list[tuple[str, str, str, Any]]] = {
    "coverage-walks": [
        ("rcu_harness.memory.coverage", "", "_walk", lambda _frame: "other"),
        ("rcu_harness.memory.coverage", "", "_past_harness", lambda _frame: None)],
    "results": [("rcu_harness.checks.results", "ResultCheck", name, _noop)
                for name in ("write_begin", "read_end")],
    "collect": [("rcu_harness.runtime.metrics", "", "collect", _noop)],
}
"""The same parts in an older tree (before the ninth round of issue 17 the
coverage's two walks apart, no ``_moved``; before the thirteenth the
result checker without ``initial_contents`` and ``collect`` per
execution), patched when the tree lacks a function of :data:`KNOCKS`'
patches."""
COMPOSITE: dict[str, tuple[str, ...]] = {
    "checks": ("checker", "coverage", "results", "collect"),
}
"""Parts made of others, each knocked out as in its own part: ``checks``,
every part that is a check or a sample at once (not the collector), what
the harness pays beyond scheduling, instrumented access and the
collector, so the most that making these parts cheaper could give."""
PARTS = (*KNOCKS, *COMPOSITE)


def knock(part: str) -> None:
    """Replace @part by a no-op in this process (``rcu_harness`` importable)."""
    if part not in PARTS:
        raise SystemExit(f"unknown part {part!r} (known: {', '.join(PARTS)})")
    if part in COMPOSITE:
        for each in COMPOSITE[part]:
            knock(each)
        return
    if part == "gc":
        gc.disable()
    for patches in (KNOCKS[part], OLDER.get(part, [])):
        owners = []
        for module, cls, attr, value in patches:
            owner: Any = importlib.import_module(module)
            if cls:
                owner = getattr(owner, cls, None)
            owners.append((owner, attr, value))
        if all(hasattr(owner, attr) for owner, attr, _ in owners):
            for owner, attr, value in owners:
                setattr(owner, attr, value)
            return
    raise SystemExit(f"part {part!r}: this tree lacks the functions it replaces")


def probe(part: str, argv: list[str]) -> None:
    """Knock @part out, then run the speed probe with @argv."""
    sys.path.insert(0, argv[0])
    knock(part)
    sys.argv = [str(PROBE), *argv]
    runpy.run_path(str(PROBE), run_name="__main__")


def probe_argv(part: str, tree: str, scenario: str, young: int | None) -> list[str]:
    """This script's command line that knocks @part out and counts
    @scenario's executions in @tree (the collector's young threshold at
    @young, or CPython's)."""
    extra = [] if young is None else ["--young", str(young)]
    return [__file__, "--probe", part, tree, scenario, str(EXECUTIONS[scenario]),
            "--count", *extra]


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--scenarios", default=",".join(EXECUTIONS))
    parser.add_argument("--young", type=int, default=None,
                        help="the collector's young threshold in the probe")
    args = parser.parse_args()
    parts, scenarios = args.parts.split(","), args.scenarios.split(",")
    for name in parts:
        if name not in PARTS:
            parser.error(f"unknown part {name!r} (known: {', '.join(PARTS)})")
    for name in scenarios:
        if name not in EXECUTIONS:
            parser.error(f"unknown scenario {name!r} (known: {', '.join(EXECUTIONS)})")
    full: dict[str, int] = {}
    for scenario in scenarios:
        for part in ["none", *[p for p in parts if p != "none"]]:
            counts, out = callgrind(probe_argv(part, args.tree, scenario, args.young))
            result = json.loads(out.strip().splitlines()[-1])
            executions = counts[1]  # between the probe's first two marks
            full.setdefault(scenario, executions)
            share = 1 - executions / full[scenario]
            print(f"{scenario} {part}: {executions:,} instructions "
                  f"({share:.1%} knocked out), steps {result['steps']}, "
                  f"schedules {result['schedules']}", flush=True)


if __name__ == "__main__":
    main()
