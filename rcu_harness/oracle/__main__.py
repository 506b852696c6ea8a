"""Command line of the kernel oracle: ``python -m rcu_harness.oracle``.

``setup`` builds (or finds) the driver and prints where everything is;
``diff`` runs traces through the kernel driver and the Python model (exit
0 all in agreement, 1 a divergence); ``confirm`` replays a finding on the
real lib/maple_tree.c (exit 1 reproduced, 0 the kernel runs it cleanly).
Exit status 2: a usage or setup error, or (confirm) a finding that cannot be
expressed at API-call granularity, printed as one line, never a traceback.
"""

# ruff: noqa: T201 - a command line prints its results

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from rcu_harness.known.fixes import FixError, parse_fixes
from rcu_harness.oracle.agree import compare, driver_for
from rcu_harness.oracle.build import OracleUnavailable, build_oracle
from rcu_harness.oracle.diff import parse_line, run_kernel
from rcu_harness.oracle.erase2 import load_erase2_sets
from rcu_harness.oracle.model import ModelUnavailable
from rcu_harness.oracle.ops import (
    BDestroy,
    Bulk,
    Init,
    NamedTrace,
    OpParseError,
    format_op,
    parse_trace,
)
from rcu_harness.oracle.tracegen import random_trace

CONTEXT_OPS = 6
"""How many ops before a divergence to print."""


class UsageError(Exception):
    """A bad command line or input file (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Report a usage error in one line."""
        raise UsageError(message)


@dataclass(frozen=True, slots=True)
class TraceSpec:
    """A trace to run and the command that reruns just that trace."""

    trace: NamedTrace
    rerun: str


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m rcu_harness.oracle``."""
    parser = _Parser(prog="python -m rcu_harness.oracle",
                     description="Kernel oracle for the maple tree model.")
    sub = parser.add_subparsers(dest="command", required=True,
                                parser_class=_Parser)
    setup = sub.add_parser("setup", help="build the driver, print where it is")
    setup.add_argument("-v", "--verbose", action="store_true")
    diff = sub.add_parser("diff", help="compare the model with the kernel")
    diff.add_argument("--erase2", action="store_true",
                      help="the kernel's recorded erase2 sets")
    diff.add_argument("--set", action="append", default=[], metavar="NAME",
                      help="with --erase2: only this set (repeatable)")
    diff.add_argument("--random", type=int, default=0, metavar="N",
                      help="N random traces")
    diff.add_argument("--ops", type=int, default=2000, metavar="M",
                      help="ops per random trace (default 2000)")
    diff.add_argument("--seed", type=int, default=0, metavar="S",
                      help="seed of the first random trace (default 0)")
    diff.add_argument("--flags", type=int, default=0, metavar="F",
                      help="tree flags of the random traces (default 0)")
    diff.add_argument("--trace", type=Path, action="append", default=[],
                      metavar="FILE", help="a trace file in driver input format")
    diff.add_argument("--every", type=int, default=1, metavar="K",
                      help="compare full trees every K ops (default 1)")
    diff.add_argument("--kernel-only", action="store_true",
                      help="run only the kernel driver and check its lines")
    diff.add_argument("--kernel-fix", action="append", default=[], metavar="NAME",
                      help="apply a candidate kernel fix on both sides (repeatable)")
    diff.add_argument("--steer-known-bugs", action="store_true",
                      help="random traces avoid the catalogued write-side bug")
    confirm = sub.add_parser(
        "confirm", help="does a finding happen on the real lib/maple_tree.c?",
        description="Confirm a finding on the kernel: exit 1 reproduced, 0 the "
        "kernel runs it cleanly (model-only), 2 not expressible at API-call "
        "granularity or bad input.")
    confirm.add_argument("finding", type=Path, metavar="FINDING.json",
                         help="a finding's trace file (runs/.../findings/*.json)")
    confirm.add_argument("--emit", type=Path, metavar="FILE.c",
                         help="write the C reproducer there")
    confirm.add_argument("--kernel-fix", action="append", default=[],
                         metavar="NAME",
                         help="apply a candidate kernel fix on both sides")
    return parser


def cmd_confirm(args: argparse.Namespace) -> int:
    """Confirm one finding on the kernel; print one line; the exit status."""
    from rcu_harness.oracle.confirm import confirm
    from rcu_harness.scenarios.spec import ScenarioError
    from rcu_harness.sched.errors import ReplayDivergence
    from rcu_harness.trace.tracefile import TraceError

    try:
        fixes = parse_fixes(",".join(args.kernel_fix))
    except FixError as err:
        raise UsageError(str(err)) from None
    if args.emit is not None and args.emit.exists():
        raise UsageError(f"{args.emit} exists; not overwriting it")
    try:
        result = confirm(args.finding, fixes=fixes, emit=args.emit)
    except (TraceError, ReplayDivergence, ScenarioError) as err:
        raise UsageError(str(err)) from None
    print(f"kernel: {result.verdict}: {result.why}")
    if args.emit is not None and args.emit.exists():
        print(f"reproducer: {args.emit}")
    return result.status


def cmd_setup(args: argparse.Namespace) -> int:
    """Build the oracle and print where its parts are."""
    started = time.monotonic()
    info = build_oracle(verbose=args.verbose)
    print(f"driver:   {info.binary}")
    print(f"package:  {info.package} {info.version}")
    print(f"deb:      {info.deb}")
    print(f"sources:  {info.source_dir}")
    print(f"cache:    {info.cache_dir}")
    print(f"cflags:   {info.cflags}")
    print(f"ready in {time.monotonic() - started:.1f} s")
    return 0


def _random_specs(args: argparse.Namespace) -> list[TraceSpec]:
    """The random traces the command line asks for."""
    specs = []
    for seed in range(args.seed, args.seed + args.random):
        name = f"random seed={seed} flags={args.flags} ops={args.ops}"
        ops = random_trace(seed, args.ops, flags=args.flags,
                           steer_known_bugs=args.steer_known_bugs)
        steer = " --steer-known-bugs" if args.steer_known_bugs else ""
        rerun = ("python -m rcu_harness.oracle diff --random 1 "
                 f"--ops {args.ops} --seed {seed} --flags {args.flags}{steer}")
        specs.append(TraceSpec(NamedTrace(name, args.flags, ops), rerun))
    return specs


def _file_specs(paths: list[Path]) -> list[TraceSpec]:
    """The trace files the command line names."""
    specs = []
    for path in paths:
        try:
            ops = parse_trace(path.read_text())
        except OSError as err:
            raise UsageError(f"{path}: {err.strerror}") from None
        except OpParseError as err:
            raise UsageError(f"{path}: {err}") from None
        rerun = f"python -m rcu_harness.oracle diff --trace {path}"
        specs.append(TraceSpec(NamedTrace(str(path), 0, ops), rerun))
    return specs


def collect_specs(args: argparse.Namespace) -> list[TraceSpec]:
    """Every trace the diff command line selects."""
    if args.random < 0 or args.ops < 1 or args.every < 1:
        raise UsageError("--random must be >= 0, --ops and --every >= 1")
    specs = []
    if args.erase2:
        for trace in load_erase2_sets():
            if args.set and trace.name not in args.set:
                continue
            rerun = f"python -m rcu_harness.oracle diff --erase2 --set {trace.name}"
            specs.append(TraceSpec(trace, rerun))
    specs += _random_specs(args)
    specs += _file_specs(args.trace)
    if not specs:
        raise UsageError("nothing to compare: give --erase2, --random N or "
                         "--trace FILE")
    return specs


def check_kernel_lines(spec: TraceSpec, lines: list[str]) -> str | None:
    """Check the driver's lines on their own; a problem, or None.

    Every line must parse, and outside a bulk sequence (``bulk`` ..
    ``bdestroy``, which holds preallocated nodes) every full dump must show
    as many nodes as the node cache counts.
    """
    ops = spec.trace.ops
    if len(lines) != len(ops):
        return f"driver printed {len(lines)} lines for {len(ops)} ops: {lines[-1]}"
    in_bulk = False
    for i, (op, line) in enumerate(zip(ops, lines, strict=True)):
        parsed = parse_line(line)
        if parsed is None:
            return f"op #{i} {format_op(op)}: {line}"
        in_bulk = (in_bulk or isinstance(op, Bulk)) and not isinstance(
            op, BDestroy | Init)
        if not in_bulk and parsed.tree is not None and parsed.nr != parsed.node_count:
            return (f"op #{i} {format_op(op)}: n{parsed.nr} but the dump shows "
                    f"{parsed.node_count} nodes")
    return None


def run_spec(spec: TraceSpec, args: argparse.Namespace) -> bool:
    """Compare one trace and print the outcome; True if identical."""
    trace = spec.trace
    started = time.monotonic()
    if args.kernel_only:
        problem = check_kernel_lines(spec, run_kernel(trace.ops, every=args.every))
        took = time.monotonic() - started
        if problem is None:
            print(f"{trace.name}: {len(trace.ops)} ops run on the kernel, "
                  f"lines well formed ({took:.2f} s)")
            return True
        print(f"{trace.name}: {problem}")
        return False
    result = compare(trace.ops, every=args.every, binary=args.binary,
                     fixes=args.fixes)
    took = time.monotonic() - started
    for known in result.known:
        then = "rerun outside RCU mode" if known.wrapped else "the trace ends there"
        print(f"{trace.name}: both sides fail at op #{known.index} "
              f"{format_op(known.op)} with the known kernel bug "
              f"{known.entry.id} ({then})\n    kernel: {known.kernel}\n"
              f"    model:  {known.model}")
    found = result.divergence
    if found is None:
        print(f"{trace.name}: {result.compared} ops compared, identical "
              f"({took:.2f} s)")
        return True
    if found.both_crashed:
        print(f"{trace.name}: {found.index} ops identical, then both sides crash "
              f"at {found.describe()} (not catalogued) ({took:.2f} s)\n"
              f"    kernel: {found.kernel}\n    model:  {found.model}")
        return True
    ops = result.ops
    print(f"{trace.name}: DIVERGED after {found.index} identical ops, at "
          f"{found.describe()} ({took:.2f} s)")
    for i in range(max(0, found.index - CONTEXT_OPS), found.index):
        print(f"    #{i}: {format_op(ops[i])}")
    print(found.side_by_side)
    print(f"rerun: {spec.rerun}")
    return False


def cmd_diff(args: argparse.Namespace) -> int:
    """Run every selected trace; 0 if all identical, 1 otherwise."""
    specs = collect_specs(args)
    try:
        args.fixes = parse_fixes(",".join(args.kernel_fix))
    except FixError as err:
        raise UsageError(str(err)) from None
    args.binary = None if args.kernel_only else driver_for(args.fixes)
    identical = 0
    for spec in specs:
        identical += run_spec(spec, args)
    verdict = "well formed" if args.kernel_only else "in agreement"
    print(f"{identical} of {len(specs)} traces {verdict}")
    return 0 if identical == len(specs) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        if args.command == "setup":
            return cmd_setup(args)
        if args.command == "confirm":
            return cmd_confirm(args)
        return cmd_diff(args)
    except (UsageError, OracleUnavailable, ModelUnavailable, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
