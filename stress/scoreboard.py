"""Mutant scoreboard: every seeded bug x strategy, beside plain OS threads.

Usage:
  python stress/scoreboard.py [--seeds 10] [--max-executions 10000]
      [--max-seconds 60] [--threaded-seconds 20] [--threaded-seeds 10]
      [--jobs 2] [--mutants a,b] [--modes mix,random,pct,dfs,threads]
      [--fresh] [--write] [--mutants-md] [--no-run] [--results FILE]
  python stress/scoreboard.py --clean ...   (see stress/clean_runs.py)

Each mutant of ``rcu_harness.scenarios.MUTANTS`` runs in its scoring
scenario (``mutant.scenario``, with the mutant's parameters and patches).
An *attempt* is one base seed of one mode: for a strategy (``mix``, ``random``,
``pct``, ``dfs``) the executions of ``explore`` from that seed until the
first finding, capped at --max-executions executions or --max-seconds
seconds (pct's ``steps`` calibrated once, inside the attempt and its
time); for ``threads`` the OS-thread mode (rcu_harness.runner.threaded)
for a fixed --threaded-seconds, stopping at its first finding.  A mode
``STRATEGY:KEY=VALUE`` passes the strategy a parameter (``+`` for a
comma: ``portfolio:members=pct+rff``); ``STRATEGY@MODEL`` runs the strategy
under memory model MODEL instead of
the mutant's own (the barrier mutants run under lkmm; ``mix@sc`` shows
that sequential consistency misses them).  Attempts
run in --jobs worker processes, ordered seed by seed and mutant by mutant
so that all modes share the machine at the same time; outcomes go to
reports/runs/scoreboard.jsonl as they arrive (a rerun skips attempts
already there unless --fresh; a named portfolio's outcome recorded under
its long spelling counts as its own, :data:`SPELLINGS`).  --write puts the
table into reports/BENCHMARKS.md; --mutants-md the table of mutants (the
default strategy, mix, pct and random) into the ``## Mutants`` section of
docs/scenarios-and-mutants.md; --no-run renders them from --results without
running the attempts missing there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcu_harness.campaign.jobs import DEFAULT_STRATEGY
from rcu_harness.sched import (
    aimed,
    aimed_conflict,
    aimed_pct,
    aimed_rcu,
    aimed_relay,
    aimed_site,
    aimed_stale,
    aimed_surw,
)
from stress.benchlib import interruptible, machine, pool_results, write_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "reports" / "runs" / "scoreboard.jsonl"
MUTANTS_DOC = ROOT / "docs" / "scenarios-and-mutants.md"
MUTANTS_HEADING = "## Mutants"
HEADING = "## Mutant scoreboard (stress/scoreboard.py)"
BARRIER_HEADING = ("## Barrier mutants under lkmm and sc "
                   "(stress/scoreboard.py --barriers)")
BARRIER_MODES = ("mix", "random", "pct", "mix@sc")
STRATEGIES = ("aimed-data", "aimed-pct", "aimed-rcu", "aimed-class", "aimed-conflict",
              "aimed-stale", "aimed-relay", "aimed-site", "aimed-surw", "aimed", "mix",
              "random", "pct", "dfs", "pos", "surw", "portfolio")
MODES = (*STRATEGIES, "threads")
SPELLINGS = {name: (f"portfolio:members={members.replace(',', '+')};"
                    f"points={aimed.POINTS};sync_points={aimed.SYNC_POINTS}")
             for name, members in (("aimed-relay", aimed_relay.MEMBERS),
                                   ("aimed-site", aimed_site.MEMBERS),
                                   ("aimed-surw", aimed_surw.MEMBERS))}
SPELLINGS["aimed-stale"] = f"{SPELLINGS['aimed-relay']};reads={aimed_stale.READS}"
SPELLINGS["aimed-pct"] = f"{SPELLINGS['aimed-stale']};fallback={aimed_pct.FALLBACK}"
SPELLINGS["aimed-rcu"] = f"{SPELLINGS['aimed-pct']};stall_in={aimed_rcu.STALL_IN}"
SPELLINGS["aimed-conflict"] = f"aimed-class:aim={aimed_conflict.AIM}"
"""The mode of each named portfolio spelled as the portfolio it is (or, for
aimed-conflict, as aimed-class with its aim): it runs the very executions
of its name (same seed, same calibration; tests/sched/test_aimed_rcu.py,
test_aimed_pct.py, test_aimed_stale.py, test_aimed_relay.py,
test_aimed_site.py, test_aimed_surw.py and test_aimed_conflict.py), and
boards run before the name existed recorded it so
(reports/runs/board9.jsonl, reports/runs/seq16.jsonl,
reports/runs/tail17-stale.jsonl, reports/runs/combo-class-conflict40.jsonl)."""
CHECKERS = {
    "use-after-free": "KASAN poison check (memory port / heap)",
    "lockdep-rcu": "lockdep-RCU (memory port)",
    "writer-lock": "writer-lock checker",
    "result-inconsistent": "reader-result checker",
    "sleep-in-rcu": "might_sleep() in an RCU read-side section",
    "prealloc-exhausted": "bulk preallocation bound (mas_pop_node)",
    "leak": "kmemleak (heap leak check at teardown)",
    "livelock": "liveness (step bound)",
    "deadlock": "liveness (deadlock)",
    "rcu-mode-transition": "RCU-mode transition checker",
    "mt-validate": "mt_validate() after each write",
    "mm-ref": "mm reference checker",
    "vma-lock": "per-VMA lock checker",
    "null-ptr-deref": "NULL node pointer dereference (the kernel's oops)",
    "not-a-node": "the tree taken for a node (maple node pointer check)",
    "warning": "WARN_ON() of lib/maple_tree.c",
    "bug": "BUG_ON() of lib/maple_tree.c (the kernel's oops)",
    "metadata-misread": "a full node's last slot read as metadata",
    "metadata-as-entry": "a node's metadata word dereferenced as an entry (KASAN)",
    "exception": "exception in a thread",
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One base seed of one mode on one mutant, and its caps."""

    mutant: str
    mode: str
    seed: int
    max_executions: int
    max_seconds: float

    def key(self) -> str:
        """Identity in the results file."""
        return (f"{self.mutant}|{self.mode}|{self.seed}|{self.max_executions}|"
                f"{self.max_seconds:g}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an attempt found, after how many executions and seconds."""

    key: str
    mutant: str
    mode: str
    seed: int
    found: bool
    executions: int
    """Executions run, up to and including the first failing one."""
    seconds: float
    """Wall seconds to the end of the first failing execution (or in all)."""
    kind: str = ""
    message: str = ""
    stop: str = ""
    """Why an attempt without a finding stopped: executions, seconds,
    exhausted (dfs searched everything) or error."""


def strategy_attempt(a: Attempt) -> Outcome:
    """Explore with a strategy until the first finding or a cap."""
    from rcu_harness.runner.explore import Stopped, explore
    from rcu_harness.scenarios import MUTANTS, applied, configure, program

    strategy, _, model = a.mode.partition("@")
    strategy, _, given = strategy.partition(":")
    pairs = (kv.replace("+", ",").split("=", 1) for kv in given.split(";") if kv)
    params: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in pairs}
    cfg = configure(MUTANTS[a.mutant].scenario,
                    {"memory_model": model} if model else None, mutant=a.mutant)
    with applied(a.mutant):
        r = explore(program(cfg), strategy=strategy, executions=a.max_executions,
                    seed=a.seed, seconds=a.max_seconds, **params)
    if r.findings:
        f = r.findings[0]
        return Outcome(a.key(), a.mutant, a.mode, a.seed, True, r.executions,
                       r.wall_time, f.kind, f.message[:200])
    stop = {Stopped.TIME: "seconds", Stopped.EXHAUSTED: "exhausted"}.get(
        r.stopped, "executions")
    return Outcome(a.key(), a.mutant, a.mode, a.seed, False, r.executions,
                   r.wall_time, stop=stop)


def threaded_attempt(a: Attempt) -> Outcome:
    """Run the mutant on OS threads for the fixed wall time."""
    from rcu_harness.runner.threaded import run_threaded
    from rcu_harness.scenarios import MUTANTS, applied, configure, program

    cfg = configure(MUTANTS[a.mutant].scenario, mutant=a.mutant)
    with applied(a.mutant):
        r = run_threaded(program(cfg), duration=a.max_seconds, seed=a.seed)
    if r.findings:
        f = r.findings[0]
        return Outcome(a.key(), a.mutant, a.mode, a.seed, True, f.execution + 1,
                       r.first_finding_after or r.wall_time, f.kind, f.message[:200])
    return Outcome(a.key(), a.mutant, a.mode, a.seed, False, r.executions,
                   r.wall_time, stop="seconds")


def run_attempt(a: Attempt) -> Outcome:
    """Worker entry: one attempt; a crash of the harness is an outcome too."""
    try:
        if a.mode == "threads":
            return threaded_attempt(a)
        return strategy_attempt(a)
    except Exception as exc:  # report it, keep the scoreboard going
        return Outcome(a.key(), a.mutant, a.mode, a.seed, False, 0, 0.0,
                       message=f"{type(exc).__name__}: {exc}"[:200], stop="error")


# -- the plan and the results file ------------------------------------------


def plan(args: argparse.Namespace, mutants: list[str]) -> list[Attempt]:
    """Every attempt, seed-major so that the modes run side by side."""
    out = []
    for seed in range(args.seeds):
        for mutant in mutants:
            for mode in args.modes:
                if mode == "threads":
                    if seed < args.threaded_seeds:
                        out.append(Attempt(mutant, mode, seed, 0,
                                           args.threaded_seconds))
                else:
                    cap = (args.sc_executions if mode.endswith("@sc")
                           and args.sc_executions else args.max_executions)
                    out.append(Attempt(mutant, mode, seed, cap, args.max_seconds))
    return out


def outcome(results: dict[str, Outcome], a: Attempt) -> Outcome | None:
    """@a's outcome in @results, recorded under its mode or, for a named
    portfolio, under its long spelling (:data:`SPELLINGS`)."""
    found = results.get(a.key())
    if found is None and a.mode in SPELLINGS:
        long = Attempt(a.mutant, SPELLINGS[a.mode], a.seed, a.max_executions,
                       a.max_seconds)
        found = results.get(long.key())
    return found


def load_results(path: Path = RESULTS) -> dict[str, Outcome]:
    """Outcomes already recorded, by attempt key."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            o = Outcome(**json.loads(line))
            out[o.key] = o
    return out


def run_plan(attempts: list[Attempt], jobs: int, path: Path = RESULTS) -> None:
    """Run @attempts in @jobs processes, appending outcomes as they arrive."""
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with path.open("a") as out:
        for n, o in enumerate(pool_results(run_attempt, attempts, jobs), 1):
            out.write(json.dumps(asdict(o)) + "\n")
            out.flush()
            what = f"{o.kind} after {o.executions} ex" if o.found else o.stop
            print(f"[{n}/{len(attempts)} {time.perf_counter() - start:7.0f}s] "
                  f"{o.mutant} {o.mode} seed {o.seed}: {what}, {o.seconds:.2f} s",
                  flush=True)


# -- the table -------------------------------------------------------------------


def _median(values: list[float]) -> float:
    """Median, with not-found attempts counted as infinitely late."""
    return statistics.median(values) if values else float("inf")


def _secs(s: float) -> str:
    return f"{s:.2f}" if s < 10 else f"{s:.0f}"


def cell(outcomes: list[Outcome], cap_note: str) -> str:
    """``found/attempts: median executions ex, median s`` for one mode."""
    if not outcomes:
        return "-"
    found = [o for o in outcomes if o.found]
    execs = _median([o.executions if o.found else float("inf") for o in outcomes])
    secs = _median([o.seconds if o.found else float("inf") for o in outcomes])
    head = f"{len(found)}/{len(outcomes)}"
    if execs == float("inf"):
        stops = sorted({o.stop for o in outcomes if not o.found})
        if stops == ["exhausted"]:
            n = max(o.executions for o in outcomes)
            return f"{head}: exhausted after {n:,} ex"
        return f"{head}: median not found ({cap_note}; {', '.join(stops)})"
    return f"{head}: {execs:,.0f} ex, {_secs(secs)} s"


def kinds(outcomes: list[Outcome]) -> str:
    """The finding kinds seen, most common first."""
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.found:
            counts[o.kind] = counts.get(o.kind, 0) + 1
    return ", ".join(k for k, _ in sorted(counts.items(), key=lambda kv: -kv[1]))


def _header(mode: str) -> str:
    return f"{mode} (default)" if mode == DEFAULT_STRATEGY else mode


def table(results: dict[str, Outcome], attempts: list[Attempt]) -> list[str]:
    """The scoreboard rows, one per mutant: a column per mode the attempts
    ran (the default modes first, in their usual order), then the OS
    threads' columns if they ran."""
    from rcu_harness.scenarios import MUTANTS

    by: dict[tuple[str, str], list[Outcome]] = {}
    for a in attempts:
        o = outcome(results, a)
        if o is not None:
            by.setdefault((a.mutant, a.mode), []).append(o)
    ran = list(dict.fromkeys(a.mode for a in attempts))
    modes = [m for m in STRATEGIES if m in ran] + [
        m for m in ran if m not in STRATEGIES and m != "threads"]
    threaded = "threads" in ran
    first = modes[0] if modes else "threads"
    head = [f"finding ({first})", *map(_header, modes)]
    if threaded:
        head += ["OS threads: found, median execs and s to first",
                 "kinds on OS threads"]
    rows = ["| mutant | scenario | " + " | ".join(head) + " |",
            "|---|---|" + "---|" * len(head)]
    for name in dict.fromkeys(a.mutant for a in attempts):
        cells = [kinds(by.get((name, first), [])) or "-"]
        for m in modes:
            one = next((a for a in attempts if a.mutant == name and a.mode == m),
                       None)
            cap = ("" if one is None
                   else f"cap {one.max_executions:,} ex / {one.max_seconds:g} s")
            cells.append(cell(by.get((name, m), []), cap))
        if threaded:
            threads = by.get((name, "threads"), [])
            tcap = next((f"{a.max_seconds:g} s" for a in attempts
                         if a.mutant == name and a.mode == "threads"), "")
            cells += [cell(threads, tcap), kinds(threads) or "-"]
        rows.append(f"| {name} | {MUTANTS[name].scenario} | "
                    + " | ".join(cells) + " |")
    return rows


def report(args: argparse.Namespace, attempts: list[Attempt]) -> str:
    """The BENCHMARKS.md section."""
    results = load_results(Path(args.results))
    rows = table(results, attempts)
    busy = sum(o.seconds for o in (outcome(results, a) for a in attempts) if o)
    command = "python stress/scoreboard.py " + " ".join(_measuring(sys.argv[1:]))
    return "\n".join([
        args.heading, "",
        f"Command: `{command.strip()}`: {len(attempts)} attempts in "
        f"{args.jobs} worker processes ({busy / 60:.0f} min of attempt wall "
        f"time in all).{' ' + args.note if args.note else ''}", "",
        *machine(), "", *rows, "",
        f"Cells: `found/attempts: median executions, median wall seconds to the "
        f"first finding`, medians over base seeds 0..{args.seeds - 1} (OS threads:"
        f" {args.threaded_seeds} attempts of a fixed {args.threaded_seconds:g} s),"
        " an attempt without a finding counting as infinitely late (so a median "
        "exists when at least half the attempts found it).  Strategy caps: "
        f"{args.max_executions:,} executions or {args.max_seconds:g} s per "
        "attempt; seconds include pct's one calibration execution.  Executions "
        "to the first finding are deterministic for mix, random and pct (a function "
        "of the seed); seconds are not.  dfs explores in a fixed order (the seed "
        "only feeds `h.random()`), so its seeds mostly agree; `exhausted` means "
        "it searched the whole preemption-bounded space (bound 2) without a "
        "finding.", "",
        "OS threads: the same scenario, model, port, RCU model and checkers, "
        "every simulated thread a `threading.Thread`, interleavings left to the "
        "OS and the GIL with `sys.setswitchinterval(1e-6)`; whole executions "
        "are repeated until the first finding or the time is up.  Its findings "
        "are not replayable, and its kinds can differ (a reader that never "
        "re-checks dead nodes loops forever: a livelock after 10 s).", "",
        "Goals: every mutant found by the default strategy "
        f"({DEFAULT_STRATEGY}) within 10,000 executions and 60 s on one core.  "
        "Each attempt runs in one process (one core; OS-thread attempts are "
        "bound to one core by the GIL), attempts of the modes interleaved seed "
        "by seed on a shared, noisy 2-core VM: executions are exact, seconds "
        "are indicative.", ""])


def _measuring(argv: list[str]) -> list[str]:
    """@argv without the options that only write reports."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--note":
            skip = True
        elif arg not in ("--write", "--mutants-md", "--fresh", "--no-run") \
                and not arg.startswith("--note="):
            out.append(arg)
    return out


def _caught_by(outs: list[Outcome]) -> str:
    """Each finding kind seen, with its checker and how many seeds saw it."""
    counts: dict[str, int] = {}
    for o in outs:
        if o.found:
            counts[o.kind] = counts.get(o.kind, 0) + 1
    return "; ".join(f"{CHECKERS.get(k, k)} (`{k}`, {n}/{len(outs)})"
                     for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


MUTANTS_MODES = (DEFAULT_STRATEGY, "mix", "pct", "random")
"""The columns of the mutants table: the default strategy, mix (the default
before the aimed portfolios), pct and random alone."""


def _seeds(attempts: list[Attempt]) -> str:
    seeds = sorted({a.seed for a in attempts})
    return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def mutants_md(results: dict[str, Outcome], attempts: list[Attempt]) -> str:
    """The ``## Mutants`` section of docs/scenarios-and-mutants.md."""
    from rcu_harness.scenarios import MUTANTS

    mine = [a for a in attempts if a.mode in MUTANTS_MODES]
    caps = sorted({(a.max_executions, a.max_seconds) for a in mine})
    cap = "; ".join(f"{n:,} executions or {t:g} s" for n, t in caps)
    lines = [MUTANTS_HEADING, "",
             "Each mutant is a named, realistic kernel mistake, patched into the "
             "model or the scenario only while its executions run: `rcu-harness "
             "stress --mutant NAME` runs it in its scenario (`rcu-harness list "
             "mutants`; from Python, `explore_scenario(..., mutant=NAME)`).  A fast "
             "test per mutant finds it with a fixed seed and budget and replays "
             "the trace to the identical report "
             "(`tests/scenarios/test_mutants.py`).", "",
             "The table is generated by `python stress/scoreboard.py --mutants-md` "
             "from the scoreboard results "
             "([reports/BENCHMARKS.md](../reports/BENCHMARKS.md), section *Mutant "
             "scoreboard*, has the full table: every strategy and the OS-thread "
             "baseline).  Each mutant is scored in the first scenario it applies "
             f"to, with its own parameters; medians are over base seeds "
             f"{_seeds(mine)} of the default strategy `{DEFAULT_STRATEGY}` "
             "([search.md](search.md#aimed-data-the-default)), of mix (even "
             "executions pct, odd random; the default before the aimed "
             "portfolios) and of pct and random alone, as far as the results "
             "hold them (each cell gives the seeds that found it out of the "
             f"seeds run), caps {cap} per seed, a seed that did not find it "
             "counting as infinitely late; the checker column gives every "
             f"finding kind seen with any of the {len(MUTANTS_MODES)} and on "
             "how many attempts.", "",
             "| mutant | what it breaks | scenario | caught by (finding kind) | "
             "median executions to find: " + " | ".join(
                 f"{m} (default)" if m == DEFAULT_STRATEGY else m
                 for m in MUTANTS_MODES) + " |",
             "|---|---|---|---|" + "---|" * len(MUTANTS_MODES)]
    for name, m in MUTANTS.items():
        cells, every = [], []
        for mode in MUTANTS_MODES:
            outs = [o for o in (outcome(results, a) for a in mine
                                if a.mutant == name and a.mode == mode) if o]
            every += outs
            execs = _median([o.executions if o.found else float("inf") for o in outs])
            med = f"{execs:,.0f}" if execs != float("inf") else "not found"
            cells.append(f"{med} ({sum(o.found for o in outs)}/{len(outs)} seeds)"
                         if outs else "-")
        lines.append(f"| `{name}` | {m.description} | `{m.scenario}` | "
                     f"{_caught_by(every) or '?'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--max-executions", type=int, default=10_000)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--threaded-seconds", type=float, default=20.0)
    p.add_argument("--threaded-seeds", type=int, default=10)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--mutants", default="")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--results", default=str(RESULTS),
                   help="the outcomes file (JSON lines) attempts are read from "
                   "and appended to (default reports/runs/scoreboard.jsonl)")
    p.add_argument("--write", action="store_true")
    p.add_argument("--mutants-md", action="store_true")
    p.add_argument("--no-run", action="store_true",
                   help="render the tables from the results file only: run no "
                   "attempt (those missing from it are left out of the cells, "
                   "which count the seeds they have)")
    p.add_argument("--note", default="", help="a sentence for the report "
                   "(for example which code snapshot was measured)")
    p.add_argument("--sc-executions", type=int, default=0,
                   help="the executions cap of STRATEGY@sc modes (default: "
                   "--max-executions)")
    p.add_argument("--barriers", action="store_true",
                   help="the barrier mutants only (their own memory model, lkmm, "
                   "and mix@sc), reported in their own section")
    args = p.parse_args(argv)
    if args.barriers:
        from rcu_harness.scenarios import MUTANTS

        args.mutants = args.mutants or ",".join(
            n for n, m in MUTANTS.items() if m.params.get("memory_model") == "lkmm")
        if args.modes == ",".join(MODES):
            args.modes = ",".join(BARRIER_MODES)
    args.heading = BARRIER_HEADING if args.barriers else HEADING
    args.modes = [m for m in args.modes.split(",") if m]
    if args.mutants_md and not set(args.modes) & set(MUTANTS_MODES):
        p.error(f"--mutants-md renders the columns {', '.join(MUTANTS_MODES)}: "
                "--modes names none of them")
    return args


def main(argv: list[str]) -> int:
    """Run the scoreboard (or, with --clean, the long clean runs); the exit
    status."""
    if "--clean" in argv:
        from stress.clean_runs import main as clean_main

        return clean_main([a for a in argv if a != "--clean"])
    return interruptible(lambda: _board(argv),
                         "every finished attempt is kept in its results file; "
                         "the same command skips them")


def _board(argv: list[str]) -> None:
    from rcu_harness.scenarios import MUTANTS

    args = parse(argv)
    mutants = [m for m in args.mutants.split(",") if m] or list(MUTANTS)
    attempts = plan(args, mutants)
    results = Path(args.results)
    if args.fresh and results.exists():
        results.unlink()
    done = load_results(results)
    todo = [a for a in attempts if outcome(done, a) is None]
    if todo and not args.no_run:
        run_plan(todo, args.jobs, results)
    text = report(args, attempts)
    print(text)
    if args.write:
        write_section(args.heading, text)
    if args.mutants_md:
        write_section(MUTANTS_HEADING, mutants_md(load_results(results), attempts),
                      MUTANTS_DOC)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
