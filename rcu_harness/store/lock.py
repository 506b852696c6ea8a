"""One owner per run directory: an exclusive ``flock`` on ``<run>/owner.lock``.

A session that writes a run (``stress`` creating it, ``stress --resume``
continuing it) holds an exclusive, non-blocking :func:`fcntl.flock` on the
run's lock file for as long as it runs, and writes its pid into the file.
The kernel drops the lock when the owner's last descriptor closes, however
the owner ends (exit, exception, ``kill -9``), so a dead owner never blocks
a later ``--resume``; a live one makes a second owner fail at once with
:class:`RunInProgressError` naming its pid.  Readers (``report``) take no
lock: a run can be reported on while it runs.

The descriptor is close-on-exec and never reaches worker processes (they
are started by a fork server or ``spawn``), so only the coordinator owns
the run.
"""

from __future__ import annotations

import fcntl
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

LOCK_NAME = "owner.lock"


class RunInProgressError(ValueError):
    """Another live process owns the run directory."""


class RunLock:
    """The exclusive ownership of one run directory (release with :meth:`release`)."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_dir: Path) -> RunLock:
        """Own @run_dir, or RunInProgressError if a live process does."""
        path = run_dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(fd)
            os.close(fd)
            raise RunInProgressError(
                f"{run_dir}: run in progress (pid {owner}); wait for it to end "
                "or stop it, then resume") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the lock holds without the pid (disk full): messages say unknown
        return cls(run_dir, fd)

    def release(self) -> None:
        """Give the run directory up (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _owner(fd: int) -> str:
    """The pid the owner wrote, or ``unknown`` (it has not written it yet)."""
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"
