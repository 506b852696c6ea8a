"""Progress of a running campaign: a live bar on a terminal, lines otherwise.

The coordinator hands a :class:`Snapshot` to a :class:`Progress` a few
times a second.  :class:`BarProgress` draws a ``rich`` progress bar
(executions, executions/s, findings so far, time left); :class:`LineProgress`
writes one plain line every ``every`` seconds, for logs and CI;
:class:`NoProgress` is silent.  All write to the stream they are given
(stderr from the CLI), never to stdout, which ``--json`` keeps for its one
object.  Wall-clock time here only paces the output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from typing import Any, TextIO

    from rich.progress import TaskID

    from rcu_harness.campaign.plan import Budget


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where a run stands."""

    label: str
    executions: int
    """Executions of the run done (earlier sessions included)."""
    session: int
    """Executions done by this session."""
    findings: int
    """Distinct findings so far."""
    elapsed: float
    """Seconds this session has run."""
    budget: Budget
    seconds_left: float | None
    """Of the time budget (None: no time budget)."""
    units: int = 0
    """Work units (blocks of executions) this session absorbed."""

    @property
    def rate(self) -> float:
        """Executions per second in this session."""
        return self.session / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def left(self) -> float | None:
        """Estimated seconds until a budget ends the run."""
        todo = max(self.budget.executions - self.executions, 0)
        by_count = todo / self.rate if self.rate > 0 else None
        options = [x for x in (by_count, self.seconds_left) if x is not None]
        return max(min(options), 0.0) if options else None

    @property
    def overtime(self) -> bool:
        """The time budget is spent: the run only waits for units running."""
        return self.seconds_left is not None and self.seconds_left <= 0

    @property
    def fraction(self) -> float:
        """How much of the nearer budget is used, 0..1."""
        by_count = self.executions / max(self.budget.executions, 1)
        left = self.left
        if self.overtime:
            return 1.0
        by_time = self.elapsed / (self.elapsed + left) if left else 0.0
        return min(max(by_count, by_time), 1.0)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds + 0.5)
    return f"{s // 60}:{s % 60:02d}"


def _remaining(snap: Snapshot) -> str:
    """Time left, or that the time is up and running units are finishing."""
    if snap.overtime:
        return "time up, finishing running units"
    return f"{_clock(snap.left)} left"


def describe(snap: Snapshot) -> str:
    """One line: executions, units, rate, findings, time left."""
    return (f"{snap.label}: {snap.executions} executions ({snap.units} "
            f"unit{'s' if snap.units != 1 else ''}, {snap.rate:.1f}/s), "
            f"{snap.findings} finding{'s' if snap.findings != 1 else ''}, "
            f"{_remaining(snap)}")


class Progress(Protocol):
    """Receives snapshots of a run."""

    def update(self, snap: Snapshot) -> None:
        """The run moved on."""
        ...

    def note(self, text: str) -> None:
        """A message for the user (a dfs run using one worker, say)."""
        ...

    def close(self) -> None:
        """The run is over."""
        ...


class NoProgress:
    """Shows nothing."""

    def update(self, snap: Snapshot) -> None:
        """Ignore."""

    def note(self, text: str) -> None:
        """Ignore."""

    def close(self) -> None:
        """Nothing to close."""


class LineProgress:
    """A plain line every @every seconds (and notes as they come)."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream, self.every = stream, every
        self._last = time.monotonic()

    def update(self, snap: Snapshot) -> None:
        """Write a line if @every seconds passed since the last one."""
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.stream.write(describe(snap) + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """Write @text."""
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to close."""


class BarProgress:
    """A live ``rich`` progress bar."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.fields[done]} exec  {task.fields[units]} units  "
                       "{task.fields[rate]}/s  "
                       "{task.fields[found]} findings  {task.fields[left]}"),
            console=Console(file=stream), transient=False)
        self._task: TaskID | None = None
        self._bar.start()

    def update(self, snap: Snapshot) -> None:
        """Move the bar."""
        fields: dict[str, Any] = {"done": snap.executions, "units": snap.units,
                                  "rate": f"{snap.rate:.1f}",
                  "found": snap.findings, "left": _remaining(snap)}
        if self._task is None:
            self._task = self._bar.add_task(snap.label, total=1000, **fields)
        self._bar.update(self._task, completed=int(snap.fraction * 1000), **fields)

    def note(self, text: str) -> None:
        """Print @text above the bar."""
        self._bar.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        """Stop drawing."""
        self._bar.stop()


def make_progress(stream: TextIO, *, quiet: bool = False) -> Progress:
    """A bar if @stream is a terminal, else plain lines (nothing if @quiet)."""
    if quiet:
        return NoProgress()
    if stream.isatty():
        return BarProgress(stream)
    return LineProgress(stream)
