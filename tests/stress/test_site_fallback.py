"""stress/site_fallback.py: its first findings run the strategy it names
(``--strategy``, default aimed-site), not whatever ``explore()``'s default
is in the tree measured, so two trees compare the same strategy."""

from __future__ import annotations

from types import SimpleNamespace

from rcu_harness.runner.explore import explore
from rcu_harness.runner.run import DEFAULT_MAX_STEPS
from stress.site_fallback import _first
from tests.programs.sessions import program as sessions


def test_a_first_finding_is_the_named_strategys():
    calls = []

    def fake(prog, **kw):
        calls.append(kw)
        return SimpleNamespace(findings=[])

    assert _first(fake, sessions, 3, 50, 1000, "aimed-site") == {
        "first": None, "kind": None, "signature": None}
    assert calls == [{"strategy": "aimed-site", "executions": 50, "seed": 3,
                      "max_steps": 1000}]


def test_aimed_sites_first_finding_on_the_worked_example_is_its_recorded_one():
    # reports/BENCHMARKS.md, *pct-site's fallback*: seed 0, 4 executions run
    got = _first(explore, sessions, 0, 30, DEFAULT_MAX_STEPS, "aimed-site")
    assert (got["first"], got["kind"]) == (4, "use-after-free")
