"""The command line: ``rcu-harness`` and ``python -m rcu_harness``.

Commands: ``list``, ``stress``, ``replay``, ``report`` and ``oracle``.
Exit status everywhere: 0 no violation, 1 violations found, 2 a usage or
input error (one line on stderr saying what is wrong and how to fix it,
never a traceback, nothing overwritten), 130 interrupted outside a
campaign (a campaign interrupted by Ctrl-C or SIGTERM stops cleanly, stores
what it ran and exits 0 or 1; a second one stops at once),
141 when stdout was closed early (``| head``).
Progress and notes go to stderr; with ``--json`` stdout holds exactly one
JSON document.  This module and ``report/`` are the only ones that print.
Each command imports what it needs when it runs, so that ``--help``,
``list`` and a usage error answer without loading the model, numpy or
matplotlib (the layering test allows function-level imports here).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import FrameType

    from rcu_harness.campaign.replay import Target
    from rcu_harness.campaign.session import RunResult
    from rcu_harness.runner.replay import ReplayResult

PROG = "rcu-harness"
DEFAULT_OUT = Path("reports/runs")


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Report a usage error in one line."""
        raise UsageError(f"{message} (see {self.prog} --help)")


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum} (got {text!r})")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


_count, _natural = _at_least(1), _at_least(0)


def _path(text: str) -> Path:
    """A path option: never empty (``Path("")`` would silently be ``.``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a file or directory (got '')")
    return Path(text)


_path.__name__ = "path"

JOBS_PER_CORE = 4
"""``--jobs`` is capped at this many worker processes per usable core: more
only adds processes competing for the same cores (and memory)."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_jobs(jobs: int | None, scheduler: str | None) -> None:
    """UsageError above the cap; a warning above the core count (local
    workers only: with a cluster, --jobs counts units in flight)."""
    if jobs is None or scheduler is not None:
        return
    n = cores()
    if jobs > JOBS_PER_CORE * n:
        raise UsageError(f"--jobs {jobs} is more than {JOBS_PER_CORE} per core "
                         f"({JOBS_PER_CORE * n} here, {n} cores); use at most "
                         f"{JOBS_PER_CORE * n}")
    if jobs > n:
        print(f"{PROG}: warning: --jobs {jobs} is more than the {n} cores here; "
              "workers will share them (no faster than --jobs "
              f"{n})", file=sys.stderr)


# -- the parser ------------------------------------------------------------------

def _add_scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", metavar="NAME", help="scenario to run")
    p.add_argument("--program", metavar="MODULE:FUNCTION",
                   help="your own program to run like a scenario (its keyword "
                   "parameters are set with --set; see docs/python-api.md)")
    p.add_argument("--mutant", metavar="NAME", help="seeded bug to run with")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   dest="settings", help="scenario parameter (repeatable)")
    p.add_argument("--strategy-param", action="append", default=[],
                   metavar="KEY=VALUE", dest="strategy_params",
                   help="strategy parameter, e.g. depth=3 (repeatable)")
    p.add_argument("--max-steps", type=_count, metavar="N",
                   help="step bound per execution (livelock beyond)")
    p.add_argument("--memory-model", choices=("sc", "lkmm"), metavar="MODEL",
                   help="sc (default: sequential consistency) or lkmm (loads may "
                   "read older stores where the Linux kernel memory model allows)")


def _stress_parser(sub: Any) -> None:
    p = sub.add_parser("stress", help="run a stress job (default: stress/default.toml)",
                       description="Run a stress job: executions of scenarios under "
                       "a strategy, findings de-duplicated and stored.")
    p.add_argument("job", nargs="?", metavar="JOB.toml",
                   help="job file, or the name of one in stress/")
    _add_scenario_options(p)
    p.add_argument("--strategy", metavar="S",
                   help="aimed-data (default: aimed-conflict whose pct-site and "
                   "pct-relay turns also aim the program's own draws at the "
                   "values calibration saw lead to objects other threads store "
                   "to), aimed-conflict (aimed-class with pct-site's "
                   "and pct-relay's stalls aimed at the words readers store to "
                   "and the fields writers change under them), aimed-class "
                   "(aimed-rcu's members with a turn "
                   "list per program class, which calibration finds: weak "
                   "memory, many sites with readers' sites, other), aimed-rcu "
                   "(pct, random-sync, pct-site, surw, "
                   "pct-site and pct-relay in turn, the aimed ones reading the "
                   "oldest store under lkmm, pct-site and pct-relay stalling at "
                   "readers' sites from 2 of them, PCT's executions below 2 "
                   "sites), aimed-pct, aimed-stale, aimed-relay, "
                   "aimed-site, aimed-surw, aimed, mix, pct, random, dfs, pos, "
                   "surw, portfolio, rff, pct-sync, random-sync, pct-site or "
                   "pct-relay (docs/search.md)")
    p.add_argument("--seed", type=_natural, metavar="N", help="base seed")
    p.add_argument("--executions", type=_count, metavar="N",
                   help="executions budget per run")
    p.add_argument("--time", type=_natural, metavar="SECONDS",
                   help="time budget per run (0: none)")
    p.add_argument("--jobs", type=_count, metavar="N",
                   help=f"local worker processes (default 1, at most {JOBS_PER_CORE} "
                   "per core); with --scheduler, "
                   "units in flight (default: 8 per worker thread of the cluster, "
                   "two tasks of 4 units)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://HOST:PORT, or local:N for N "
                   "local worker processes (needs rcu-harness[cluster])")
    p.add_argument("--out", type=_path, metavar="DIR",
                   help=f"where run directories go (default {DEFAULT_OUT})")
    p.add_argument("--keep-going", action="store_true",
                   help="collect distinct findings instead of stopping at the first")
    p.add_argument("--coverage", action="store_true",
                   help="measure reads-from coverage (write site -> read site "
                   "pairs; slower, about 1.5x; see docs/search.md)")
    p.add_argument("--until-saturated", action="store_true",
                   help="stop when reads-from coverage saturates: the second "
                   "half of the run added at most 1%% of the pairs (implies "
                   "--coverage)")
    p.add_argument("--confirm", action="store_true",
                   help="confirm each finding on the real lib/maple_tree.c "
                   "(kernel oracle; marks it confirmed, model-only or "
                   "not-expressible)")
    p.add_argument("--strict", action="store_true",
                   help="count catalogued kernel bugs as new findings (exit 1)")
    p.add_argument("--resume", type=_path, metavar="RUN_DIR",
                   help="continue a stored run without repeating its executions")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.add_argument("--no-report", action="store_true",
                   help="do not write the run's report")
    p.set_defaults(func=cmd_stress)


def _replay_parser(sub: Any) -> None:
    p = sub.add_parser("replay", help="rerun one execution exactly",
                       description="Rerun one execution exactly, from a trace file "
                       "or from its scenario, strategy, seed and execution index.")
    p.add_argument("trace", nargs="?", type=_path, metavar="TRACE.json")
    _add_scenario_options(p)
    p.add_argument("--strategy", metavar="S",
                   help="strategy of the run (default aimed-data)")
    p.add_argument("--seed", type=_natural, metavar="N",
                   help="base seed of the run")
    p.add_argument("--execution", type=_natural, metavar="I",
                   help="execution index (default 0)")
    p.add_argument("--events", action="store_true", help="print every event")
    p.add_argument("--minimize", action="store_true",
                   help="shrink to the fewest preemptions and write a trace")
    p.add_argument("--max-runs", type=_count, default=1000, metavar="N",
                   help="executions --minimize may spend (default 1000)")
    p.add_argument("--output", type=_path, metavar="FILE",
                   help="where --minimize writes its trace (must not exist)")
    p.add_argument("--litmus", type=_path, metavar="OUT.litmus",
                   help="write the finding's weak-memory pattern as a C litmus test "
                   "for herd7 (and OUT.fixed.litmus, the pattern with the "
                   "missing ordering added); needs --memory-model lkmm")
    p.set_defaults(func=cmd_replay)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``rcu-harness``."""
    parser = _Parser(prog=PROG, description="Deterministic interleaving explorer "
                     "for the Linux maple tree under RCU.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{list,stress,replay,report,oracle}")
    lst = sub.add_parser("list", help="scenarios, mutants or strategies")
    lst.add_argument("what", choices=("scenarios", "mutants", "strategies"))
    lst.add_argument("--json", action="store_true", help="a JSON list")
    lst.set_defaults(func=cmd_list)
    _stress_parser(sub)
    _replay_parser(sub)
    rep = sub.add_parser("report", help="report on stored runs")
    rep.add_argument("run_dirs", nargs="+", type=_path, metavar="RUN_DIR")
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--html", action="store_true")
    rep.add_argument("--compare", type=_path, metavar="RUN_DIR")
    rep.set_defaults(func=cmd_report)
    sub.add_parser("oracle", help="the kernel oracle (rcu-harness oracle --help)",
                   add_help=False)
    return parser


# -- list ----------------------------------------------------------------------------

def _listing(what: str) -> list[dict[str, Any]]:
    from rcu_harness.campaign.catalog import mutants, scenarios, strategies

    return {"scenarios": scenarios, "mutants": mutants,
            "strategies": strategies}[what]()


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells))
              for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths,
                                                          strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    """``list``: a table, or a JSON list."""
    rows = _listing(args.what)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    columns = {"scenarios": ("name", "description"),
               "mutants": ("name", "scenario", "description"),
               "strategies": ("name", "options", "description")}[args.what]
    print(_table(rows, columns))
    return 0


# -- stress ----------------------------------------------------------------------------

_RESUME_CONFLICTS = ("job", "scenario", "program", "mutant", "strategy", "seed",
                     "settings", "strategy_params", "max_steps", "keep_going", "out",
                     "coverage", "until_saturated", "memory_model")


def _workload(args: argparse.Namespace) -> str | None:
    """The scenario or program the command line names (None: neither)."""
    if args.scenario is not None and args.program is not None:
        raise UsageError("give --scenario or --program, not both")
    if args.program is not None and ":" not in args.program:
        raise UsageError(f"--program takes MODULE:FUNCTION, like "
                         f"mytests.race:program (got {args.program!r})")
    name: str | None = args.program or args.scenario
    return name


def _job(args: argparse.Namespace) -> Any:
    from rcu_harness.campaign.jobs import (
        DEFAULT_JOB,
        Overrides,
        adhoc_job,
        find_job,
        load_job,
        override,
        parse_assignments,
    )

    workload = _workload(args)
    if args.job is not None:
        job = load_job(find_job(args.job))
    elif workload is not None:
        job = adhoc_job(workload)
    elif args.mutant is not None:
        # a mutant alone: run it against the scenario it was written for
        from rcu_harness.scenarios import get_mutant

        job = adhoc_job(get_mutant(args.mutant).scenarios[0])
    else:
        job = load_job(DEFAULT_JOB)
    return override(job, Overrides(
        scenario=workload, mutant=args.mutant, strategy=args.strategy,
        seed=args.seed, executions=args.executions, time=args.time,
        max_steps=args.max_steps, keep_going=args.keep_going,
        coverage=args.coverage, until_saturated=args.until_saturated,
        params=_with_model(parse_assignments(args.settings, "--set"), args),
        strategy_params=parse_assignments(args.strategy_params, "--strategy-param")))


def _distinct(plans: list[tuple[Any, Any]], job: str) -> list[tuple[Any, Any]]:
    """@plans without repeats (options can make two runs of a job the same
    run: the same resolved plan and budget), with a warning for each."""
    kept: list[tuple[Any, Any]] = []
    for index, plan in enumerate(plans):
        if plan in kept:
            print(f"{PROG}: warning: with these options run {index + 1} of job "
                  f"{job} is run {plans.index(plan) + 1} again; it runs once",
                  file=sys.stderr)
        else:
            kept.append(plan)
    return kept


def _with_model(params: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    """@params with ``--memory-model`` as the ``memory_model`` parameter."""
    if args.memory_model is not None:
        params["memory_model"] = args.memory_model
    return params


def _write_report(run_dir: Path, args: argparse.Namespace) -> None:
    if args.no_report:
        return
    try:
        from rcu_harness.report import write_report
    except ImportError as exc:
        print(f"{PROG}: warning: report not written ({exc})", file=sys.stderr)
        return
    try:
        write_report(run_dir)
    except Exception as exc:  # the run is stored; a report problem must not hide it
        print(f"{PROG}: warning: report not written ({type(exc).__name__}: {exc})",
              file=sys.stderr)


def _finish_stress(results: list[RunResult], args: argparse.Namespace,
                   job: str, planned: int = 1) -> int:
    """Print the JSON summary; the exit status.  The JSON's shape depends on
    what the command planned, never on how it ended: one run's object when
    it planned one run, the job's object (``job``, ``runs``...) when it
    planned several, even when an interrupt left some of them not started."""
    from rcu_harness.campaign.summary import combine

    if not results:
        print(f"{PROG}: interrupted before the run started", file=sys.stderr)
        return 130
    if args.json:
        if planned == 1:
            print(json.dumps(results[0].summary.to_json(), indent=1))
        else:
            print(json.dumps(combine([r.summary for r in results], job,
                                     planned=planned), indent=1))
    from rcu_harness.campaign.summary import new_findings

    return 1 if new_findings([r.summary for r in results],
                             strict=args.strict) else 0


def _confirmed(result: RunResult, args: argparse.Namespace) -> RunResult:
    """@result with its findings confirmed on the kernel (``--confirm``)."""
    if not args.confirm or not result.summary.findings:
        return result
    from dataclasses import replace

    from rcu_harness.campaign.summary import summarize
    from rcu_harness.oracle.confirm import confirm_run
    from rcu_harness.store.runstore import RunStore

    confirm_run(result.run_dir)
    store = RunStore.open(result.run_dir)
    try:
        summary = summarize(store, session=result.summary.session_executions,
                            notes=result.summary.notes)
    finally:
        store.close()
    return replace(result, summary=summary)


def _emit(result: RunResult, args: argparse.Namespace) -> None:
    from rcu_harness.campaign.summary import render

    _write_report(result.run_dir, args)
    if not args.json:
        print(render(result.summary), flush=True)


def _scheduler(args: argparse.Namespace, job: Any = None) -> str | None:
    from rcu_harness.campaign.jobs import check_scheduler

    if args.scheduler is not None:
        return check_scheduler(args.scheduler, "--scheduler")
    return None if job is None else job.scheduler


def _resume(args: argparse.Namespace) -> int:
    from rcu_harness.campaign.coordinator import Interrupt
    from rcu_harness.campaign.progress import make_progress
    from rcu_harness.campaign.session import executors, resume_run

    given = [name for name in _RESUME_CONFLICTS if getattr(args, name) not in
             (None, [], False)]
    if given:
        option = given[0].replace("_", "-").replace("settings", "set")
        raise UsageError(f"--resume continues a run with its stored parameters; "
                         f"drop {'the job file' if option == 'job' else '--' + option}")
    _check_jobs(args.jobs, _scheduler(args))
    interrupt = Interrupt()
    with executors(_scheduler(args)) as executor_for, interrupt.installed():
        result = resume_run(args.resume, jobs=args.jobs, executions=args.executions,
                            seconds=args.time,
                            progress=make_progress(sys.stderr, quiet=args.quiet),
                            interrupt=interrupt, executor_for=executor_for)
    result = _confirmed(result, args)
    _emit(result, args)
    return _finish_stress([result], args, str(args.resume))


def cmd_stress(args: argparse.Namespace) -> int:
    """``stress``: run a job (or resume a run) and summarise it."""
    from rcu_harness.campaign.coordinator import Interrupt, StopReason
    from rcu_harness.campaign.plan import Budget, resolve
    from rcu_harness.campaign.progress import make_progress
    from rcu_harness.campaign.session import check_out, executors, start_run

    if args.resume is not None:
        return _resume(args)
    job = _job(args)
    scheduler = _scheduler(args, job)
    _check_jobs(args.jobs, scheduler)
    plans = _distinct([(resolve(spec), Budget(spec.executions, spec.time))
                       for spec in job.runs], job.name)
    out = args.out or DEFAULT_OUT
    check_out(out)
    interrupt = Interrupt()
    results: list[RunResult] = []
    lost = False
    with executors(scheduler, [p for p, _ in plans]) as executor_for, \
            interrupt.installed():
        for index, (plan, budget) in enumerate(plans):
            if interrupt.count or lost:
                break
            progress = make_progress(sys.stderr, quiet=args.quiet)
            result = start_run(plan, budget, out=out, jobs=args.jobs,
                               progress=progress, interrupt=interrupt, job=job.name,
                               index=index, executor_for=executor_for)
            result = _confirmed(result, args)
            _emit(result, args)
            results.append(result)
            lost = result.outcome.stopped is StopReason.LOST
    if (interrupt.count or lost) and len(results) < len(plans):
        why = "the cluster was lost" if lost else "interrupted"
        print(f"{PROG}: {why}: {len(plans) - len(results)} run(s) of job "
              f"{job.name} not started", file=sys.stderr)
    return _finish_stress(results, args, job.name, len(plans))


# -- replay --------------------------------------------------------------------------

def _target(args: argparse.Namespace) -> Target:
    from rcu_harness.campaign.jobs import DEFAULT_STRATEGY, parse_assignments
    from rcu_harness.campaign.plan import check_strategy
    from rcu_harness.campaign.replay import from_seed, from_trace
    from rcu_harness.scenarios.catalog import configure

    if args.trace is not None:
        named = [o for o, v in (("--scenario", args.scenario),
                                ("--program", args.program),
                                ("--mutant", args.mutant),
                                ("--set", args.settings),
                                ("--strategy", args.strategy),
                                ("--strategy-param", args.strategy_params),
                                ("--seed", args.seed),
                                ("--execution", args.execution),
                                ("--memory-model", args.memory_model),
                                ("--max-steps", args.max_steps))
                 if v not in (None, [])]
        if named == ["--max-steps"]:
            raise UsageError("a trace file replays under the step bound it was "
                             "recorded with (its max_steps); drop --max-steps")
        if named:
            raise UsageError(f"a trace file names its own run; drop {named[0]}")
        return from_trace(args.trace)
    workload = _workload(args)
    if workload is None:
        raise UsageError("give a TRACE.json, or --scenario NAME or --program "
                         "MODULE:FUNCTION (with --strategy, --seed and --execution)")
    cfg = configure(workload,
                    _with_model(parse_assignments(args.settings, "--set"), args),
                    args.mutant)
    strategy = args.strategy or DEFAULT_STRATEGY
    sparams = check_strategy(strategy, parse_assignments(
        args.strategy_params, "--strategy-param"))
    return from_seed(cfg, strategy=strategy, seed=args.seed or 0,
                     execution=args.execution or 0, strategy_params=sparams,
                     max_steps=args.max_steps)


def _event_lines(r: ReplayResult) -> list[str]:
    width = max((len(n) for n in r.names.values()), default=6)
    lines = [f"Events ({len(r.events)}):"]
    for e in r.events:
        who = r.names.get(e.thread, str(e.thread))
        lines.append(f"{e.step:>7} {who:<{width}} {e.kind.name:<12} {e.addr:#x} "
                     f"{e.where or '-'} {e.value} {e.function or '-'}".rstrip())
    return lines


def _show(r: ReplayResult, target: Target, *, events: bool) -> None:
    from rcu_harness.campaign.replay import recorded_difference
    from rcu_harness.invocation import runnable

    if events:
        print("\n".join(_event_lines(r)))
        print()
    if r.finding is not None:
        print(runnable(r.finding.report))
    else:
        print(f"No violation: execution {target.execution} of "
              f"{target.cfg.scenario} ran {r.steps} steps to the end.")
    print(f"Schedule: {r.decisions} decisions, {r.preemptions} preemptions; "
          f"events digest {r.events_digest}")
    if target.trace is not None and (target.trace.events_digest
                                     or target.trace.events):
        differs = recorded_difference(target, r)
        if differs is None:
            print("The event stream matches the trace's (its digest and its "
                  f"{len(target.trace.events)} recorded events).")
        else:
            print(f"The event stream DIFFERS from the trace's: {differs}.")
            print(f"{PROG}: warning: this replay is not the execution the trace "
                  f"records (was the trace edited?): {differs}", file=sys.stderr)
    expected = target.trace.finding if target.trace is not None else None
    got = r.finding.signature if r.finding is not None else None
    if expected is not None and expected.signature != got:
        now = f"found {got}" if got else "did not fail"
        print(f"{PROG}: warning: the trace recorded {expected.kind} "
              f"{expected.signature}; this replay {now}", file=sys.stderr)


def _minimize(target: Target, r: ReplayResult, args: argparse.Namespace) -> int:
    from rcu_harness.campaign.replay import default_output, minimize, write_minimized
    from rcu_harness.invocation import runnable

    if r.finding is None:
        print("Nothing to minimize: the execution does not fail.")
        return 0
    if args.output is not None and args.output.exists():
        raise UsageError(f"--output {args.output} exists; choose another file name")
    path = args.output or default_output(target, r.finding.signature)
    print(f"\nMinimizing (at most {args.max_runs} executions)...", file=sys.stderr)
    result = minimize(target, max_runs=args.max_runs)
    again = write_minimized(target, result.schedule, path)
    print(f"\nMinimized: {result.preemptions_before} -> {result.preemptions_after} "
          f"preemptions, {result.decisions_before} -> {result.decisions_after} "
          f"decisions, in {result.runs} executions"
          f"{' (budget spent)' if result.budget_spent else ''}.")
    print(f"Wrote {path}; replaying it:\n")
    print(runnable(again.finding.report) if again.finding is not None
          else "(no finding)")
    same = again.finding is not None and again.finding.signature == result.signature
    print(f"\nSame failure: {'yes' if same else 'NO'} (signature {result.signature}); "
          f"{again.preemptions} preemptions.")
    return 1


def cmd_replay(args: argparse.Namespace) -> int:
    """``replay``: rerun one execution, print its report; maybe shrink it."""
    from rcu_harness.campaign.replay import replay

    if (args.output is not None or args.max_runs != 1000) and not args.minimize:
        raise UsageError("--output and --max-runs go with --minimize")
    target = _target(args)
    r = replay(target)
    _show(r, target, events=args.events)
    if args.litmus is not None:
        _litmus(target, r, args.litmus)
    if args.minimize:
        return _minimize(target, r, args)
    return 1 if r.finding is not None else 0


def _litmus(target: Target, r: ReplayResult, path: Path) -> None:
    """``--litmus``: write the pattern and its fix; herd7's verdicts if found."""
    from rcu_harness.litmus.export import NoPatternError, export
    from rcu_harness.litmus.herd import HerdError, find_herd, run_herd
    from rcu_harness.memory.wmm import LkmmModel

    if not isinstance(r.memory_model, LkmmModel):
        raise UsageError("--litmus needs a run under --memory-model lkmm (this one "
                         "is sequentially consistent)")
    fault = r.finding.thread if r.finding is not None else None
    tid = next((t for t, label in r.names.items() if label == fault), None)
    source = str(target.trace_path) if target.trace_path else target.command
    try:
        out = export(r.memory_model, r.names, path, fault_tid=tid, source=source)
    except NoPatternError as exc:
        raise UsageError(f"--litmus: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--litmus {path}: {exc.strerror or exc}") from None
    herd = find_herd()
    for where, mine in ((out.path, out.model_verdicts[0]),
                        (out.fixed_path, out.model_verdicts[1])):
        theirs = "herd7 not run: " + herd if isinstance(herd, str) else ""
        if not isinstance(herd, str):
            try:
                theirs = f"herd7 (LKMM): {run_herd(herd, where).verdict}"
            except HerdError as exc:
                theirs = f"herd7 failed: {exc}"
        name = (out.pattern if where == out.path else out.pattern.fixed()).name()
        print(f"Wrote {where} ({name}): rcu-harness lkmm: {mine}; {theirs}")


# -- report and oracle ----------------------------------------------------------------

def cmd_report(args: argparse.Namespace) -> int:
    """``report``: check the run directories, then hand over to rcu_harness.report."""
    from rcu_harness.store.runstore import RunStore

    for run_dir in [*args.run_dirs, *([args.compare] if args.compare else [])]:
        RunStore.open(run_dir).close()
    try:
        from rcu_harness.report import report_command
    except ImportError as exc:
        raise UsageError(f"reports are not available in this installation ({exc})"
                         ) from None
    code: int = report_command(list(args.run_dirs), as_json=args.json,
                               html=args.html, compare=args.compare)
    return code


def _oracle(argv: list[str]) -> int:
    from rcu_harness.oracle.__main__ import main as oracle_main

    return oracle_main(argv)


# -- entry point -----------------------------------------------------------------------

def _input_errors() -> tuple[type[BaseException], ...]:
    from rcu_harness.campaign.coordinator import CampaignError
    from rcu_harness.campaign.executor import ClusterError
    from rcu_harness.campaign.jobs import JobError
    from rcu_harness.campaign.plan import PlanError
    from rcu_harness.campaign.session import RunDirError
    from rcu_harness.errors import HarnessError
    from rcu_harness.oracle.build import OracleUnavailable
    from rcu_harness.scenarios.spec import ScenarioError
    from rcu_harness.sched.registry import StrategyParamError
    from rcu_harness.store.lock import RunInProgressError
    from rcu_harness.store.runstore import StoreError
    from rcu_harness.trace.tracefile import TraceError

    return (UsageError, JobError, PlanError, ScenarioError, RunDirError, StoreError,
            TraceError, HarnessError, CampaignError, ClusterError, OracleUnavailable,
            RunInProgressError, StrategyParamError, OSError)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt("SIGTERM")


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM is Ctrl-C: a campaign stops, stores and summarises
    (:class:`~rcu_harness.campaign.coordinator.Interrupt` catches both);
    anything else stops with exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["oracle"]:
        return _oracle(args_list[1:])
    errors = _input_errors()
    try:
        with _sigterm_as_ctrl_c():
            args = build_parser().parse_args(args_list)
            code: int = args.func(args)
        return code
    except BrokenPipeError:  # ``... | head``: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except errors as err:
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"{PROG}: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
