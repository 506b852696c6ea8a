"""Plans and workers: execution i's result depends on the plan and i alone."""

import pickle
from dataclasses import replace

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import (
    Block,
    PlanError,
    RunPlan,
    blocks,
    check_strategy,
    resolve,
)
from rcu_harness.campaign.worker import WorkUnit, run_unit
from rcu_harness.scenarios.spec import ScenarioError
from rcu_harness.sched.registry import StrategyParamError

UAF = RunSpec("rcu_transitions", strategy="random",
              mutant="free-without-grace-period", keep_going=True)
CLEAN = RunSpec("mmput_race", strategy="pct", params={"vmas": 4})
POS = RunSpec("rcu_transitions", strategy="pos", mutant="publish-before-fill",
              keep_going=True)
SURW = RunSpec("rcu_transitions", strategy="surw", mutant="in-place-write-in-rcu",
               keep_going=True)


def _rows(results):
    return [(e.idx, e.seed, e.steps, e.signature, e.counters)
            for r in results for e in r.executions]


def test_blocks_cover_every_index_not_done_once_in_order():
    got = list(blocks({0, 1, 5, 6, 7}, 12, 3))
    assert got == [Block(0, 2, 5), Block(1, 8, 11), Block(2, 11, 12)]
    assert list(blocks(set(), 0, 4)) == []


def test_pct_plans_fix_their_step_estimate_deterministically():
    a, b = resolve(CLEAN), resolve(CLEAN)
    assert a.strategy_params["steps"] > 1
    assert a == b
    given = resolve(RunSpec("mmput_race", strategy_params={"steps": "77"}))
    measured = resolve(RunSpec("mmput_race"))
    assert measured.strategy_params["steps"] != 77
    assert given.strategy_params == {**measured.strategy_params, "steps": 77}


def test_plans_are_picklable_and_round_trip_through_json():
    plan = resolve(UAF)
    assert pickle.loads(pickle.dumps(plan)) == plan
    assert RunPlan.from_json(plan.to_json()) == plan
    assert plan.params["vmas"] == 24, "every parameter value is fixed in the plan"


@pytest.mark.parametrize(("name", "params", "message"), [
    ("bogus", {}, "unknown strategy 'bogus'"),
    ("pct", {"colour": 1}, "has no parameter 'colour'"),
    ("pct", {"depth": "x"}, "must be a non-negative integer"),
    ("pct", {"depth": "0"}, "depth must be between 1 and 1000"),
    ("pct", {"depth": "1000000000"}, r"between 1 and 1000 \(got 1000000000\)"),
    ("mix", {"depth": "1001"}, "depth must be between 1 and 1000"),
    ("random", {"depth": 3}, r"known: none"),
])
def test_strategy_parameters_are_checked(name, params, message):
    with pytest.raises(PlanError, match=message):
        check_strategy(name, params)


@pytest.mark.parametrize(("strategy", "params", "message"), [
    ("pct", {"depth": 100, "steps": 50}, r"depth=100 exceeds steps \+ 1 = 51"),
    ("mix", {"steps": 10**9}, "steps=1000000000 exceeds the step bound 200000"),
    ("dfs", {"preemption_bound": 10**9}, "exceeds the step bound 200000"),
])
def test_strategy_parameters_are_bounded_by_the_run(strategy, params, message):
    spec = RunSpec("mmput_race", strategy=strategy, params={"vmas": 2},
                   strategy_params=params, max_steps=200_000)
    with pytest.raises(StrategyParamError, match=message):
        resolve(spec)


def test_the_pct_depth_is_bounded_by_the_calibrated_steps():
    spec = RunSpec("mmput_race", strategy="pct", params={"vmas": 2})
    steps = resolve(spec).strategy_params["steps"]
    deepest = replace(spec, strategy_params={"depth": steps + 1})
    assert resolve(deepest).strategy_params["depth"] == steps + 1
    with pytest.raises(StrategyParamError, match=f"at most {steps + 1}"):
        resolve(replace(spec, strategy_params={"depth": steps + 2}))


def test_scenario_mutant_and_parameter_errors_come_from_the_registry():
    with pytest.raises(ScenarioError, match="unknown scenario"):
        resolve(RunSpec("nope"))
    with pytest.raises(ScenarioError, match="does not apply"):
        resolve(RunSpec("mmput_race", mutant="entry-count-short"))
    with pytest.raises(ScenarioError, match="vmas must be at least 1"):
        resolve(RunSpec("mmput_race", params={"vmas": "0"}))


def test_surw_plans_fix_their_profile_deterministically():
    a, b = resolve(SURW), resolve(SURW)
    assert a.strategy_params["profile"]
    assert a == b
    assert RunPlan.from_json(a.to_json()) == a


@pytest.mark.parametrize("spec", [UAF, CLEAN, POS, SURW],
                         ids=["random", "pct", "pos", "surw"])
def test_a_block_split_anywhere_gives_the_same_executions(spec):
    plan = resolve(spec)
    whole = run_unit(WorkUnit(plan, 0, 12))
    parts = [run_unit(WorkUnit(plan, a, b)) for a, b in ((0, 5), (5, 6), (6, 12))]
    assert _rows(parts) == _rows([whole])


def test_dfs_blocks_chained_through_the_last_schedule_match_one_block():
    plan = resolve(RunSpec("mmput_race", strategy="dfs", params={"vmas": 3}))
    whole = run_unit(WorkUnit(plan, 0, 30))
    parts, after = [], None
    for a, b in ((0, 7), (7, 8), (8, 30)):
        parts.append(run_unit(WorkUnit(plan, a, b, after=after)))
        after = parts[-1].last_schedule
    assert _rows(parts) == _rows([whole])


def test_a_dfs_run_that_explored_everything_says_so():
    plan = resolve(RunSpec("mmput_race", strategy="dfs", params={
        "vmas": 1, "ops": 0, "racers": 1}, strategy_params={"preemption_bound": 0}))
    result = run_unit(WorkUnit(plan, 0, 1000))
    assert result.exhausted
    assert len(result.executions) < 1000


def test_each_new_signature_is_diagnosed_once_with_report_and_replay_command():
    plan = resolve(UAF)
    result = run_unit(WorkUnit(plan, 0, 16))
    sigs = [e.signature for e in result.executions if e.signature]
    assert [d.finding.signature for d in result.findings] == list(dict.fromkeys(sigs))
    first = result.findings[0].finding
    assert "KASAN" in first.report
    assert "Interleaving" in first.report
    assert first.replay_command == plan.replay_command(first.execution)
    assert len(result.findings[0].events_digest) == 32


def test_known_signatures_are_not_diagnosed_again():
    plan = resolve(UAF)
    sigs = {e.signature for e in run_unit(WorkUnit(plan, 0, 16)).executions}
    again = run_unit(WorkUnit(plan, 0, 16, known=frozenset(sigs)))
    assert again.findings == ()


def test_without_keep_going_a_block_ends_at_its_first_violation():
    plan = resolve(RunSpec("rcu_transitions", strategy="random",
                           mutant="free-without-grace-period"))
    result = run_unit(WorkUnit(plan, 0, 16))
    assert result.executions[-1].signature is not None
    assert all(e.signature is None for e in result.executions[:-1])


def test_executions_carry_latency_samples():
    result = run_unit(WorkUnit(resolve(CLEAN), 0, 2))
    assert any(key.startswith("span.") for key in result.executions[0].samples)


class _Clock:
    """A monotonic clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now

    @staticmethod
    def perf_counter_ns() -> int:
        return 0


def test_a_block_starts_no_execution_after_the_time_budget_it_was_given(monkeypatch):
    import rcu_harness.campaign.worker as worker
    import rcu_harness.runner.block as block

    clock = _Clock()
    monkeypatch.setattr(worker, "time", clock)
    monkeypatch.setattr(block, "time", clock)
    plan = resolve(CLEAN)
    # The deadline is read at 1.0 + 3.5; executions start at 2, 3 and 4.
    cut = run_unit(WorkUnit(plan, 0, 16, seconds=3.5))
    assert [r.idx for r in cut.executions] == [0, 1, 2]
    assert _rows([run_unit(WorkUnit(plan, 0, 3))]) == _rows([cut])
    assert len(run_unit(WorkUnit(plan, 0, 16)).executions) == 16


def test_a_unit_that_waited_gets_no_time_of_its_own(monkeypatch):
    """The local pool keeps a unit queued behind each running one: its
    budget was counted at hand-out, so it ends where the earlier unit's of
    the same run did in this process, not its own seconds after it starts."""
    import rcu_harness.campaign.worker as worker
    import rcu_harness.runner.block as block

    clock = _Clock()
    monkeypatch.setattr(worker, "time", clock)
    monkeypatch.setattr(block, "time", clock)
    plan = resolve(CLEAN)
    run = "a-run-of-this-test"
    first = run_unit(WorkUnit(plan, 0, 16, run=run, seconds=3.5))
    assert [r.idx for r in first.executions] == [0, 1, 2]
    queued = run_unit(WorkUnit(plan, 16, 32, run=run, seconds=3.5))
    assert queued.executions == ()
    other = run_unit(WorkUnit(plan, 16, 32, run=f"{run}-next", seconds=3.5))
    assert len(other.executions) == 3


@pytest.mark.parametrize("strategy", ["pos", "surw", "portfolio"])
def test_a_weak_memory_run_takes_every_strategy(strategy):
    plan = resolve(RunSpec("mmput_race", strategy=strategy,
                           params={"memory_model": "lkmm"}))
    assert plan.strategy == strategy


@pytest.mark.parametrize("design", ["modern", "vma_refcnt"])
def test_a_weak_memory_run_takes_the_designs_with_per_vma_locks(design):
    plan = resolve(RunSpec("page_fault", params={"memory_model": "lkmm",
                                                 "design": design}))
    assert plan.params["memory_model"] == "lkmm"
    assert plan.params["design"] == design


def test_a_worker_records_a_programs_setup_snapshots_once_not_per_block(monkeypatch):
    """A process keeps the program across blocks of one configuration, so
    the setup snapshot the first block records is replayed by the next
    (recording one costs about two mmput_race executions; per block of 16
    it was half a campaign's time), with the same executions."""
    from rcu_harness.campaign import worker
    from rcu_harness.scenarios import populate_cache

    recorded = []
    real = populate_cache.Recorder

    def recorder(*args, **kwargs):
        recorded.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(worker, "_PROGRAM", {})
    monkeypatch.setattr(populate_cache, "Recorder", recorder)
    plan = resolve(CLEAN)
    first = run_unit(WorkUnit(plan, 0, 4))
    assert recorded, "the first block records the setup"
    recorded.clear()
    second = run_unit(WorkUnit(pickle.loads(pickle.dumps(plan)), 4, 8))
    assert recorded == []
    monkeypatch.setattr(worker, "_PROGRAM", {})
    assert _rows([first, second]) == _rows([run_unit(WorkUnit(plan, 0, 8))])
    assert recorded, "a fresh process records it again"
