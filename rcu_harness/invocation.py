"""Printed commands name the harness the way it is running now.

Stored commands (a finding's replay line in its trace file and run store,
its report) use the canonical spelling :data:`CANONICAL`, so that what is
stored does not depend on where the harness is installed.  Whatever prints
a command for someone to run converts it with :func:`runnable`: the
canonical prefix becomes :func:`prefix`, the interpreter or console script
actually running, so that the command works in a shell whose virtualenv is
not activated.  A short spelling (``rcu-harness``, ``python -m
rcu_harness``) is kept only when the shell's ``PATH`` finds that very file;
otherwise the absolute path is printed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

CANONICAL = "python -m rcu_harness"
SCRIPT = "rcu-harness"


def _same(name: str, path: str) -> bool:
    """Does ``PATH`` find @name at @path?  (Symlinks are not resolved: a
    virtualenv's ``python`` links to the system's, which lacks the venv.)"""
    found = shutil.which(name)
    return found is not None and os.path.abspath(found) == os.path.abspath(path)


def python() -> str:
    """The interpreter running now, as a shell would name it."""
    exe = sys.executable or "python3"
    for name in ("python", "python3"):
        if _same(name, exe):
            return name
    return shlex.quote(exe)


def prefix() -> str:
    """The command that runs this harness as it runs now: the console
    script if that is what runs, else ``<interpreter> -m rcu_harness``."""
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) == SCRIPT and os.path.isfile(script):
        return SCRIPT if _same(SCRIPT, script) else shlex.quote(
            os.path.abspath(script))
    return f"{python()} -m rcu_harness"


def runnable(text: str) -> str:
    """@text with every canonical command prefix replaced by :func:`prefix`."""
    if CANONICAL not in text:
        return text
    return text.replace(CANONICAL + " ", prefix() + " ")


def command(*args: str) -> str:
    """A runnable command line: :func:`prefix` followed by @args."""
    return " ".join([prefix(), *args])
