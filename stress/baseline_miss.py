"""The old scenarios miss the mutants of the new behaviours.

Usage:
  python stress/baseline_miss.py [--executions 2000] [--seeds 2] [--write]

Each mutant of ``READER_MUTANTS`` (rcu_harness/scenarios/mutants.py) runs,
with its patches in place, in the three first scenarios as they were before
the reader kinds, owner operations and layouts existed (default parameters,
``layout=low``, ``read_kind=mixed``, ``op_set=classic``), with mix for
--executions executions from each of --seeds base seeds, and beside it in
its own scoring scenario.  A scenario-level mutant (no model patch) lives in
code the old scenarios never run (a new reader kind, owner operation or
scenario): its old cells say ``unreachable``.  --write puts the table into
reports/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import machine, write_section

HEADING = "## Old scenarios miss the new mutants (stress/baseline_miss.py)"
OLD = ("rcu_transitions", "dup_mmap", "mmput_race")


def run(scenario: str, mutant: str, params: dict[str, object], executions: int,
        seed: int) -> tuple[int, str]:
    """Executions to the first finding (0: none) and its kind."""
    from rcu_harness.scenarios import applied, get_scenario
    from rcu_harness.scenarios.run import explore_scenario
    from rcu_harness.scenarios.spec import Config

    values = get_scenario(scenario).defaults()
    values.update(params)
    cfg = Config(scenario, MappingProxyType(values), mutant)
    with applied(mutant):
        r = explore_scenario(cfg, strategy="mix", executions=executions, seed=seed)
    if r.findings:
        return r.findings[0].execution + 1, str(r.findings[0].kind)
    return 0, ""


def row(mutant: str, args: argparse.Namespace) -> str:
    from rcu_harness.scenarios import MUTANTS

    bug = MUTANTS[mutant]
    cells = []
    for k, scenario in enumerate((*OLD, bug.scenario)):
        params: dict[str, object] = ({"layout": "low"} if k < len(OLD)
                                     else dict(bug.params))
        if k < len(OLD) and not bug.patches:
            cells.append("unreachable")  # its code path is in new code only
            continue
        found = [run(scenario, mutant, params, args.executions, s)
                 for s in range(args.seeds)]
        hits = [f for f in found if f[0]]
        cells.append(f"{len(hits)}/{args.seeds}" + (
            f" (first at {min(f[0] for f in hits)}, {hits[0][1]})" if hits else ""))
    return f"| `{mutant}` | " + " | ".join(cells) + " |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executions", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from rcu_harness.scenarios.mutants import READER_MUTANTS

    start = time.perf_counter()
    lines = [
        HEADING, "",
        f"Command: `python stress/baseline_miss.py --executions {args.executions} "
        f"--seeds {args.seeds} --write`.  Cells: seeds that found the mutant "
        "(mix), out of those run; the old scenarios at their defaults with "
        "`layout=low` (the reader kinds, owner operations and layouts they had), "
        "the last column the mutant's own scoring scenario and parameters.",
        "", *machine(), "",
        "| mutant | rcu_transitions (old) | dup_mmap (old) | mmput_race (old) "
        "| own scenario |",
        "|---|---|---|---|---|",
    ]
    for bug in READER_MUTANTS:
        lines.append(row(bug.name, args))
        print(lines[-1], flush=True)
    lines += ["", f"{time.perf_counter() - start:.0f} s in all."]
    if args.write:
        write_section(HEADING, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
