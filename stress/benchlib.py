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

import multiprocessing
import os
import platform
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

T = TypeVar("T")
R = TypeVar("R")

BENCHMARKS = Path(__file__).resolve().parents[1] / "reports" / "BENCHMARKS.md"


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
        name = Path(sys.argv[0]).name
        print(f"{name}: interrupted by {stop}; {kept}", file=sys.stderr, flush=True)
        return 128 + stop.signum
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return int(status or 0)
