"""Benchmark: executions per second of the default scenarios per interpreter.

Compares Python interpreters (``--python PATH``, repeatable; each an
interpreter with this checkout's dependencies installed, e.g. a venv per
version with ``pip install -e '.[test]'``) on this checkout, side by side on
this machine.  For each repetition, each scenario is run in a fresh process
per interpreter, the interpreters alternating (first to last, then last to
first, ...), by ``stress/speed_probe.py`` with the same executions as
``stress/bench_speedup.py`` (:data:`stress.bench_speedup.SCENARIOS`: the
scenario's executions 0..N-1 as a campaign worker runs them, ``mix``, base
seed 0, no events).  Rates are executions per CPU second of the probe
process, medians over repetitions, with each interpreter's ratio to the
first one's.  Cost per scheduling point: CPU seconds over the points made,
beside a bare greenlet switch round trip measured in the same process after
the run.  The probe's digest of every execution's schedule tells whether
the interpreters made the same decisions in every execution.

``--callgrind K``: instead of timing, count instructions per execution with
``valgrind --tool=callgrind`` per interpreter, as ``bench_speedup.py
--callgrind`` does (runs of 1 and 1+K executions, ``mmput_race`` at least
:data:`stress.bench_speedup.MIN_COUNTED`; the difference divided by the
executions between them; ``PYTHONHASHSEED=0``), with each interpreter's
speed-up over the first (the first one's instructions over its own), the
speed-up on the counted executions alone, the instructions per scheduling
point beside a bare round trip counted in the same process, and whether
all runs made the same schedules.

Usage: python stress/bench_python.py --python /tmp/pyver/311/bin/python
       --python /tmp/pyver/312/bin/python [--reps 3] [--callgrind 4]
       [--write reports/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.bench_speedup import PROBE, ROUNDTRIPS, SCENARIOS, counted
from stress.benchlib import callgrind, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
NAME = "bench_python.py"
CHECK = ("import sys; sys.path.insert(0, sys.argv[1]); import platform, greenlet; "
         "import rcu_harness.runner.run, rcu_harness.scenarios.catalog; "
         "print(platform.python_version(), greenlet.__version__)")
"""What an interpreter must import to run the probe; prints its version and
greenlet's."""


class Interpreter:
    """An interpreter to measure: its path, its version (the label), greenlet's."""

    def __init__(self, path: str, version: str, greenlet: str) -> None:
        self.path, self.version, self.greenlet = path, version, greenlet
        self.label = version


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def interpreter(path: str) -> Interpreter:
    """@path checked: it runs and imports greenlet and the harness from
    this checkout (a one-line SystemExit otherwise)."""
    try:
        proc = subprocess.run([path, "-c", CHECK, str(ROOT)], capture_output=True,
                              text=True, check=False, timeout=120)
    except OSError as err:
        raise SystemExit(f"{NAME}: {path}: cannot run: {err.strerror}") from None
    if proc.returncode != 0:
        raise SystemExit(f"{NAME}: {path}: {_last_line(proc.stderr)}")
    try:
        version, greenlet = proc.stdout.split()
    except ValueError:
        raise SystemExit(f"{NAME}: {path}: unexpected output "
                         f"{proc.stdout.strip()!r}") from None
    return Interpreter(path, version, greenlet)


def interpreters(paths: list[str]) -> list[Interpreter]:
    """@paths checked, labelled by version (``#2``... on a repeated one)."""
    out = [interpreter(p) for p in paths]
    for i, it in enumerate(out):
        if any(o.version == it.version for o in out[:i]):
            it.label = f"{it.version} #{i + 1}"
    return out


def probe(python: str, scenario: str, n: int, bare: bool) -> dict[str, float]:
    """One run of the probe under @python (a fresh process)."""
    cmd = [python, str(PROBE), str(ROOT), scenario, str(n)]
    if bare:
        cmd.append("--bare")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONHASHSEED="0"))
    if out.returncode != 0:
        raise SystemExit(f"{NAME}: {python} {scenario}: {_last_line(out.stderr)}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def instructions(python: str, scenario: str, n: int,
                 ) -> tuple[int, float, float, int, str]:
    """As ``bench_speedup.instructions`` under @python: instructions of the
    run of @n executions without its bare round trips; per scheduling point
    of those executions and per bare round trip; the executions'
    instructions; the digest of their schedules."""
    parts, out = callgrind([str(PROBE), str(ROOT), scenario, str(n), "--count"],
                           python)
    result = json.loads(out.strip().splitlines()[-1])
    return (sum(parts) - parts[2] - parts[3], parts[1] / result["steps"],
            parts[3] / ROUNDTRIPS, parts[1], str(result["schedules"]))


def _same(digests: dict[str, set[str]], size: int) -> str:
    """"yes" when every interpreter's runs gave the same digests, @size of
    them (one per kind of run: a run that differs from the same
    interpreter's other runs of its kind makes more)."""
    values = {frozenset(d) for d in digests.values()}
    if len(values) == 1 and len(next(iter(values))) == size:
        return "yes"
    return "NO (" + ", ".join(f"{k}: {'/'.join(sorted(v))}"
                              for k, v in digests.items()) + ")"


def timing(its: list[Interpreter], reps: int,
           scale: float) -> tuple[list[str], list[str]]:
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    for rep in range(reps):
        for scenario, n in SCENARIOS.items():
            for it in (its if rep % 2 == 0 else its[::-1]):
                r = probe(it.path, scenario, max(1, int(n * scale)), True)
                samples.setdefault((it.label, scenario), []).append(r)
                print(f"rep {rep} {scenario} {it.label}: "
                      f"{r['n'] / r['cpu']:.1f} ex/s", file=sys.stderr)
    rows = []
    bares: dict[str, list[float]] = {}
    first = its[0].label
    for scenario in SCENARIOS:
        rates, cells, points = {}, [], []
        digests: dict[str, set[str]] = {}
        for it in its:
            runs = samples[(it.label, scenario)]
            rates[it.label] = statistics.median(r["n"] / r["cpu"] for r in runs)
            per_point = statistics.median(r["cpu"] / r["steps"] for r in runs)
            bare = statistics.median(r["bare"] for r in runs)
            bares.setdefault(it.label, []).extend(r["bare"] for r in runs)
            digests[it.label] = {str(r["schedules"]) for r in runs}
            ratio = rates[it.label] / rates[first]
            cells.append(f"{rates[it.label]:,.1f}" + (
                "" if it.label == first else f" (**{ratio:.2f}x**)"))
            points.append(f"{per_point * 1e6:.2f} ({per_point / bare:.1f}x)")
        same = _same(digests, 1)
        rows.append(f"| {scenario} | " + " | ".join([*cells, *points, same]) + " |")
    notes = [f"{label} {statistics.median(b) * 1e6:.3f} us"
             for label, b in bares.items()]
    return rows, notes


def counting(its: list[Interpreter], k: int) -> list[str]:
    rows = []
    first = its[0].label
    for scenario in SCENARIOS:
        per: dict[str, float] = {}
        executions: dict[str, int] = {}
        ratio: dict[str, str] = {}
        digests: dict[str, set[str]] = {}
        n = counted(scenario, k)
        for it in its:
            one, _, _, _, digest = instructions(it.path, scenario, 1)
            more, point, bare, executions[it.label], digest_n = \
                instructions(it.path, scenario, n)
            digests[it.label] = {f"1:{digest}", f"n:{digest_n}"}
            per[it.label] = (more - one) / (n - 1)
            ratio[it.label] = f"{point:,.0f} / {bare:,.0f} = **{point / bare:.2f}x**"
            print(f"{scenario} {it.label}: {per[it.label] / 1e6:.1f} M, per point "
                  f"{ratio[it.label]}, executions {executions[it.label]:,}",
                  file=sys.stderr)
        cells = [f"{per[it.label] / 1e6:.1f} M" + (
            "" if it.label == first
            else f" (**{per[first] / per[it.label]:.2f}x**)") for it in its]
        cells += [f"**{executions[first] / executions[it.label]:.3f}x**"
                  for it in its[1:]]
        cells += [ratio[it.label] for it in its]
        cells.append(_same(digests, 2))
        rows.append(f"| {scenario} ({n} executions) | " + " | ".join(cells) + " |")
    return rows


def _header(its: list[Interpreter], callgrind_mode: bool) -> list[str]:
    first = its[0].label
    if callgrind_mode:
        cols = [f"{it.label} instructions per execution"
                + ("" if it.label == first else f" (speed-up over {first})")
                for it in its]
        cols += [f"{it.label}: speed-up over {first}, counted executions"
                 for it in its[1:]]
        cols += [f"{it.label}: per point / per bare round trip" for it in its]
    else:
        cols = [f"{it.label} ex/s" + ("" if it.label == first
                                      else f" (x {first})") for it in its]
        cols += [f"{it.label} us per point (x bare)" for it in its]
    cols = ["scenario", *cols, "same schedules"]
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", action="append", default=[], metavar="PATH",
                        help="an interpreter to measure (repeatable; the first "
                             "is the reference; default: this one)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the executions per probe run")
    parser.add_argument("--callgrind", type=int, default=0, metavar="K")
    parser.add_argument("--note", default="")
    parser.add_argument("--write", default="")
    args = parser.parse_args()
    if args.reps < 1 or args.scale <= 0 or args.callgrind < 0:
        raise SystemExit(f"{NAME}: --reps must be >= 1, --scale > 0, "
                         "--callgrind >= 0")
    its = interpreters(args.python or [sys.executable])
    versions = ", ".join(".".join(it.version.split(".")[:2]) for it in its)
    heading = (f"## Interpreter versions: {versions} (stress/bench_python.py"
               f"{' --callgrind' if args.callgrind else ''})")
    command = "python stress/bench_python.py " + " ".join(sys.argv[1:])
    lines = [f"- `{it.path}`: Python {it.version}, greenlet {it.greenlet}"
             for it in its]
    about = [*(m for m in machine() if not m.startswith("- Python")), *lines]
    if args.callgrind:
        rows = counting(its, args.callgrind)
        text = "\n".join([
            heading, "", f"Command: `{command.strip()}`; this checkout under "
            f"each interpreter. {args.note}".rstrip(), "", *about, "",
            *_header(its, True), *rows, ""])
    else:
        rows, notes = timing(its, args.reps, args.scale)
        text = "\n".join([
            heading, "", f"Command: `{command.strip()}`; this checkout under "
            f"each interpreter; medians of {args.reps} interleaved repetitions. "
            f"{args.note}".rstrip(), "", *about, "",
            *_header(its, False), *rows, "",
            "Bare greenlet switch round trip, measured in each probe process "
            "after its run (median over all scenarios): " + "; ".join(notes) + ".",
            ""])
    print(text)
    if args.write:
        write_section(heading, text, Path(args.write))


if __name__ == "__main__":
    main()
