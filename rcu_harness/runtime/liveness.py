"""Liveness findings: deadlock (nothing can run) and livelock (step bound).

A deadlock is reported when no thread is runnable but some unfinished
thread is blocked; the grace-period kthread idling with nothing to do is
not blocked.  A livelock is reported when an execution exceeds its step
bound twice: once under its strategy, and once more under the fair
round-robin continuation that follows (see
:mod:`rcu_harness.runtime.execution`), so a strategy that starved a thread is
never reported as a livelock; threads spinning on each other are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.callchain import CallChain, capture
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.runtime.thread import ThreadState
from rcu_harness.trace.events import decode

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread


def _held(ex: Execution, tid: int) -> str:
    t = ex.threads[tid]
    if not t.locks_held:
        return ""
    return " holding " + ", ".join(lock.name for lock in t.locks_held)


def deadlock_violation(ex: Execution) -> Violation:
    """Every unfinished thread is blocked: say who waits for what."""
    blocked = [t for t in ex.threads if t.state is ThreadState.BLOCKED]
    lines = ["WARNING: possible deadlock detected (no runnable task)", ""]
    for t in blocked:
        lines.append(f"  task {t.label} waits for {t.wait_reason}{_held(ex, t.tid)}")
    key = tuple(sorted(f"{t.name}:{t.wait_reason}" for t in blocked))
    first = blocked[0]
    return Violation(
        FindingKind.DEADLOCK,
        "deadlock: " + "; ".join(f"{t.label} waits for {t.wait_reason}"
                                 for t in blocked),
        "\n".join(lines),
        key=key,
        thread=first.label,
        step=ex.step,
    )


def _where(ex: Execution, t: SimThread) -> str:
    """The innermost model function the thread is in (no events needed, so
    the signature is the same whether events were recorded or not)."""
    if t is ex.cur:
        return capture(1).top()
    frame = t.glet.gr_frame if t.glet is not None else None
    out: list[tuple[Any, int]] = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return CallChain(tuple(out)).top()


def livelock_violation(ex: Execution) -> Violation:
    """The step bound was exceeded: show what each thread was doing."""
    live = [t for t in ex.threads if t.state is not ThreadState.FINISHED
            and t.state is not ThreadState.IDLE]
    lines = [f"WARNING: livelock: more than {ex.step_bound} scheduling steps, and"
             f" {ex.step_bound} more under a fair round-robin",
             "", "last operation of each unfinished task:"]
    funcs = []
    for t in live:
        last = next((decode(e) for e in reversed(ex.events) if e[1] == t.tid),
                    None)
        what = last.short() if last else "(nothing recorded)"
        where = _where(ex, t)
        funcs.append(f"{t.name}:{where}")
        lines.append(f"  task {t.label} [{t.state.value}] in {where}: {what}")
    return Violation(
        FindingKind.LIVELOCK,
        f"livelock: step bound {ex.step_bound} exceeded by "
        + ", ".join(t.label for t in live),
        "\n".join(lines),
        key=tuple(funcs),
        thread=ex.cur.label,
        step=ex.step,
    )
