"""What pct-site's fallback changes: the default on programs below 2 sites.

pct-site (rcu_harness/sched/pct_site.py) draws its stall among the sites
(fields) an execution reaches; calibration counts them on one random walk.
A program with fewer than 2 sites gets the *fallback* instead: the stall at
a drawn sync decision (``fallback_steps``).  This probe prints, for the
source tree @TREE (put first on ``sys.path``, so a ``git archive`` export of
another revision can be measured by the same script; default this
checkout), one JSON line per measurement:

* ``digest``: for every scenario and mutant and base seeds
  ``0..--digest-seeds - 1``, ``--strategy``'s calibrated ``sites`` and a
  digest of the schedules of its executions ``0..--executions - 1``;
* ``first``: for every mutant and base seed ``0..--seeds - 1`` whose
  calibrated ``sites`` is below 2, and for every seed of the worked example
  of docs/python-api.md (``tests/programs/sessions.py``), ``--strategy``'s
  first finding (executions run, kind, signature), capped at
  ``--cap`` executions.

``--strategy`` (default ``aimed-site``, the default when the fallback came)
is named, not taken from ``explore()``'s default, so both trees run the
same strategy: a tree from before ``aimed-relay``, ``aimed-stale``,
``aimed-pct``, ``aimed-rcu``, ``aimed-class`` or ``aimed-conflict`` has
another default.

Run it on two trees and compare the lines (``diff``): a program with 2
sites or more must give the same digests, the fallback may change only the
others.  Figures: reports/BENCHMARKS.md, *pct-site's fallback*.

    nice -n 10 python stress/site_fallback.py [TREE] [--seeds 20]
        [--digest-seeds 10] [--executions 10] [--cap 3000]
        [--strategy aimed-site]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _first(explore: Any, prog: Any, seed: int, cap: int, bound: int,
           strategy: str) -> dict[str, Any]:
    r = explore(prog, strategy=strategy, executions=cap, seed=seed,
                max_steps=bound)
    f = r.findings[0] if r.findings else None
    return {"first": f.execution + 1 if f else None,
            "kind": f.kind if f else None,
            "signature": f.signature if f else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", default=str(ROOT))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--digest-seeds", type=int, default=10)
    parser.add_argument("--executions", type=int, default=10)
    parser.add_argument("--cap", type=int, default=3000)
    parser.add_argument("--strategy", default="aimed-site")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from rcu_harness.runner.block import calibrate
    from rcu_harness.runner.explore import explore
    from rcu_harness.runner.run import DEFAULT_MAX_STEPS, run_execution
    from rcu_harness.scenarios.catalog import (
        SCENARIOS,
        applied,
        configure,
        default_max_steps,
        program,
    )
    from rcu_harness.scenarios.mutants import MUTANTS
    from rcu_harness.scenarios.programs import load_program
    from rcu_harness.sched.registry import make_strategy

    sessions = load_program("tests.programs.sessions:program")

    targets = [configure(s) for s in sorted(SCENARIOS)] + [
        configure(MUTANTS[m].scenario, mutant=m) for m in sorted(MUTANTS)]
    for cfg in targets:
        bound = default_max_steps(cfg)
        for seed in range(max(args.seeds, args.digest_seeds)):
            with applied(cfg.mutant, cfg.fixes):
                prog = program(cfg)
                params = calibrate(prog, args.strategy, seed, max_steps=bound)
                where = {"scenario": cfg.scenario, "mutant": cfg.mutant,
                         "seed": seed, "sites": params["sites"]}
                if seed < args.digest_seeds:
                    strategy = make_strategy(args.strategy, seed, **params)
                    h = hashlib.blake2b(digest_size=8)
                    for i in range(args.executions):
                        strategy.new_execution(i)
                        ex = run_execution(prog, strategy, i, max_steps=bound,
                                           record=0)
                        h.update(ex.schedule().encode().encode())
                    print(json.dumps({"measure": "digest", **where,
                                      "digest": h.hexdigest()}), flush=True)
                if cfg.mutant and seed < args.seeds and params["sites"] < 2:
                    print(json.dumps({"measure": "first", **where, **_first(
                        explore, prog, seed, args.cap, bound,
                        args.strategy)}), flush=True)
    for seed in range(args.seeds):
        print(json.dumps({"measure": "first", "scenario": "sessions", "seed": seed,
                          **_first(explore, sessions, seed, args.cap,
                                   DEFAULT_MAX_STEPS, args.strategy)}),
              flush=True)


if __name__ == "__main__":
    main()
