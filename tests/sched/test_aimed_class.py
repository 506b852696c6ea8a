"""``aimed-class``: aimed-rcu's members with the turn list of the program's
class, which calibration resolves from its walk (read choices, sites,
readers' sites); each class runs its members in the order given, execution
``i`` is the portfolio spelling's execution ``i``, class ``other`` is
aimed-rcu byte for byte; its parameters, determinism (blocks, replay,
resume).  It was the default before aimed-conflict (test_aimed_conflict.py:
these turns with ``aim=conflict``)."""

import pytest

from rcu_harness import explore
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.scenarios.catalog import default_max_steps
from rcu_harness.sched.aimed_class import CLASSES, portfolio_params, program_class
from rcu_harness.sched.registry import STRATEGIES, make_strategy
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
    plan_traces,
)

REUSE = "vma-reuse-skips-mm-check"
DEAD_MARK = "dead-mark-no-wmb"
UNLOCK = "vma-used-after-rcu-unlock"
DESTROY = "destroy-frees-at-once"
RECHECK = "fault-skips-vma-recheck"


def spec(mutant, seed=2, keep_going=False, **given):
    return RunSpec(MUTANTS[mutant].scenario, strategy="aimed-class", mutant=mutant,
                   seed=seed, keep_going=keep_going, strategy_params=given)


def test_the_class_is_read_choices_first_unless_many_sites_two_of_them_readers():
    assert program_class(0, 10, 6) == "readers"
    assert program_class(11, 10, 3) == "readers"
    assert program_class(0, 4, 2) == "readers"
    assert program_class(0, 4, 1) == "other"
    assert program_class(0, 3, 3) == "other"
    assert program_class(27, 2, 2) == "weak"
    assert program_class(1, 11, 1) == "weak"
    assert program_class(0, 2, 2) == "other"
    assert program_class(0, 0, 0) == "other"


@pytest.mark.parametrize(("mutant", "cls"), [
    (REUSE, "readers"),
    ("vma-start-read-refcount-relaxed", "readers"),
    (DEAD_MARK, "weak"),
    (RECHECK, "other"),
    (UNLOCK, "other"),
    (DESTROY, "other"),
])
def test_calibration_resolves_the_class_and_the_run_has_its_turns(mutant, cls):
    plan = resolve(spec(mutant))
    assert plan.strategy_params["program_class"] == cls
    strategy = make_strategy("aimed-class", 2, **plan.strategy_params)
    assert strategy.member_names == tuple(CLASSES[cls].split(","))


def test_each_class_has_its_members_in_this_order():
    assert CLASSES == {
        "weak": "pct,surw,pos,surw,pct-relay,surw",
        "readers": ("pct,random-sync,pct-site,pct-relay,pct-site,pct-relay,"
                    "pct-site,pct-site"),
        "other": "pct,random-sync,pct-site,surw,pct-site,pct-relay",
    }


@pytest.mark.parametrize(("mutant", "spelling"), [
    (REUSE, {"members": "pct,random-sync,pct-site,pct-relay,pct-site,pct-relay,"
                        "pct-site,pct-site",
             "points": "field", "sync_points": "access", "reads": "oldest",
             "fallback": "pct"}),
    (DEAD_MARK, {"members": "pct,surw,pos,surw,pct-relay,surw", "points": "field",
                 "reads": "oldest", "fallback": "pct"}),
])
def test_execution_i_is_the_portfolio_spellings_execution_i(mutant, spelling):
    """Its resolved class's list as ``members`` of the portfolio, with the
    parameters of aimed-rcu that those members take, the same calibration."""
    plan = resolve(spec(mutant))
    long_params = portfolio_params(plan.strategy_params)
    assert long_params == {**spelling, "stall_in": "rcu",
                           "steps": plan.strategy_params["steps"],
                           "sites": plan.strategy_params["sites"],
                           **({"profile": plan.strategy_params["profile"]}
                              if "surw" in spelling["members"] else {})}
    cfg = plan.config()
    prog = program(cfg)
    with applied(cfg.mutant):
        for index in range(9):
            ours = make_strategy("aimed-class", 2, **plan.strategy_params)
            long = make_strategy("portfolio", 2, **long_params)
            for strategy in (ours, long):
                strategy.new_execution(index)
            assert run_execution(prog, ours, index, record=0).schedule() == \
                run_execution(prog, long, index, record=0).schedule(), index


@pytest.mark.parametrize("mutant", [RECHECK, UNLOCK])
def test_on_class_other_its_executions_are_aimed_rcus_byte_for_byte(mutant):
    plan, ours = plan_traces(spec(mutant), 12)
    rcu_plan, rcu = plan_traces(RunSpec(MUTANTS[mutant].scenario,
                                        strategy="aimed-rcu", mutant=mutant,
                                        seed=2), 12)
    assert ours == rcu
    assert plan.strategy_params == {**rcu_plan.strategy_params,
                                    "program_class": "other"}


def test_a_class_given_is_run_as_given_and_not_recalibrated():
    plan = resolve(spec(DEAD_MARK, program_class="other"))
    assert plan.strategy_params["program_class"] == "other"
    _, ours = plan_traces(spec(DEAD_MARK, program_class="other"), 6)
    _, rcu = plan_traces(RunSpec("rcu_transitions", strategy="aimed-rcu",
                                 mutant=DEAD_MARK, seed=2), 6)
    assert ours == rcu


def test_made_without_calibration_it_runs_class_others_turns():
    assert make_strategy("aimed-class", 0).member_names == tuple(
        CLASSES["other"].split(","))


def test_it_takes_aimed_rcus_parameters_the_aim_program_class_and_data():
    options = STRATEGIES["aimed-class"].options()
    assert options == {**STRATEGIES["aimed-rcu"].options(), "aim": "site",
                       "acts": "", "conflicts": "", "program_class": "auto",
                       "data": ""}
    assert STRATEGIES["aimed-class"].site_calibrated
    assert check_strategy("aimed-class", {"program_class": "weak"}) == {
        "program_class": "weak"}
    with pytest.raises(PlanError, match=r"aimed-class program_class must be one of "
                       r"auto, weak, readers, other \(got 'lkmm'\)"):
        check_strategy("aimed-class", {"program_class": "lkmm"})
    with pytest.raises(PlanError, match="strategy aimed-rcu has no parameter "
                       "'program_class'"):
        check_strategy("aimed-rcu", {"program_class": "weak"})


def test_its_parameters_do_not_depend_on_the_class():
    """Every class's run is calibrated with steps, sites and surw's profile,
    even a class without a surw member."""
    keys = {cls: set(resolve(spec(mutant)).strategy_params) for cls, mutant in
            (("readers", REUSE), ("weak", DEAD_MARK), ("other", RECHECK))}
    assert keys["readers"] == keys["weak"] == keys["other"] == {
        "profile", "steps", "program_class", "stall_in", "sites"}


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    assert_blocks_split_exactly(resolve(spec(REUSE)), ((0, 5), (5, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, spec(REUSE, seed=18, keep_going=True), 12)


def test_it_finds_a_publication_bug_under_lkmm_sooner_than_aimed_rcu():
    """dead-node-no-rmb, seed 21 (class weak): aimed-class's first finding is
    execution 1 (its surw turn), aimed-rcu's execution 45
    (reports/BENCHMARKS.md, *aimed-class*)."""
    mutant = "dead-node-no-rmb"
    cfg = configure(MUTANTS[mutant].scenario, mutant=mutant)
    with applied(cfg.mutant):
        found = {name: explore(program(cfg), strategy=name, executions=3, seed=21,
                               max_steps=default_max_steps(cfg))
                 for name in ("aimed-class", "aimed-rcu")}
    assert [f.execution for f in found["aimed-class"].findings] == [1]
    assert not found["aimed-rcu"].findings
