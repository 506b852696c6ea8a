"""``pct-relay``: pct-site's stall, the relay to the thread that stores to
what the stalled thread checked, the return; pct-site's executions without
a relay; determinism (traces, replay, blocks, resume), a portfolio member,
bad parameters, and that it finds the seq-recheck window."""

from types import SimpleNamespace

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.pending import Access, MapleAccess
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.sched.pct import KEEP_ALL
from rcu_harness.sched.pct_relay import DONE, RELAY, RETURN, PctRelayStrategy
from rcu_harness.sched.registry import make_strategy
from tests.programs.sessions import program as sessions
from tests.runtime.test_kept_decisions import (
    PROGRAMS,
    assert_watching_keeper_is_asked,
)
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
)
from tests.sched.test_strategy_contract import (
    assert_runs_are_byte_identical_and_replay,
)

SEQ = configure(MUTANTS["vma-start-read-skips-seq-recheck"].scenario,
                mutant="vma-start-read-skips-seq-recheck")
SPEC = RunSpec("page_fault", strategy="pct-relay",
               mutant="vma-start-read-skips-seq-recheck", keep_going=True)
LOAD_SEQ = Access(0x100, "vm_lock_seq", -1, False)
LOAD_MM = Access(0x100, "vm_mm", -1, False)
STORE_SEQ = Access(0x100, "vm_lock_seq", -1, True)
STORE_OTHER = Access(0x300, "vm_lock_seq", -1, True)  # another VMA's
SEQUENCE = Access(0x200, "sequence", -1, False)
UNLOCK = Access(0x180, "lock", -1, True)
TRYLOCK = Access(0x180, "lock", -1, True)
NODE = MapleAccess(0x400, "slot", 3, False)


def _threads(*pending):
    return [SimpleNamespace(pending=p) for p in pending]


def _stalled(hold=4):
    """Execution 0 of a pct-relay over two threads whose stall is the
    second site reached: the highest thread checks vm_lock_seq, then
    stalls before its first load of sequence."""
    strategy = PctRelayStrategy(3, sites=9, hold=hold)
    strategy.new_execution(0)
    strategy._left = 2
    threads = _threads(LOAD_SEQ, LOAD_SEQ)
    strategy.watch(threads)
    first = strategy.next_thread([0, 1], None)
    threads[first].pending = SEQUENCE
    other = strategy.next_thread([0, 1], first)
    assert other != first
    assert strategy._phase == RELAY
    assert strategy._lowered == [first]
    assert strategy._loads == {first: {(0x100, "vm_lock_seq")}}
    return strategy, threads, first, other


def test_the_stall_keeps_what_the_stalled_thread_loaded_since_its_last_store():
    strategy = PctRelayStrategy(3, sites=9)
    strategy.new_execution(0)
    strategy._left = 3
    threads = _threads(LOAD_MM, LOAD_MM)
    strategy.watch(threads)
    first = strategy.next_thread([0, 1], None)
    threads[first].pending = STORE_OTHER  # a store: its check starts again
    assert strategy.next_thread([0, 1], first) == first
    threads[first].pending = LOAD_SEQ
    assert strategy.next_thread([0, 1], first) == first
    threads[first].pending = NODE  # node words are neither site nor check
    assert strategy.next_thread([0, 1], first) == first
    threads[first].pending = SEQUENCE  # the third site: the stall
    assert strategy.next_thread([0, 1], first) != first
    assert strategy._loads == {first: {(0x100, "vm_lock_seq")}}


def test_a_store_to_what_it_checked_relays_the_stall_after_that_store():
    strategy, threads, first, other = _stalled()
    threads[other].pending = STORE_OTHER  # not what it checked
    assert strategy.next_thread([0, 1], other) == other
    assert strategy._relay == -1
    threads[other].pending = STORE_SEQ  # vma_start_write()'s store
    assert strategy.next_thread([0, 1], other) == other
    assert strategy._relay == other
    threads[other].pending = UNLOCK  # up_write(): no field, it runs on
    assert strategy.next_thread([0, 1], other) == other
    threads[other].pending = LOAD_MM  # its next field: the relay
    assert strategy.next_thread([0, 1], other) == first
    assert strategy._phase == RETURN
    assert strategy._lowered == [other, first]
    assert 1 <= strategy._left <= 4


def test_the_stalled_thread_acts_then_returns_the_stall_at_its_drawn_decision():
    strategy, threads, first, other = _stalled()
    threads[other].pending = STORE_SEQ
    strategy.next_thread([0, 1], other)
    threads[other].pending = LOAD_MM
    assert strategy.next_thread([0, 1], other) == first
    assert 1 <= strategy._left <= 4
    strategy._left = hold = 3  # the drawn h
    threads[first].pending = SEQUENCE  # its stale check goes on: not counted
    for _ in range(6):
        assert strategy.next_thread([0, 1], first) == first
    assert strategy._left == hold
    threads[first].pending = TRYLOCK  # its act: down_read_trylock()
    assert strategy.next_thread([0, 1], first) == first
    assert strategy._left == hold
    threads[first].pending = LOAD_MM
    for _ in range(hold - 1):
        assert strategy.next_thread([0, 1], first) == first
        threads[first].pending = NODE  # not of the kind: not counted
        assert strategy.next_thread([0, 1], first) == first
        threads[first].pending = LOAD_MM
    assert strategy.keep == 0
    assert strategy.next_thread([0, 1], first) == other
    assert strategy._phase == DONE
    assert strategy.keep == KEEP_ALL
    assert strategy._lowered == [first, other]
    # No change point left: the stalled thread runs only when alone.
    assert strategy.next_thread([0, 1], other) == other
    assert strategy.next_thread([first], None) == first


def test_an_execution_without_a_relay_is_pct_sites():
    prog = program(SEQ)
    params = calibrate(prog, "pct-relay", 0)
    relay = make_strategy("pct-relay", 0, **params)
    site = make_strategy("pct-site", 0, **params)
    alike = differ = 0
    with applied(SEQ.mutant):
        for i in range(30):
            relay.new_execution(i)
            ours = run_execution(prog, relay, i, record=0).schedule()
            site.new_execution(i)
            theirs = run_execution(prog, site, i, record=0).schedule()
            if relay._relay == -1:
                assert ours == theirs, i
                alike += 1
            else:
                differ += ours != theirs
    assert alike >= 10
    assert differ >= 3


def test_below_two_sites_an_execution_is_pct_sites_fallback():
    params = calibrate(sessions, "pct-relay", 0)
    assert params == calibrate(sessions, "pct-site", 0)
    assert params["sites"] < 2
    assert params["fallback_steps"] > 0
    relay = make_strategy("pct-relay", 0, **params)
    site = make_strategy("pct-site", 0, **params)
    for i in range(8):
        relay.new_execution(i)
        site.new_execution(i)
        assert run_execution(sessions, relay, i, record=0).schedule() == \
            run_execution(sessions, site, i, record=0).schedule(), i


def test_it_takes_sites_as_pct_site_does():
    prog = program(SEQ)
    with applied(SEQ.mutant):
        sites = calibrate(prog, "pct-relay", 0)
        assert sites == calibrate(prog, "pct-site", 0)
        mixed = calibrate(prog, "portfolio", 3, strategy_params={
            "members": "pct,pct-relay", "points": "field"})
    assert mixed["sites"] == calibrate(prog, "pct-site", 3)["sites"]


def test_a_portfolio_execution_is_its_pct_relay_members_execution():
    prog = program(SEQ)

    def schedule(name, index, **p):
        strategy = make_strategy(name, 2, **p)
        strategy.new_execution(index)
        with applied(SEQ.mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    assert schedule("portfolio", 5, members="pct,pct-relay", steps=300, sites=7,
                    points="field") == schedule("pct-relay", 5, sites=7)


@pytest.mark.parametrize(("params", "message"), [
    ({"sites": "-1"}, "must be a non-negative integer"),
    ({"hold": "0"}, "pct-relay hold must be >= 1"),
    ({"points": "nodes"}, "pct-relay points must be one of sync, access, field"),
    ({"depth": "2"}, "has no parameter 'depth'"),
    ({"sites": "2", "fallback_steps": "5"},
     "pct-relay fallback_steps applies only with sites below 2"),
])
def test_bad_parameters_are_one_line_errors(params, message):
    with pytest.raises(PlanError, match=message) as info:
        check_strategy("pct-relay", params)
    assert "\n" not in str(info.value)


def test_its_own_name_is_in_the_errors_it_shares_with_pct_site():
    with pytest.raises(ValueError, match=r"^pct-relay sites must be >= 0"):
        PctRelayStrategy(0, sites=-1)
    with pytest.raises(ValueError, match=r"^pct-relay fallback_steps must be >= 0"):
        PctRelayStrategy(0, fallback_steps=-1)


def test_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    prog = program(SEQ)

    def run(index):
        strategy = make_strategy("pct-relay", 7, sites=10)
        strategy.new_execution(index)
        with applied(SEQ.mutant):
            return run_execution(prog, strategy, index, record=2)

    with applied(SEQ.mutant):
        assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    plan = resolve(SPEC)
    assert plan.strategy_params["sites"] > 1
    assert plan == resolve(SPEC)
    assert_blocks_split_exactly(plan, ((0, 5), (5, 6), (6, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40, finds=True)


def test_it_hands_a_fault_and_a_writer_the_vma_lock_back_and_forth():
    """vma-start-read-skips-seq-recheck: the fault stopped before its
    down_read_trylock() while the writer write-locks the VMA, the writer
    stopped while the fault takes the read lock, the fault stopped holding
    it while the writer edits; pct-site never finds it, random-sync in 2.4%
    of its executions, pct-relay in 3.6 to 4.4% (reports/BENCHMARKS.md,
    *pct-relay*); seed 0 in its ninth."""
    from rcu_harness import explore

    with applied(SEQ.mutant):
        result = explore(program(SEQ), strategy="pct-relay", executions=9, seed=0)
        site = explore(program(SEQ), strategy="pct-site", executions=9, seed=0)
    assert result.findings
    assert result.findings[0].kind == "vma-lock"
    assert "holds read-locked" in result.findings[0].report
    assert not site.findings


@pytest.mark.parametrize("prog", sorted(PROGRAMS))
def test_decisions_kept_after_the_return_without_a_call_are_the_strategys(prog):
    assert_watching_keeper_is_asked("pct-relay", {"sites": 2}, prog)


def test_with_aim_conflict_only_a_conflicting_field_is_a_site():
    strategy = PctRelayStrategy(3, sites=9, aim="conflict", conflicts="sequence")
    strategy.new_execution(0)
    assert strategy._left == 1  # drawn among the one conflicting field
    threads = _threads(LOAD_SEQ)
    strategy.watch(threads)
    assert strategy.next_thread([0], None) == 0  # vm_lock_seq: checked, no site
    assert strategy._loads == {0: {(0x100, "vm_lock_seq")}}
    threads[0].pending = SEQUENCE
    threads.append(SimpleNamespace(pending=LOAD_SEQ))
    assert strategy.next_thread([0, 1], 0) == 1  # sequence: the stall
    assert strategy._phase == RELAY
    assert strategy._loads == {0: {(0x100, "vm_lock_seq")}}


def test_conflicts_need_aim_conflict_and_aim_is_site_or_conflict():
    with pytest.raises(ValueError, match=r"^pct-relay conflicts applies only with "
                       r"aim=conflict \(got aim=site\)$"):
        PctRelayStrategy(0, conflicts="sequence")
    with pytest.raises(PlanError, match="pct-relay aim must be one of site, conflict"):
        check_strategy("pct-relay", {"aim": "all"})


def test_calibration_gives_aim_conflict_the_fields_writers_store_under_readers():
    """vma-start-read-skips-seq-recheck, seed 0: of the six fields faults
    read inside rcu_read_lock(), the 16 walks see the writer store to
    sequence and detached of what a fault holds."""
    with applied(SEQ.mutant):
        params = calibrate(program(SEQ), "pct-relay", 0, strategy_params={
            "stall_in": "rcu", "aim": "conflict"})
    assert params["conflicts"] == "detached,sequence"
    assert params["sites"] == 6
    assert "acts" not in params


def test_with_aim_conflict_it_finds_the_seq_recheck_window_more_often():
    """Seed 0, 500 executions: 8.0% with readers' sites, 25.6% with
    aim=conflict (reports/BENCHMARKS.md, *pct-site's conflict aim*)."""
    from rcu_harness import explore

    with applied(SEQ.mutant):
        found = {aim: explore(program(SEQ), strategy="pct-relay", executions=40,
                              seed=0, stop_on_first=False, stall_in="rcu", aim=aim)
                 for aim in ("site", "conflict")}
    assert sum(found["conflict"].counts.values()) > 2 * sum(
        found["site"].counts.values())


def test_aim_conflict_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    prog = program(SEQ)

    def run(index):
        strategy = make_strategy("pct-relay", 7, sites=6, stall_in="rcu",
                                 aim="conflict", conflicts="detached,sequence")
        strategy.new_execution(index)
        with applied(SEQ.mutant):
            return run_execution(prog, strategy, index, record=2)

    with applied(SEQ.mutant):
        assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))
