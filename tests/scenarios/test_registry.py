"""Scenario lookup, parameter parsing and the replay command line."""

import pytest

from rcu_harness.scenarios import (
    SCENARIOS,
    ScenarioError,
    applied,
    configure,
    get_scenario,
    replay_command,
)


def test_every_scenario_is_registered_with_a_description():
    get_scenario("dup_mmap")
    assert set(SCENARIOS) >= {"dup_mmap", "rcu_transitions", "mmput_race"}
    assert all(s.description for s in SCENARIOS.values())


def test_unknown_names_are_one_line_errors_listing_the_known_ones():
    with pytest.raises(ScenarioError, match="known: dup_mmap"):
        get_scenario("nope")
    with pytest.raises(ScenarioError, match="no parameter 'nope'"):
        configure("dup_mmap", {"nope": 1})
    with pytest.raises(ScenarioError, match="unknown mutant"):
        configure("dup_mmap", mutant="nope")


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "must be an integer"), ("0", "at least 1"), ("99999", "at most 2000"),
])
def test_integer_parameters_are_checked(value, message):
    with pytest.raises(ScenarioError, match=message):
        configure("dup_mmap", {"vmas": value})


def test_choices_and_booleans_are_checked():
    with pytest.raises(ScenarioError, match="one of 2021, 2023, modern"):
        configure("dup_mmap", {"design": "2030"})
    assert configure("dup_mmap", {"child_visible_early": "yes"})["child_visible_early"]
    with pytest.raises(ScenarioError, match="true or false"):
        configure("dup_mmap", {"child_visible_early": "maybe"})


def test_a_mutant_only_applies_to_its_scenarios():
    with pytest.raises(ScenarioError, match="does not apply"):
        configure("mmput_race", mutant="entry-count-short")


def test_mutant_parameters_come_before_user_overrides():
    bug = "error-path-skips-destroy"
    cfg = configure("dup_mmap", {"fatal_signal_at": 1}, mutant=bug)
    assert cfg["fatal_signal_at"] == 1
    assert configure("dup_mmap", mutant=bug)["fatal_signal_at"] == 3


def test_replay_command_names_everything_needed_to_rerun():
    cfg = configure("dup_mmap", {"vmas": "7"}, mutant="entry-count-short")
    line = replay_command(cfg, strategy="pct", seed=3, execution=41)
    assert line == ("python -m rcu_harness replay --scenario dup_mmap "
                    "--mutant entry-count-short --strategy pct --seed 3 "
                    "--execution 41 --set vmas=7")


def test_replay_command_leaves_out_empty_words_that_are_the_defaults():
    cfg = configure("rcu_transitions")
    line = replay_command(cfg, strategy="aimed-conflict", seed=0, execution=1,
                          strategy_params={"acts": "", "conflicts": "",
                                           "sites": 2, "program_class": "other"})
    assert "acts=" not in line
    assert "conflicts=" not in line
    assert "--strategy-param program_class=other --strategy-param sites=2" in line
    given = replay_command(cfg, strategy="aimed-conflict", seed=0, execution=1,
                           strategy_params={"acts": "vm_refcnt", "stall_in": ""})
    assert "--strategy-param acts=vm_refcnt --strategy-param stall_in= " in given


def test_model_patches_are_applied_only_inside_the_block():
    import maple.alloc
    import maple.topiary

    original = maple.alloc.ma_free_rcu
    with applied("free-without-grace-period"):
        assert maple.alloc.ma_free_rcu is not original
        assert maple.topiary.ma_free_rcu is maple.alloc.ma_free_rcu
    assert maple.alloc.ma_free_rcu is original
    assert maple.topiary.ma_free_rcu is original


@pytest.mark.parametrize("name", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_work_estimate_is_above_the_steps_a_fair_execution_takes(name):
    from rcu_harness.runner.run import run_execution
    from rcu_harness.scenarios.catalog import default_max_steps, program
    from rcu_harness.sched.registry import make_strategy

    cfg = configure(name, {"vmas": 60})
    for i in range(3):
        strategy = make_strategy("random", i)
        strategy.new_execution(i)
        ex = run_execution(program(cfg), strategy, i, max_steps=10**8, record=0)
        assert ex.step < get_scenario(name).work(cfg)
    assert default_max_steps(cfg) >= 10 * get_scenario(name).work(cfg)


def test_default_step_bound_grows_with_the_scenario_size():
    from rcu_harness.scenarios.catalog import default_max_steps
    from rcu_harness.scenarios.spec import MIN_STEP_BOUND

    small = default_max_steps(configure("dup_mmap", {"vmas": 20}))
    large = default_max_steps(configure("dup_mmap", {"vmas": 2000}))
    assert small == MIN_STEP_BOUND
    assert large > 10 * small


def test_replay_command_names_a_step_bound_that_is_not_the_default():
    cfg = configure("mmput_race")
    plain = replay_command(cfg, strategy="mix", seed=1, execution=2,
                           max_steps=200_000)
    bounded = replay_command(cfg, strategy="mix", seed=1, execution=2, max_steps=77)
    assert "--max-steps" not in plain
    assert bounded.endswith("--max-steps 77")


def test_only_a_value_that_lifts_a_kernel_guarantee_gets_a_note():
    dup = get_scenario("dup_mmap")
    assert dup.lifted(dup.defaults()) == []
    notes = dup.lifted({**dup.defaults(), "child_visible_early": True})
    assert len(notes) == 1
    assert notes[0].startswith("child_visible_early=true lifts a kernel guarantee")
    lifting = {(s.name, p.name) for s in SCENARIOS.values()
               for p in s.params if p.lifts}
    assert lifting == {("dup_mmap", "child_visible_early")}
