"""pytest helper: explore a test's program, fail with the report and replay line.

::

    from rcu_harness.testing import check

    @check(executions=200, strategy="pct", seed=1)
    def test_reader_never_sees_freed_node(h):
        ...build the world and h.spawn() threads...

The decorated test explores the program (the test body is ``setup(h)``) and
fails with the first finding's report and the exact command that replays it:
``RCU_HARNESS_REPLAY=<schedule> pytest <nodeid>``.  With that variable set,
the test replays just that schedule (and fails again if it still finds the
bug).  ``expect="use-after-free"`` inverts the test: it passes only if a
finding of that kind is found (for tests that prove a checker fires).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from rcu_harness.runner.explore import explore
from rcu_harness.runner.replay import replay
from rcu_harness.runner.run import DEFAULT_MAX_STEPS

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


def check(*, executions: int = 200, strategy: str = "mix", seed: int = 0,
          max_steps: int = DEFAULT_MAX_STEPS, expect: str | None = None,
          **strategy_params: Any) -> Callable[[Program], Callable[[], None]]:
    """Decorate a ``test_*(h)`` program so pytest explores it."""

    def decorate(fn: Program) -> Callable[[], None]:
        def test() -> None:
            hint = f"{ENV}={{schedule}} pytest '{_nodeid(fn)}'"
            wanted = os.environ.get(ENV)
            findings: tuple[Finding, ...]
            if wanted:
                found = replay(wanted, program=fn, max_steps=max_steps,
                               replay_hint=hint).finding
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
