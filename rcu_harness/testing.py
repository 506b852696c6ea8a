"""pytest helper: explore a test's program, fail with the report and replay line.

::

    from rcu_harness.testing import check

    @check(executions=200, strategy="pct", seed=1)
    def test_reader_never_sees_freed_node(h):
        ...build the world and h.spawn() threads...

The decorated test explores the program (the test body is ``setup(h)``) and
fails with the first finding's report and the exact command that replays it:
``RCU_HARNESS_REPLAY='<test id>=<schedule>' python -m pytest '<test id>'``.
The variable is keyed to the test, like Hypothesis' ``@reproduce_failure``:
the test it names replays just that schedule (and fails again if it still
finds the bug); every other ``@check`` test of the same pytest run explores
as usual.  Several ``TEST_ID=SCHEDULE`` entries may be given, one per line
(a schedule has no ``=``, so a test id may contain one, or spaces).  A test
id matches the pytest node id, or its tail (``x.py::t`` matches
``tests/x.py::t``).  A malformed value, or a schedule that does not
decode or no longer fits the test, fails the test it concerns with one line.
``expect="use-after-free"`` inverts the test: it passes only if a finding
of that kind is found (for tests that prove a checker fires).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from rcu_harness.invocation import python
from rcu_harness.runner.explore import explore
from rcu_harness.runner.replay import replay
from rcu_harness.runner.run import DEFAULT_MAX_STEPS
from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.schedule import Schedule, ScheduleDecodeError

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.finding import Finding

ENV = "RCU_HARNESS_REPLAY"
Program = Callable[["Harness"], None]


def _nodeid(fn: Program) -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    if current:
        return current.rsplit(" ", 1)[0]
    return f"{fn.__module__}::{fn.__name__}"


def _same_test(entry: str, nodeid: str) -> bool:
    """Does the test id @entry name the test @nodeid (equal, or a tail of it
    at a path boundary, either way round)?"""
    return entry == nodeid or nodeid.endswith("/" + entry) or \
        entry.endswith("/" + nodeid)


def _bad(message: str) -> NoReturn:
    pytest.fail(f"{ENV}: {message}", pytrace=False)


def wanted_schedule(nodeid: str) -> str | None:
    """The schedule :data:`ENV` names for the test @nodeid, or None (the
    variable is unset or names other tests).  A malformed value fails the
    test, in one line."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    for line in value.splitlines():
        entry = line.strip()
        if not entry:
            continue
        test, sep, text = entry.rpartition("=")
        if not sep or not test or not text:
            _bad(f"each entry must be TEST_ID=SCHEDULE, as a failing test prints "
                 f"it (got {entry[:60]!r})")
        if _same_test(test, nodeid):
            try:
                Schedule.decode(text)
            except ScheduleDecodeError as exc:
                _bad(f"the schedule for {test} is not usable ({exc})")
            return text
    return None


def _replay(fn: Program, text: str, max_steps: int, hint: str) -> Finding | None:
    try:
        return replay(text, program=fn, max_steps=max_steps,
                      replay_hint=hint).finding
    except ReplayDivergence as exc:
        _bad(f"the schedule no longer fits this test ({exc}); unset {ENV} to "
             "explore it again")


def check(*, executions: int = 200, strategy: str = "aimed-data", seed: int = 0,
          max_steps: int = DEFAULT_MAX_STEPS, expect: str | None = None,
          **strategy_params: Any) -> Callable[[Program], Callable[[], None]]:
    """Decorate a ``test_*(h)`` program so pytest explores it."""

    def decorate(fn: Program) -> Callable[[], None]:
        def test() -> None:
            nodeid = _nodeid(fn)
            hint = (f"{ENV}='{nodeid}={{schedule}}' {python()} -m pytest "
                    f"'{nodeid}'")
            wanted = wanted_schedule(nodeid)
            findings: tuple[Finding, ...]
            if wanted:
                found = _replay(fn, wanted, max_steps, hint)
                findings = (found,) if found else ()
            else:
                findings = explore(fn, strategy=strategy, executions=executions,
                                   seed=seed, max_steps=max_steps,
                                   replay_hint=hint, **strategy_params).findings
            if expect is not None:
                if not any(f.kind == expect for f in findings):
                    got = ", ".join(f.kind for f in findings) or "nothing"
                    pytest.fail(f"expected a {expect} finding, found {got}",
                                pytrace=False)
                return
            if findings:
                f = findings[0]
                pytest.fail(f"{f.message}\n\n{f.report}", pytrace=False)

        test.__name__ = fn.__name__
        test.__qualname__ = fn.__qualname__
        test.__module__ = fn.__module__
        test.__doc__ = fn.__doc__
        return test

    return decorate
