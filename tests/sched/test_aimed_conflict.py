"""``aimed-conflict``, the default before aimed-data: aimed-class with ``aim=conflict``
under one name, execution for execution; calibration fills ``acts`` and
``conflicts`` into the run's resolved parameters; its parameters,
determinism (blocks, replay, resume)."""

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, applied, program
from rcu_harness.sched.aimed_class import CLASSES
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
    plan_traces,
)

REUSE = "vma-reuse-skips-mm-check"
SEQ = "vma-start-read-skips-seq-recheck"
MAPS = "maps-skips-gap-check"
DEAD_MARK = "dead-mark-no-wmb"
RECHECK = "fault-skips-vma-recheck"
DESTROY = "destroy-frees-at-once"


def spec(mutant, seed=2, keep_going=False, strategy="aimed-conflict", **given):
    return RunSpec(MUTANTS[mutant].scenario, strategy=strategy, mutant=mutant,
                   seed=seed, keep_going=keep_going, strategy_params=given)


@pytest.mark.parametrize(("mutant", "acts", "conflicts"), [
    (REUSE, "vm_refcnt", "sequence,vm_lock_seq,vm_refcnt"),
    (SEQ, "", "sequence"),
    (MAPS, "vm_refcnt", "sequence,task,vm_end,vm_flags,vm_lock_seq,vm_mm,"
                        "vm_refcnt,vm_start"),
])
def test_calibration_fills_acts_and_conflicts_into_the_resolved_parameters(
        mutant, acts, conflicts):
    params = resolve(spec(mutant)).strategy_params
    assert (params["program_class"], params["stall_in"]) == ("readers", "rcu")
    assert (params["acts"], params["conflicts"]) == (acts, conflicts)
    assert "acts" not in resolve(spec(mutant, strategy="aimed-class")).strategy_params


@pytest.mark.parametrize("mutant", [REUSE, SEQ, DEAD_MARK, RECHECK, DESTROY])
def test_its_calibration_is_aimed_class_with_the_conflict_aims(mutant):
    ours = resolve(spec(mutant)).strategy_params
    theirs = resolve(spec(mutant, strategy="aimed-class", aim="conflict")
                     ).strategy_params
    assert {**ours, "aim": "conflict"} == theirs


@pytest.mark.parametrize("mutant", [REUSE, MAPS, DEAD_MARK])
def test_execution_i_is_aimed_class_with_aim_conflicts_execution_i(mutant):
    plan = resolve(spec(mutant))
    cfg = plan.config()
    prog = program(cfg)
    with applied(cfg.mutant):
        for index in range(9):
            ours = make_strategy("aimed-conflict", 2, **plan.strategy_params)
            theirs = make_strategy("aimed-class", 2, **plan.strategy_params,
                                   aim="conflict")
            for strategy in (ours, theirs):
                strategy.new_execution(index)
            assert run_execution(prog, ours, index, record=0).schedule() == \
                run_execution(prog, theirs, index, record=0).schedule(), index


def test_its_traces_are_aimed_class_with_aim_conflicts_and_differ_from_aim_site():
    _, ours = plan_traces(spec(MAPS), 12)
    _, conflict = plan_traces(spec(MAPS, strategy="aimed-class", aim="conflict"), 12)
    _, site = plan_traces(spec(MAPS, strategy="aimed-class"), 12)
    assert ours == conflict
    assert ours != site


def test_it_runs_the_turns_of_the_class_calibration_resolves():
    plan = resolve(spec(DEAD_MARK))
    strategy = make_strategy("aimed-conflict", 2, **plan.strategy_params)
    assert strategy.member_names == tuple(CLASSES["weak"].split(","))
    assert make_strategy("aimed-conflict", 0).member_names == tuple(
        CLASSES["other"].split(","))


def test_it_takes_aimed_class_parameters_with_aim_conflict():
    options = STRATEGIES["aimed-conflict"].options()
    assert options == {**STRATEGIES["aimed-class"].options(), "aim": "conflict"}
    assert STRATEGIES["aimed-conflict"].site_calibrated
    assert check_strategy("aimed-conflict", {"aim": "site"}) == {"aim": "site"}
    with pytest.raises(PlanError, match=r"aimed-conflict program_class must be one "
                       r"of auto, weak, readers, other \(got 'lkmm'\)"):
        check_strategy("aimed-conflict", {"program_class": "lkmm"})


def test_with_aim_site_it_runs_aimed_classs_executions():
    _, ours = plan_traces(spec(MAPS, aim="site"), 8)
    _, theirs = plan_traces(spec(MAPS, strategy="aimed-class"), 8)
    assert ours == theirs


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(spec(REUSE, keep_going=True)),
                                ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, spec(REUSE, seed=18, keep_going=True), 12)
