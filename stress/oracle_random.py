"""Long random differential runs: the Python model against lib/maple_tree.c.

Usage: python stress/oracle_random.py [--traces N] [--ops M] [--seed S]
       [--flags F ...] [--every K] [--steer-known-bugs]

Defaults: 10 traces of 10,000 ops for flags 0 and for flags 1.  Prints, per
trace, the ops compared and whether the two sides were identical; for a
divergence, the side-by-side dump and the exact command that reruns it.
Both sides failing at one op with a catalogued kernel bug is agreement: the
op is rerun outside RCU mode and the trace goes on
(:func:`rcu_harness.oracle.agree.compare`); the count of such ops is printed.
Exit status 0 if every trace was identical, 1 otherwise, 2 if the oracle or
the model is not available.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.oracle.agree import compare
from rcu_harness.oracle.build import OracleUnavailable, ensure_oracle
from rcu_harness.oracle.model import ModelUnavailable, load_model
from rcu_harness.oracle.ops import format_op
from rcu_harness.oracle.tracegen import random_trace


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=10)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flags", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--every", type=int, default=1,
                        help="compare full trees every K ops (default 1)")
    parser.add_argument("--steer-known-bugs", action="store_true",
                        help="avoid the catalogued RCU destroy bug")
    return parser.parse_args(argv)


def rerun_command(args: argparse.Namespace, seed: int, flags: int) -> str:
    """The command that reruns one trace."""
    extra = " --steer-known-bugs" if args.steer_known_bugs else ""
    return (f"python stress/oracle_random.py --traces 1 --ops {args.ops} "
            f"--seed {seed} --flags {flags}{extra}")


def run_one(args: argparse.Namespace, binary: Path, seed: int, flags: int) -> bool:
    """Compare one trace; print the outcome; True if in agreement."""
    ops = random_trace(seed, args.ops, flags=flags,
                       steer_known_bugs=args.steer_known_bugs)
    started = time.monotonic()
    result = compare(ops, every=args.every, binary=binary)
    took = time.monotonic() - started
    name = f"seed={seed} flags={flags}"
    KNOWN[0] += len(result.known)
    known = "".join(f", known bug {k.entry.id} at op #{k.index} {format_op(k.op)}"
                    for k in result.known)
    found = result.divergence
    if found is None:
        print(f"{name}: {result.compared} ops compared, identical{known} "
              f"({took:.1f} s)")
        return True
    if found.both_crashed:
        print(f"{name}: {found.index} ops identical, then both sides crash at "
              f"{found.describe()} (not catalogued) ({took:.1f} s)\n"
              f"    kernel: {found.kernel}\n    model:  {found.model}")
        return True
    print(f"{name}: DIVERGED after {found.index} identical ops, at "
          f"{found.describe()}{known} ({took:.1f} s)")
    for i in range(max(0, found.index - 6), found.index):
        print(f"    #{i}: {format_op(result.ops[i])}")
    print(found.side_by_side)
    print(f"rerun: {rerun_command(args, seed, flags)}")
    return False


KNOWN = [0]
"""Ops where both sides failed with a catalogued bug, over the whole run."""


def main(argv: list[str] | None = None) -> int:
    """Run every trace; the exit status."""
    args = parse_args(argv)
    try:
        binary = ensure_oracle()
        load_model()
    except (OracleUnavailable, ModelUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    total = identical = 0
    started = time.monotonic()
    for flags in args.flags:
        for seed in range(args.seed, args.seed + args.traces):
            total += 1
            identical += run_one(args, binary, seed, flags)
    print(f"{identical} of {total} traces in agreement, "
          f"{total * args.ops} ops in {time.monotonic() - started:.1f} s, "
          f"{KNOWN[0]} ops failing with a catalogued kernel bug on both sides")
    return 0 if identical == total else 1


if __name__ == "__main__":
    sys.exit(main())
