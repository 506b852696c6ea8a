"""Shared helpers for the stress/ benchmarks: the machine line, the report
file, and worker pools that stop cleanly.

Every benchmark writes its own ``## ...`` section of reports/BENCHMARKS.md,
replacing an older version of that section and keeping the others.

Long runs (clean runs, scoreboards, soaks) save each finished unit of work
at once and resume from what they saved.  :func:`interruptible` runs such a
script's ``main`` so that Ctrl-C, ``kill -INT`` or ``kill -TERM`` stops it
with one line on stderr that says what is kept, and exit status 128 + the
signal number; :func:`pool_results` runs the units in forked workers that
ignore SIGINT (the parent decides) and die quietly when the pool is torn
down, so that no worker prints a traceback.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

T = TypeVar("T")
R = TypeVar("R")

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "reports" / "BENCHMARKS.md"


def machine() -> list[str]:
    """Markdown bullet lines describing this machine."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    uname = subprocess.run(["uname", "-srm"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return [f"- machine: `{uname}`", f"- CPU: {cpu}, {os.cpu_count()} cores",
            f"- Python {platform.python_version()}"]


def write_section(heading: str, text: str, path: Path = BENCHMARKS) -> None:
    """Replace the section that starts with @heading where it stands (up to
    the next ``## `` heading), or append it."""
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    new = text.rstrip("\n") + "\n\n"
    out, skipping, placed = [], False, False
    for line in old.splitlines(keepends=True):
        if line.startswith("## "):
            skipping = line.strip() == heading
            if skipping and not placed:
                out.append(new)
                placed = True
        if not skipping:
            out.append(line)
    body = "".join(out)
    if not placed:
        body = body.rstrip("\n") + "\n\n" + new
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body.rstrip("\n") + "\n")
    os.replace(tmp, path)  # an interrupted write leaves the old file whole


class Interrupted(Exception):
    """SIGINT or SIGTERM reached a long run's parent process."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Signals:
    """Where the parent stands: while it saves a result (``holding``), a
    signal is only noted, and raised once the save is complete."""

    holding = False
    pending = 0


def _on_signal(signum: int, _frame: object) -> None:
    if _Signals.holding:
        _Signals.pending = signum
        return
    raise Interrupted(signum)


@contextmanager
def _held() -> Iterator[None]:
    """Defer SIGINT/SIGTERM until the block is done (a half-written result
    file would not resume)."""
    _Signals.holding = True
    try:
        yield
    finally:
        _Signals.holding = False
        signum, _Signals.pending = _Signals.pending, 0
        if signum:
            raise Interrupted(signum)


def _worker_signals() -> None:
    """In a pool worker: leave SIGINT to the parent, die at once on SIGTERM
    (the pool's terminate), without the parent's Python handlers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pool_results(fn: Callable[[T], R], tasks: Iterable[T], jobs: int,
                 per_child: int = 20) -> Iterator[R]:
    """@fn over @tasks in @jobs forked worker processes (each replaced after
    @per_child tasks), each result as soon as it is finished (completion
    order: the caller saves results by key, not by position).  The caller's
    code between two results runs with SIGINT/SIGTERM deferred, so the
    result it saves is saved whole."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, maxtasksperchild=per_child,
                  initializer=_worker_signals) as pool:
        for result in pool.imap_unordered(fn, tasks):
            with _held():
                yield result


def interruptible(main: Callable[[], Any], kept: str) -> int:
    """Run @main (a script's main function; its return value is the exit
    status, None meaning 0) so that SIGINT and SIGTERM stop it with one
    line on stderr, naming what is @kept, and status 128 + signal."""
    previous = {s: signal.signal(s, _on_signal)
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = main()
    except Interrupted as stop:
        _Signals.holding = True  # a second signal (timeout's to the group) waits
        name = Path(sys.argv[0]).name
        print(f"{name}: interrupted by {stop}; {kept}", file=sys.stderr, flush=True)
        return 128 + stop.signum
    finally:
        _Signals.holding, _Signals.pending = False, 0
        for s, handler in previous.items():
            signal.signal(s, handler)
    return int(status or 0)


def before_after_parser(reps: int, what: str) -> argparse.ArgumentParser:
    """The options of a benchmark that compares two source trees side by
    side: ``--before`` (a git revision or a directory; default the last
    commit before the model's speed work), ``--after`` (this checkout),
    ``--reps``, ``--scale`` (of @what), ``--strategy`` (default mix, which
    every tree since the speed work began has), ``--note`` and
    ``--write``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="572b98a",
                        help="git revision or directory (default: the last "
                             "commit before the model's speed work)")
    parser.add_argument("--after", default=str(ROOT))
    parser.add_argument("--reps", type=int, default=reps)
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"multiply {what}")
    parser.add_argument("--strategy", default="mix",
                        help="strategy of every run (default mix: one every "
                             "tree since the speed work began has)")
    parser.add_argument("--note", default="")
    parser.add_argument("--write", default="")
    return parser


def export(rev: str, into: Path) -> Path:
    """The source tree of git revision @rev (or @rev itself, a directory),
    exported under @into; a one-line SystemExit when @rev is neither."""
    if Path(rev).is_dir():
        return Path(rev).resolve()
    tar = into / "src.tar"
    done = subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), rev],
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{rev!r} is neither a directory nor a git revision "
                         f"of {ROOT}")
    dest = into / rev.replace("/", "_")
    dest.mkdir()
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    return dest


MARK = "getppid"
"""The C function whose entry makes callgrind dump its counters: a probe
calls :func:`mark` between the parts it measures (nothing else in a
benchmark probe calls getppid())."""


def mark() -> None:
    """End a measured part of a probe run under :func:`callgrind`."""
    os.getppid()


def valgrind_missing() -> str | None:
    """Why callgrind cannot count here (None: it can)."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install valgrind)"
    return None


def callgrind(argv: list[str], python: str = sys.executable,
              ) -> tuple[list[int], str]:
    """Run ``@python @argv`` (this interpreter by default) under ``valgrind
    --tool=callgrind`` (``PYTHONHASHSEED=0``): the instructions of each
    part, in order (the parts are separated by the probe's :func:`mark`
    calls; the last one ends at exit), and the probe's stdout.  Instruction
    counts do not depend on other load on the machine: the same run counts
    the same."""
    parts, stdout = _callgrind_parts(argv, python, ())
    return [part["Ir"] for part in parts], stdout


SIMULATE = ("--cache-sim=yes", "--branch-sim=yes")
"""callgrind's options that simulate the caches (the host's L1 and last
level, as valgrind reads them) and the branch predictors."""


def callgrind_events(argv: list[str], python: str = sys.executable,
                     ) -> tuple[list[dict[str, int]], str]:
    """As :func:`callgrind`, with the caches and branch predictors simulated
    (:data:`SIMULATE`): each part's totals by event name (``Ir``, ``I1mr``,
    ``D1mr``, ``D1mw``, ``ILmr``, ``DLmr``, ``DLmw``, ``Bc``, ``Bcm``,
    ``Bi``, ``Bim``, ...), and the probe's stdout.  About twice as slow as
    counting instructions alone."""
    return _callgrind_parts(argv, python, SIMULATE)


def estimated_cycles(events: dict[str, int]) -> int:
    """KCachegrind's cycle estimate of one part's events: ``CEst = Ir + 10
    Bm + 10 L1m + 100 LLm`` (Bm the mispredicted branches, conditional and
    indirect; L1m the first-level misses, instruction and data; LLm the
    last-level misses).  A model, not a measurement: a real core overlaps
    misses with work and predicts an interpreter's indirect jumps better
    than valgrind's simple predictor; it says which of two runs of equal
    instructions stalls more, and by about how much."""
    mispredicted = events["Bcm"] + events["Bim"]
    first_level = events["I1mr"] + events["D1mr"] + events["D1mw"]
    last_level = events["ILmr"] + events["DLmr"] + events["DLmw"]
    return (events["Ir"] + 10 * mispredicted + 10 * first_level
            + 100 * last_level)


def parse_totals(text: str) -> dict[str, int]:
    """One callgrind output file's ``totals:`` line by its ``events:``
    names; a one-line SystemExit when either is missing."""
    names = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^totals: (.+)$", text, re.M)
    if names is None or totals is None:
        raise SystemExit("a callgrind output without its events or totals line")
    return dict(zip(names.group(1).split(), map(int, totals.group(1).split()),
                    strict=True))


def _callgrind_parts(argv: list[str], python: str, options: tuple[str, ...],
                     ) -> tuple[list[dict[str, int]], str]:
    missing = valgrind_missing()
    if missing:
        raise SystemExit(missing)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", *options, f"--dump-before={MARK}",
               f"--callgrind-out-file={out}", python, *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
        if proc.returncode != 0:
            raise SystemExit(f"callgrind run failed: {' '.join(argv)}\n"
                             f"{proc.stderr[-3000:]}")
        files = sorted(Path(tmp).glob("cg.out.*"),
                       key=lambda p: int(p.suffix[1:]))
        parts = [parse_totals(path.read_text()) for path in [*files, out]]
    return parts, proc.stdout
