"""The reader-API differential, long: seeded call sequences, model against kernel.

Usage: python stress/oracle_reader.py [--sequences N] [--calls C] [--seed S]
       [--kernel-fix NAME] [--chunk K]

Defaults: 10,000 sequences of 50 reader-API calls (mas_walk, mas_find,
mas_find_rev, mas_next, mas_prev, mas_next_range, mas_prev_range, mas_pause,
mas_set, mas_reset, mas_for_each with a limit; mt_find and mt_find_after
between them), with writes, RCU mode switches and reader-held read sections
in between, on empty, single-entry and multi-level trees, flags cycling
through 0, ALLOC_RANGE, USE_RCU and both.  Prints progress per chunk, then
the calls and ops compared, the sequences a catalogued kernel bug ended (by
catalogue id) and the first divergence, if any.  Exit status 0 without
divergence, 1 with one, 2 if the oracle cannot be built.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.oracle.build import OracleUnavailable
from rcu_harness.oracle.readrun import run_sequences


def main(argv: list[str] | None = None) -> int:
    """Run the sequences; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--kernel-fix", action="append", default=[])
    args = parser.parse_args(argv)
    fixes = tuple(sorted(args.kernel_fix))
    started = time.monotonic()
    sequences = calls = ops = 0
    known: dict[str, int] = {}
    end = args.seed + args.sequences
    try:
        for first in range(args.seed, end, args.chunk):
            run = run_sequences(range(first, min(first + args.chunk, end)),
                                calls=args.calls, fixes=fixes)
            sequences += run.sequences
            calls += run.calls
            ops += run.ops
            for key, n in run.known.items():
                known[key] = known.get(key, 0) + n
            print(f"seeds {first}..{first + run.sequences - 1}: {calls} calls, "
                  f"{ops} ops compared ({time.monotonic() - started:.0f} s)",
                  flush=True)
            if run.divergence is not None:
                print(f"DIVERGENCE: {run.divergence}")
                return 1
    except OracleUnavailable as err:
        print(f"error: {err.reason}", file=sys.stderr)
        return 2
    fixed = f" with {'+'.join(fixes)}" if fixes else ""
    print(f"{sequences} sequences{fixed}: {calls} reader-API calls and {ops} ops "
          f"compared, 0 divergences; ended by a catalogued kernel bug: "
          f"{dict(sorted(known.items())) or 'none'} "
          f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
