"""Checks every strategy's campaign tests share: a block split anywhere
gives the same executions, whose seeds replay, and an interrupted run
resumes to what an uninterrupted one stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rcu_harness.campaign.coordinator import Interrupt, StopReason
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, PlanError, check_strategy, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import resume_run, start_run
from rcu_harness.campaign.worker import WorkUnit, run_unit
from rcu_harness.runner.replay import schedule_of
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import applied, configure, program
from rcu_harness.sched.protocol import Profiled
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from rcu_harness.sched.replay import ReplayStrategy
from rcu_harness.trace.events import decode_all, events_digest
from tests.campaign.test_coordinator import StopAt, _content, _run

if TYPE_CHECKING:
    from pathlib import Path

    from rcu_harness.campaign.plan import RunPlan


def assert_blocks_split_exactly(plan: RunPlan,
                                splits: tuple[tuple[int, int], ...]) -> None:
    """Executions 0..N-1 of @plan run as one block and as @splits are the
    same, and three of them replay by seed alone: the schedule regenerated
    from the plan, replayed strictly, takes the block's steps."""
    end = splits[-1][1]
    whole = run_unit(WorkUnit(plan, 0, end)).executions
    parts = [e for a, b in splits for e in run_unit(WorkUnit(plan, a, b)).executions]
    rows = [(e.idx, e.seed, e.steps, e.signature) for e in whole]
    assert rows == [(e.idx, e.seed, e.steps, e.signature) for e in parts]
    cfg = plan.config()
    with applied(cfg.mutant, cfg.fixes):
        for i in (0, end // 2 + 1, end - 1):
            schedule = schedule_of(program(cfg), strategy=plan.strategy,
                                   seed=plan.seed, execution=i,
                                   max_steps=plan.max_steps,
                                   strategy_params=dict(plan.strategy_params))
            assert schedule.seed == whole[i].seed
            strict = ReplayStrategy(schedule)
            strict.new_execution(0)
            again = run_execution(program(cfg), strict, i,
                                  max_steps=plan.max_steps, record=0)
            assert (again.step, again.schedule()) == (whole[i].steps, schedule), i


def assert_resume_matches_whole(tmp_path: Path, spec: RunSpec, executions: int,
                                finds: bool = True) -> None:
    """A run of @spec interrupted at half its @executions and resumed with
    --jobs 2 stores what an uninterrupted run stores (and, if @finds, a
    finding)."""
    interrupt = Interrupt()
    first = start_run(resolve(spec), Budget(executions), out=tmp_path / "r", jobs=1,
                      progress=StopAt(interrupt, executions // 2), interrupt=interrupt)
    assert first.outcome.stopped is StopReason.INTERRUPTED
    second = resume_run(first.run_dir, jobs=2, executions=None, seconds=None,
                        progress=NoProgress(), interrupt=Interrupt())
    assert second.summary.executions == executions
    whole = _run(tmp_path, spec, Budget(executions), name="whole")
    assert _content(second.run_dir) == _content(whole.run_dir)
    if finds:
        assert _content(whole.run_dir)[1], f"{spec.mutant} found in {executions}"


def assert_members_take_turns(name: str, params: dict[str, object],
                              members: tuple[tuple[str, dict[str, object]], ...],
                              executions: int,
                              mutant: str = "vma-freed-without-rcu") -> None:
    """Execution ``i`` of the named portfolio @name (built with @params) is
    execution ``i`` of its member ``i mod len(members)`` (built with that
    member's parameters): page_fault under @mutant (with its parameters,
    its memory model among them), seed 2."""
    prog = program(configure("page_fault", mutant=mutant))

    def schedule(strategy_name: str, index: int, given: dict[str, object]) -> object:
        strategy = make_strategy(strategy_name, 2, **given)
        strategy.new_execution(index)
        with applied(mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    for index in range(executions):
        member, given = members[index % len(members)]
        assert schedule(name, index, params) == schedule(member, index, given), index


def plan_traces(spec: RunSpec, executions: int
                ) -> tuple[RunPlan, list[tuple[str, str]]]:
    """@spec's resolved plan and the (schedule text, events digest) of its
    executions 0..@executions-1, recorded with events."""
    plan = resolve(spec)
    cfg = plan.config()
    prog = program(cfg)
    out = []
    with applied(cfg.mutant, cfg.fixes):
        for index in range(executions):
            strategy = make_strategy(plan.strategy, plan.seed,
                                     **plan.strategy_params)
            strategy.new_execution(index)
            ex = run_execution(prog, strategy, index, max_steps=plan.max_steps,
                               record=2)
            out.append((ex.schedule().encode(), events_digest(decode_all(ex.events))))
    return plan, out


def assert_runs_as_its_long_spelling(name: str, long: dict[str, str], seed: int,
                                     executions: int, calibrated: set[str]) -> None:
    """The named portfolio @name runs the executions of ``portfolio`` with
    @long's parameters byte for byte (page_fault under vma-freed-without-rcu,
    @seed), every one a different schedule, and calibrates exactly
    @calibrated to the long spelling's values."""
    spec = {"seed": seed, "mutant": "vma-freed-without-rcu"}
    short_plan, short = plan_traces(RunSpec("page_fault", strategy=name, **spec),
                                    executions)
    long_plan, long_runs = plan_traces(
        RunSpec("page_fault", strategy="portfolio", strategy_params=long, **spec),
        executions)
    assert short == long_runs
    assert len({schedule for schedule, _ in short}) == executions
    assert set(short_plan.strategy_params) == calibrated
    for key in calibrated:
        assert short_plan.strategy_params[key] == long_plan.strategy_params[key], key


def assert_maple_traces_replay(name: str, params: dict[str, object],
                               indices: tuple[int, ...]) -> None:
    """@name (seed 7, @params) gives byte-identical maple traces for each of
    @indices and replays them exactly (rcu_transitions under
    publish-before-fill)."""
    from tests.sched.test_strategy_contract import (
        assert_runs_are_byte_identical_and_replay,
    )

    prog = program(configure("rcu_transitions", mutant="publish-before-fill"))

    def run(index: int) -> object:
        strategy = make_strategy(name, 7, **params)
        strategy.new_execution(index)
        return run_execution(prog, strategy, index, record=2)

    assert_runs_are_byte_identical_and_replay(prog, run, indices)


def assert_takes_aimed_sites_parameters(name: str,
                                        extra: dict[str, object] | None = None) -> None:
    """@name (aimed-site, or aimed-relay, aimed-site with a sixth member, or
    aimed-stale, with @extra, its ``reads``) takes the portfolio's per-member
    parameters of aimed-site's members (with ``fallback_steps``), calibrates
    steps, sites and surw's profile, and refuses ``members``, ``sync_steps``
    and each member's bad values in that member's words."""
    kind = STRATEGIES[name]
    assert kind.options() == {"depth": 3, "steps": 0, "sites": 0, "profile": "",
                              "interesting": "points", "points": "field",
                              "sync_points": "access", "fallback_steps": 0,
                              **(extra or {})}
    assert (kind.profiled, kind.calibrated, kind.site_calibrated) == (True,) * 3
    assert not kind.sync_calibrated
    assert isinstance(kind.make(0), Profiled)
    assert check_strategy(name, {"depth": "4", "sites": "9",
                                 "interesting": "accesses"}) == {
        "depth": 4, "sites": 9, "interesting": "accesses"}
    for params, message in (
            ({"members": "pct,random"}, f"strategy {name} has no parameter 'members'"),
            ({"sync_steps": "40"}, f"strategy {name} has no parameter 'sync_steps'"),
            ({"profile": "garbage"}, "surw profile item 'garbage' is not TID:COUNT"),
            ({"interesting": "nodes"}, "surw interesting must be one of"),
            ({"sync_points": "nodes"}, "random-sync points must be one of"),
            ({"points": "nodes"}, "pct-site points must be one of"),
            ({"sites": "-1"}, "parameter sites must be a non-negative")):
        with pytest.raises(PlanError, match=message):
            check_strategy(name, params)


def assert_calibrates_field_sites_and_surws_profile(name: str) -> dict[str, object]:
    """@name (aimed-site or aimed-relay) calibrates on page_fault: sites
    counted at fields only (fewer than at sync points, as many as pct-site's
    at fields), the same steps either way, no sync_steps, and surw's own
    profile; returns its calibrated parameters."""
    field = resolve(RunSpec("page_fault", strategy=name)).strategy_params
    sync = resolve(RunSpec("page_fault", strategy=name,
                           strategy_params={"points": "sync"})).strategy_params
    pct_site = resolve(RunSpec("page_fault", strategy="pct-site",
                               strategy_params={"points": "field"})).strategy_params
    surw = resolve(RunSpec("page_fault", strategy="surw")).strategy_params
    assert field["sites"] < sync["sites"]
    assert field["sites"] == pct_site["sites"]
    assert field["steps"] == sync["steps"]
    assert "sync_steps" not in field
    assert field["profile"] == surw["profile"] != ""
    return dict(field)
