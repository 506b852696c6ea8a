"""Simulated call chains: the model and scenario frames of a simulated thread.

KASAN prints a stack trace for the faulting access and for the allocation,
free and ``call_rcu`` of the object.  The harness does the same with Python
frames: :func:`capture` walks the current greenlet's frames and keeps
``(code, lineno)`` pairs (cheap: no strings are built); :meth:`CallChain.lines`
formats them lazily and keeps only *model and scenario* frames, i.e. drops
the harness's own runtime and the Python installation (stdlib, greenlet,
pytest).  Scenario modules inside ``rcu_harness/scenarios`` are kept (not
the catalog's plumbing that calls them).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import CodeType, FrameType, TracebackType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_KEEP_UNDER_PKG = (os.path.join(_PKG_DIR, "scenarios") + os.sep,)
_PLUMBING = frozenset(os.path.join(_PKG_DIR, "scenarios", name) for name in (
    "__init__.py", "catalog.py", "programs.py", "run.py", "spec.py"))
"""Modules of the scenarios package that run workloads rather than being
one: their frames (``setup``, ``build``) are not part of a call chain."""
_SYSTEM_DIRS = tuple(
    sorted(
        {
            os.path.abspath(p) + os.sep
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if (p := sysconfig.get_paths().get(key))
        }
    )
)
_ROOT = os.path.dirname(_PKG_DIR) + os.sep
_ENGINE = (os.path.join(_PKG_DIR, "runtime", "execution.py"),
           os.path.join(_PKG_DIR, "runner", "run.py"))
"""The engine that runs a program: frames outward of it are the harness's
callers (a test, the CLI, explore_scenario), never part of a call chain."""
_keep_cache: dict[str, bool] = {}


def is_model_file(filename: str) -> bool:
    """Is @filename model or scenario code (not harness runtime, not Python)?"""
    keep = _keep_cache.get(filename)
    if keep is None:
        path = os.path.abspath(filename)
        if path.startswith(_KEEP_UNDER_PKG):
            keep = path not in _PLUMBING
        elif path.startswith(_PKG_DIR + os.sep) or path.startswith(_SYSTEM_DIRS):
            keep = False
        else:
            keep = not filename.startswith("<")
        _keep_cache[filename] = keep
    return keep


def _relpath(filename: str) -> str:
    path = os.path.abspath(filename)
    if path.startswith(_ROOT):
        return path[len(_ROOT):]
    return os.path.basename(path)


@dataclass(frozen=True, slots=True)
class CallChain:
    """A captured call chain, innermost frame first."""

    frames: tuple[tuple[CodeType, int], ...]

    def model_frames(self) -> list[tuple[CodeType, int]]:
        """The frames that belong to model or scenario code, up to the engine."""
        out: list[tuple[CodeType, int]] = []
        for f in self.frames:
            filename = f[0].co_filename
            if os.path.abspath(filename) in _ENGINE:
                if out:
                    break
                continue
            if is_model_file(filename):
                out.append(f)
        return out

    def top(self) -> str:
        """Name of the innermost model function, or ``?``."""
        frames = self.model_frames()
        return frames[0][0].co_name if frames else "?"

    def names(self, depth: int = 3) -> tuple[str, ...]:
        """The innermost @depth model function names (for signatures)."""
        return tuple(code.co_name for code, _ in self.model_frames()[:depth])

    def harness_frames(self, depth: int = 2) -> list[tuple[CodeType, int]]:
        """The innermost @depth frames of the harness's own kernel code (an
        RCU callback such as ``kfree_rcu_cb``), up to the engine."""
        out: list[tuple[CodeType, int]] = []
        for f in self.frames:
            path = os.path.abspath(f[0].co_filename)
            if path in _ENGINE or len(out) == depth:
                break
            if path.startswith(_PKG_DIR + os.sep):
                out.append(f)
        return out

    def lines(self) -> list[str]:
        """One `` function (file:line)`` line per model frame; without any
        (a free by an RCU callback of the harness), the harness frames."""
        return [
            f" {code.co_name} ({_relpath(code.co_filename)}:{lineno})"
            for code, lineno in self.model_frames() or self.harness_frames()
        ] or [" <no model frames>"]


EMPTY = CallChain(())


def capture(skip: int = 1) -> CallChain:
    """The call chain of the caller, skipping @skip harness frames."""
    try:
        frame: FrameType | None = sys._getframe(skip + 1)
    except ValueError:
        return EMPTY
    out: list[tuple[CodeType, int]] = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return CallChain(tuple(out))


def capture_top(skip: int = 1) -> CallChain:
    """The innermost model frame of the caller's call chain, alone.

    Enough for :meth:`CallChain.top` (which names the same function as on
    the full chain), at the cost of a few dict look-ups instead of a walk
    of the whole stack: what an execution that records no events keeps
    for its allocation, death, ``call_rcu`` and free sites, whose function
    names go into finding signatures.  Reports are made from a re-run with
    events recorded (:func:`rcu_harness.runner.findings.diagnose`), which
    captures the full chains.
    """
    try:
        frame: FrameType | None = sys._getframe(skip + 1)
    except ValueError:
        return EMPTY
    keep = _keep_cache
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        model = keep.get(filename)
        if model is None:
            model = is_model_file(filename)
        if model:
            key = (id(code), frame.f_lasti)  # f_lineno decodes the line table
            hit = _tops.get(key)
            if hit is None or hit.frames[0][0] is not code:
                hit = _tops[key] = CallChain(((code, frame.f_lineno),))
            return hit
        frame = frame.f_back
    return EMPTY


_tops: dict[tuple[int, int], CallChain] = {}
"""One-frame chains by (code object id, instruction offset): a chain is
immutable, so every site at the same instruction shares one (its line is
the instruction's; the code object is checked, since an id may be reused
once a code object is gone)."""


def from_traceback(tb: TracebackType | None) -> CallChain:
    """The call chain of an exception's traceback, innermost frame first."""
    out: list[tuple[CodeType, int]] = []
    while tb is not None:
        out.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    out.reverse()
    return CallChain(tuple(out))
