"""calibrate() (rcu_harness/runner/block.py): one random walk of the base
seed gives ``steps``, ``sync_steps`` and ``sites`` (and the sync decisions
of ``fallback_steps``) at once, each the value a probe of its own measures
on that walk."""

from __future__ import annotations

import pytest

from rcu_harness.runner import block
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import applied, configure, program
from rcu_harness.scenarios.catalog import SCENARIOS, default_max_steps
from rcu_harness.sched.pct_site import SiteCounter
from rcu_harness.sched.pct_sync import SyncCounter
from rcu_harness.sched.registry import make_strategy


def _walk(prog, probe, bound):
    probe.new_execution(0)
    return run_execution(prog, probe, 0, max_steps=bound, record=0)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_one_walk_measures_what_a_probe_of_each_value_measures(scenario):
    cfg = configure(scenario)
    prog, bound = program(cfg), default_max_steps(cfg)
    seed = 1
    with applied(cfg.mutant, cfg.fixes):
        plain = _walk(prog, make_strategy("random", seed), bound)
        sync = SyncCounter(seed, "field")
        _walk(prog, sync, bound)
        sites = SiteCounter(seed, "field", "field")
        _walk(prog, sites, bound)
        fallback = SyncCounter(seed, "sync")
        _walk(prog, fallback, bound)
        site = calibrate(prog, "aimed-site", seed, max_steps=bound)
        aimed = calibrate(prog, "aimed", seed, max_steps=bound)
        pct_fallback = calibrate(prog, "aimed-pct", seed, max_steps=bound)
    steps = min(bound, sum(1 for d in plain.decisions if d >= 0))
    assert site["steps"] == aimed["steps"] == steps
    assert site["sites"] == min(bound, max(1, len(sites.sites)))
    assert aimed["sync_steps"] == min(bound, max(1, sync.sync_decisions))
    assert sites.sync_decisions == sync.sync_decisions
    assert sites.fallback_decisions == fallback.sync_decisions
    if site["sites"] < 2:  # tree_destroy: no VMA or mm field
        assert site["fallback_steps"] == min(bound, max(1, fallback.sync_decisions))
        # the fallback pct: PCT's k, every decision of the walk
        assert pct_fallback["fallback_steps"] == steps > site["fallback_steps"]
    else:
        assert "fallback_steps" not in site
        assert "fallback_steps" not in pct_fallback
    assert {k: v for k, v in pct_fallback.items() if k != "fallback_steps"} == {
        k: v for k, v in site.items() if k != "fallback_steps"}


def test_calibration_runs_the_walk_once(monkeypatch):
    runs = []

    def counting(prog, strategy, index, **kw):
        runs.append(type(strategy).__name__)
        return run_execution(prog, strategy, index, **kw)

    monkeypatch.setattr(block, "run_execution", counting)
    cfg = configure("page_fault")
    prog, bound = program(cfg), default_max_steps(cfg)
    # aimed-site's first run is surw's profile probe, its own strategy's
    expected = {"aimed-site": ["SurwStrategy", "SiteCounter"],
                "pct-site": ["SiteCounter"], "aimed": ["SiteCounter"],
                "pct-sync": ["SiteCounter"],
                "pct": ["RandomStrategy"], "mix": ["RandomStrategy"]}
    for strategy, walks in expected.items():
        runs.clear()
        calibrate(prog, strategy, 0, max_steps=bound)
        assert runs == walks, strategy
    runs.clear()
    # no surw member: no profile probe (a profile would be refused)
    calibrate(prog, "portfolio", 0, max_steps=bound, strategy_params={
        "members": "pct,pct-sync,pct-site"})
    assert runs == ["SiteCounter"]


@pytest.mark.parametrize("scenario", ["page_fault", "tree_destroy"])
@pytest.mark.parametrize("members", [
    "pct-sync,random", "surw,random", "random-sync,pos", "pct-site,rff",
    "pct-relay", "pct,surw", "pct,random-sync,pct-site,surw,pct-site,pct-relay"])
def test_calibration_fills_a_portfolio_only_where_a_member_takes_the_value(
        scenario, members):
    cfg = configure(scenario)
    prog, bound = program(cfg), default_max_steps(cfg)
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(prog, "portfolio", 0, max_steps=bound,
                           strategy_params={"members": members})
    names = members.split(",")
    assert ("steps" in params) == ("pct" in names)
    assert ("profile" in params) == ("surw" in names)
    assert ("sync_steps" in params) == ("pct-sync" in names)
    sites = "pct-site" in names or "pct-relay" in names
    assert ("sites" in params) == sites
    assert ("fallback_steps" in params) == (sites and params["sites"] < 2)
    make_strategy("portfolio", 0, **params)  # every value taken
