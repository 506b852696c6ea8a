"""Job files: a named list of runs in TOML, and the command line's overrides.

A job file (``stress/*.toml``, read with :mod:`tomllib`)::

    name = "dup_mmap"
    description = "dup_mmap() against lockless readers, both designs"
    keep_going = false            # optional: collect every distinct finding
    scheduler = "tcp://lab1:8786" # optional: run on a Dask cluster (or "local:4")

    [[run]]
    scenario = "dup_mmap"         # required
    strategy = "aimed-data"       # aimed-data | aimed-conflict | aimed-class |
                                  # aimed-rcu |
                                  # aimed-pct | aimed-stale | aimed-relay |
                                  # aimed-site | aimed-surw | aimed | mix |
                                  # pct | random | dfs | pos | surw |
                                  # portfolio | rff | pct-sync | random-sync |
                                  # pct-site | pct-relay
                                  # (default aimed-data)
    seed = 0                      # base seed (default 0)
    executions = 5000             # budget (default 10000)
    time = 30                     # budget in seconds, 0 = none (default 60)
    mutant = "entry-count-short"  # optional
    memory_model = "lkmm"         # optional: sc (default) or lkmm
    max_steps = 200000            # optional step bound per execution (default:
                                  # derived from the scenario's size)
    keep_going = true             # optional, overrides the job's
    coverage = true               # optional: measure reads-from coverage
    until_saturated = true        # optional: stop when it saturates
    params = { design = "modern", vmas = 8 }
    strategy_params = { depth = 3 }

``memory_model`` may also be given once for the whole job (a run's own
wins); it is stored as the ``memory_model`` parameter of each run, absent
for sc.  Both budgets apply; the first one reached ends the run.  Command-line
options (:class:`Overrides`) replace the job's values in every run;
``--set`` and ``--strategy-param`` are merged into each run's tables;
``--scenario`` selects the job's runs of that scenario.  Runs the options
made identical (the same resolved plan and budget) run once; the command
line warns.
Values are checked here for type and range; scenario, mutant, strategy and
parameter names are checked when the run is planned
(:mod:`rcu_harness.campaign.plan`).  Every error is one line naming the
file and the fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rcu_harness.memory.wmm import MEMORY_MODELS

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_STRATEGY = "aimed-data"
DEFAULT_EXECUTIONS = 10_000
DEFAULT_TIME = 60
JOBS_DIR = Path(__file__).resolve().parents[2] / "stress"
"""Where the job files of a source checkout (editable install) live."""
DEFAULT_JOB = JOBS_DIR / "default.toml"

_RUN_KEYS = ("scenario", "strategy", "seed", "executions", "time", "mutant",
             "max_steps", "keep_going", "params", "strategy_params", "coverage",
             "until_saturated", "memory_model")
_JOB_KEYS = ("name", "description", "keep_going", "scheduler", "run",
             "memory_model")


class JobError(ValueError):
    """A job file or an override is malformed; the message is one line."""


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a job, as written (names not yet checked)."""

    scenario: str
    strategy: str = DEFAULT_STRATEGY
    seed: int = 0
    executions: int = DEFAULT_EXECUTIONS
    time: int = DEFAULT_TIME
    """Seconds; 0 means no time budget."""
    mutant: str | None = None
    max_steps: int | None = None
    """None: derived from the scenario's size when the run is planned."""
    keep_going: bool = False
    params: Mapping[str, Any] = field(default_factory=_empty)
    strategy_params: Mapping[str, Any] = field(default_factory=_empty)
    coverage: bool = False
    """Measure reads-from coverage (docs/search.md)."""
    until_saturated: bool = False
    """Stop when reads-from coverage saturates (implies coverage)."""


@dataclass(frozen=True, slots=True)
class Job:
    """A named list of runs."""

    name: str
    description: str
    runs: tuple[RunSpec, ...]
    scheduler: str | None = None
    """Where units run: a Dask scheduler address or ``local:N`` (None: here)."""


@dataclass(frozen=True, slots=True)
class Overrides:
    """Command-line values that replace a job's in every run (None: keep)."""

    scenario: str | None = None
    mutant: str | None = None
    strategy: str | None = None
    seed: int | None = None
    executions: int | None = None
    time: int | None = None
    max_steps: int | None = None
    keep_going: bool = False
    params: Mapping[str, str] = field(default_factory=_empty)
    strategy_params: Mapping[str, str] = field(default_factory=_empty)
    coverage: bool = False
    until_saturated: bool = False


def _flag(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise JobError(f"{where}.{key} must be true or false")
    return value


def check_int(value: object, what: str, minimum: int) -> int:
    """@value as an integer >= @minimum, or a JobError naming @what."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise JobError(f"{what} must be an integer >= {minimum} (got {value!r})")
    if value < minimum:
        raise JobError(f"{what} must be an integer >= {minimum} (got {value})")
    return value


def _table(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise JobError(f"{what} must be a table, like {{ key = value }}")
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            raise JobError(f"{what}.{key} must be a number, string or boolean")
    return MappingProxyType(dict(value))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise JobError(f"{what} must be a non-empty string (got {value!r})")
    return value


_SCHEMES = ("tcp", "tls", "ws", "wss")


def check_scheduler(value: object, what: str) -> str:
    """@value as a scheduler: ``local:N`` or ``[SCHEME://]HOST:PORT`` (tcp
    if no scheme); a JobError naming @what otherwise."""
    usage = f"{what} takes tcp://HOST:PORT or local:N (got {value!r})"
    if not isinstance(value, str):
        raise JobError(usage)
    if value.startswith("local:"):
        count = value[len("local:"):]
        if not count.isdigit() or int(count) < 1:
            raise JobError(usage)
        return f"local:{int(count)}"
    scheme, sep, rest = value.rpartition("://")
    if not sep:
        scheme = "tcp"
    host, colon, port = rest.rpartition(":")
    if (scheme not in _SCHEMES or not colon or not host.strip("[]")
            or any(c.isspace() or c in "/@" for c in host) or not port.isdigit()
            or not 0 < int(port) < 65536):
        raise JobError(usage)
    return f"{scheme}://{host}:{int(port)}"


def _memory_model(value: object, what: str) -> str:
    if value not in MEMORY_MODELS:
        raise JobError(f"{what} must be {' or '.join(MEMORY_MODELS)} (got {value!r})")
    return str(value)


def _run(data: object, where: str, keep_going: bool,
         memory_model: str | None = None) -> RunSpec:
    if not isinstance(data, dict):
        raise JobError(f"{where} must be a table ([[run]])")
    unknown = sorted(set(data) - set(_RUN_KEYS))
    if unknown:
        raise JobError(f"{where}: unknown key {unknown[0]!r} (known: "
                       f"{', '.join(_RUN_KEYS)})")
    if "scenario" not in data:
        raise JobError(f"{where}: missing 'scenario'")
    mutant = data.get("mutant")
    flag = data.get("keep_going", keep_going)
    if not isinstance(flag, bool):
        raise JobError(f"{where}.keep_going must be true or false")
    params = dict(_table(data.get("params", {}), f"{where}.params"))
    model = data.get("memory_model", memory_model)
    if model is not None:
        params["memory_model"] = _memory_model(model, f"{where}.memory_model")
    return RunSpec(
        scenario=_text(data["scenario"], f"{where}.scenario"),
        strategy=_text(data.get("strategy", DEFAULT_STRATEGY), f"{where}.strategy"),
        seed=check_int(data.get("seed", 0), f"{where}.seed", 0),
        executions=check_int(data.get("executions", DEFAULT_EXECUTIONS),
                             f"{where}.executions", 1),
        time=check_int(data.get("time", DEFAULT_TIME), f"{where}.time", 0),
        mutant=None if mutant is None else _text(mutant, f"{where}.mutant"),
        max_steps=(None if data.get("max_steps") is None else
                   check_int(data["max_steps"], f"{where}.max_steps", 1)),
        keep_going=flag,
        params=MappingProxyType(params),
        strategy_params=_table(data.get("strategy_params", {}),
                               f"{where}.strategy_params"),
        coverage=_flag(data, "coverage", where),
        until_saturated=_flag(data, "until_saturated", where))


def parse_job(data: Mapping[str, Any], source: str) -> Job:
    """A :class:`Job` from decoded TOML @data (@source names it in errors)."""
    unknown = sorted(set(data) - set(_JOB_KEYS))
    if unknown:
        raise JobError(f"{source}: unknown key {unknown[0]!r} (known: "
                       f"{', '.join(_JOB_KEYS)})")
    runs = data.get("run")
    if not isinstance(runs, list) or not runs:
        raise JobError(f"{source}: no runs; add at least one [[run]] table with a "
                       "scenario")
    keep_going = data.get("keep_going", False)
    if not isinstance(keep_going, bool):
        raise JobError(f"{source}: keep_going must be true or false")
    name = data.get("name", Path(source).stem)
    scheduler = data.get("scheduler")
    model = data.get("memory_model")
    if model is not None:
        model = _memory_model(model, f"{source}: memory_model")
    return Job(_text(name, f"{source}: name"),
               str(data.get("description", "")),
               tuple(_run(r, f"{source}: run {i + 1}", keep_going, model)
                     for i, r in enumerate(runs)),
               None if scheduler is None
               else check_scheduler(scheduler, f"{source}: scheduler"))


def find_job(name: str) -> Path:
    """The job file @name: a path, or a bare name of a file in ``stress/``."""
    path = Path(name)
    if path.exists() or path.suffix or "/" in name:
        return path
    return JOBS_DIR / f"{name}.toml"


def load_job(path: Path) -> Job:
    """Read and check the job file at @path."""
    if not path.is_file():
        raise JobError(f"job file {path} not found; give the path of a .toml job "
                       f"file (examples in {JOBS_DIR})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise JobError(f"job file {path} is not valid TOML ({exc}); fix the "
                       "syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobError(f"job file {path} cannot be read ({exc})") from None
    return parse_job(data, str(path))


def adhoc_job(scenario: str) -> Job:
    """The one-run job of ``stress --scenario NAME`` without a job file."""
    return Job(scenario, f"ad-hoc run of {scenario}", (RunSpec(scenario),))


def _pick(new: Any, old: Any) -> Any:
    return old if new is None else new


def override(job: Job, o: Overrides) -> Job:
    """@job with the command-line values @o applied to every run.

    ``--scenario`` selects the job's runs of that scenario instead of
    replacing every run's (which would turn different runs into the same
    one); JobError if the job has none.
    """
    selected = job.runs
    if o.scenario is not None:
        selected = tuple(r for r in job.runs if r.scenario == o.scenario)
        if not selected:
            names = ", ".join(sorted({r.scenario for r in job.runs}))
            raise JobError(f"job {job.name} has no run of scenario {o.scenario} "
                           f"(its scenarios: {names}); drop --scenario or the "
                           "job file")
    runs = []
    for r in selected:
        runs.append(replace(
            r, mutant=_pick(o.mutant, r.mutant),
            strategy=_pick(o.strategy, r.strategy), seed=_pick(o.seed, r.seed),
            executions=_pick(o.executions, r.executions), time=_pick(o.time, r.time),
            max_steps=_pick(o.max_steps, r.max_steps),
            keep_going=r.keep_going or o.keep_going,
            params=MappingProxyType({**r.params, **o.params}),
            strategy_params=MappingProxyType({**r.strategy_params,
                                              **o.strategy_params}),
            coverage=r.coverage or o.coverage,
            until_saturated=r.until_saturated or o.until_saturated))
    return replace(job, runs=tuple(runs))


def parse_assignments(items: list[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict, or a JobError naming @option."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise JobError(f"{option} takes KEY=VALUE (got {item!r})")
        out[key.strip()] = value.strip()
    return out
