"""``pct-site``: one stall at the first visit of a drawn site, its
calibration and bounds, determinism (traces, replay, blocks, resume), a
portfolio member, bad parameters, that it finds the VMA-reuse window, and
its fallback on programs with fewer than 2 sites (a stall at a drawn sync
decision)."""

from types import SimpleNamespace

import pytest

from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import PlanError, check_strategy, resolve
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.explore import explore
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.execution import PENDING_ONLY
from rcu_harness.runtime.pending import Access, MapleAccess
from rcu_harness.scenarios import MUTANTS, applied, configure, program
from rcu_harness.sched.pct_site import (
    PctSiteStrategy,
    SiteCounter,
    resolve_stall_in,
    site_of,
)
from rcu_harness.sched.reads import oldest_reads
from rcu_harness.sched.registry import StrategyParamError, check_bounds, make_strategy
from tests.programs.sessions import program as sessions
from tests.runtime.test_kept_decisions import (
    PROGRAMS,
    WatchingAsking,
    _outcome,
    assert_watching_keeper_is_asked,
)
from tests.sched.campaign_checks import (
    assert_blocks_split_exactly,
    assert_resume_matches_whole,
)
from tests.sched.test_strategy_contract import (
    assert_runs_are_byte_identical_and_replay,
)

REUSE = configure(MUTANTS["vma-reuse-skips-mm-check"].scenario,
                  mutant="vma-reuse-skips-mm-check")
FAULT = configure("page_fault", mutant="vma-freed-without-rcu")
SPEC = RunSpec("page_fault", strategy="pct-site", mutant="vma-freed-without-rcu",
               keep_going=True, params={"vmas": 6})
NODE = MapleAccess(0x200, "slot", 3, False)
SEQ = Access(0x100, "vm_lock_seq", -1, False)
REF = Access(0x100, "vm_refcnt", -1, True)
LOCK = Access(0x180, "lock", -1, True)


def _threads(*pending):
    return [SimpleNamespace(pending=p) for p in pending]


def _strategy(sites, left, **params):
    """Execution 0 of a pct-site whose stall is the @left-th site reached."""
    strategy = PctSiteStrategy(3, sites=sites, **params)
    strategy.new_execution(0)
    strategy._left = left
    return strategy


def test_the_drawn_sites_first_visit_drops_its_thread_below_every_other():
    strategy = _strategy(4, 2)
    threads = _threads(SEQ, REF, NODE)
    strategy.watch(threads)
    first = strategy.next_thread([0, 1, 2], None)  # PCT's highest
    order = list(strategy._order)
    assert first == order[0]
    threads[first].pending = NODE  # node words are no site under field
    assert strategy.next_thread([0, 1, 2], first) == first
    site = {0: SEQ, 1: REF, 2: REF}[first]
    threads[first].pending = SEQ if site is REF else REF  # a second site
    got = strategy.next_thread([0, 1, 2], first)
    assert got != first
    assert got == order[1]
    assert strategy._lowered == [first]
    assert not strategy._left
    # Stalled for good: it runs only when no other thread can.
    threads[got].pending = SEQ
    assert strategy.next_thread([0, 1, 2], got) == got
    assert strategy.next_thread([first], None) == first


def test_a_site_visited_again_or_a_point_not_of_the_kind_is_no_new_site():
    strategy = _strategy(3, 2)
    strategy.watch(_threads(SEQ, SEQ))
    choice = strategy.next_thread([0, 1], None)
    for _ in range(20):  # vm_lock_seq again and again: one site
        assert strategy.next_thread([0, 1], choice) == choice
    assert strategy._visited == {"vm_lock_seq"}
    assert strategy._left == 1
    strategy.watch(_threads(LOCK, LOCK))
    assert strategy.next_thread([0, 1], choice) == choice  # field: not a lock
    assert strategy._left == 1
    locks = _strategy(3, 1, points="access")
    locks.watch(_threads(LOCK, LOCK))
    got = locks.next_thread([0, 1], None)
    assert locks._lowered
    assert got not in locks._lowered


def test_until_the_stall_every_choice_is_the_highest_priority_thread():
    strategy = _strategy(9, 9)  # the ninth site: never reached here
    strategy.watch(_threads(SEQ, REF, LOCK))
    for runnable, current in (([0, 1, 2], None), ([0, 1, 2], 0), ([1, 2], 1),
                              ([0, 2], 2)):
        got = strategy.next_thread(runnable, current)
        assert got == next(t for t in strategy._order if t in runnable)
    assert not strategy._lowered
    assert strategy._left == 7
    spinner = strategy._order[0]
    others = [t for t in (0, 1, 2) if t != spinner]
    assert strategy.next_thread([0, 1, 2], spinner, True) in others
    assert strategy._lowered == [spinner]  # a yield, as in PCT


def test_sites_are_the_fields_of_the_points_of_the_kind():
    assert site_of(SEQ) == "vm_lock_seq"
    assert site_of(None) == ""
    prog = program(FAULT)
    with applied(FAULT.mutant):
        field = calibrate(prog, "pct-site", 0)["sites"]
        sync = calibrate(prog, "pct-site", 0,
                         strategy_params={"points": "sync"})["sites"]
        steps = calibrate(prog, "pct-sync", 0,
                          strategy_params={"points": "field"})["sync_steps"]
    assert 3 <= field < sync <= field + 2  # + the lock word, + no access
    assert field < steps / 10  # a few fields, visited again and again
    assert calibrate(prog, "pct-site", 0) == {"sites": field}
    assert calibrate(prog, "pct-site", 0, strategy_params={"sites": 4}) == {
        "sites": 4}


def test_every_stall_of_a_fault_is_at_a_site_of_its_kind():
    class Spy(PctSiteStrategy):
        def next_thread(self, runnable, current, yielding=False):
            before = self._left
            got = super().next_thread(runnable, current, yielding)
            if before and not self._left:
                self.stalled.append(self._threads[self._lowered[0]].pending)
            return got

    prog = program(FAULT)
    params = calibrate(prog, "pct-site", 0)
    with applied(FAULT.mutant):
        stalls = []
        for index in range(8):
            spy = Spy(0, **params)
            spy.stalled = stalls
            spy.new_execution(index)
            ex = run_execution(prog, spy, index, record=0)
            assert ex.access_hook is PENDING_ONLY
    assert len(stalls) >= 4
    assert all(isinstance(p, Access) and not p.maple and p.word != "lock"
               for p in stalls), stalls


def test_portfolios_take_sites_only_with_a_pct_site_member():
    prog = program(FAULT)
    mixed = calibrate(prog, "portfolio", 3,
                      strategy_params={"members": "pct,pct-site", "points": "field"})
    assert mixed["sites"] == calibrate(prog, "pct-site", 3)["sites"]
    assert "sites" not in calibrate(prog, "portfolio", 3,
                                    strategy_params={"profile": "1:9"})


def test_a_portfolio_execution_is_its_pct_site_members_execution():
    prog = program(FAULT)

    def schedule(name, index, **p):
        strategy = make_strategy(name, 2, **p)
        strategy.new_execution(index)
        with applied(FAULT.mutant):
            return run_execution(prog, strategy, index, record=0).schedule()

    assert schedule("portfolio", 5, members="pct,pct-site", steps=300, sites=7,
                    points="field") == schedule("pct-site", 5, sites=7)


@pytest.mark.parametrize(("params", "message"), [
    ({"sites": "-1"}, "must be a non-negative integer"),
    ({"points": "nodes"}, "pct-site points must be one of sync, access, field"),
    ({"depth": "2"}, "has no parameter 'depth'"),
])
def test_bad_parameters_are_one_line_errors(params, message):
    with pytest.raises(PlanError, match=message) as info:
        check_strategy("pct-site", params)
    assert "\n" not in str(info.value)


def test_sites_are_bounded_by_the_execution():
    with pytest.raises(StrategyParamError, match="sites=500 exceeds the step bound"):
        check_bounds("pct-site", {"sites": 500}, 400)
    check_bounds("pct-site", {"sites": 400}, 400)
    with pytest.raises(ValueError, match="pct-site sites must be >= 0"):
        PctSiteStrategy(0, sites=-1)


def test_the_fallback_stalls_the_thread_at_the_drawn_sync_decision():
    strategy = PctSiteStrategy(3, sites=1, fallback_steps=9)
    strategy.new_execution(0)
    strategy._left = 3
    threads = _threads(SEQ, SEQ, NODE)
    strategy.watch(threads)
    first = strategy.next_thread([0, 1, 2], None)
    assert strategy._left == (3 if first == 2 else 2)  # a node word: not sync
    threads[first].pending = None  # no access (RCU, yield, free): sync
    while strategy._left > 1:
        assert strategy.next_thread([0, 1, 2], first) == first
    threads[first].pending = SEQ  # the same field again: counted again
    got = strategy.next_thread([0, 1, 2], first)
    assert got != first
    assert strategy._lowered == [first]
    assert strategy.keep > 0  # PCT without a change point from here on


def test_calibration_gives_the_fallback_only_below_two_sites():
    with_one = calibrate(sessions, "pct-site", 0)
    assert with_one["sites"] == 1
    assert 10 < with_one["fallback_steps"] < 200
    prog = program(FAULT)
    with applied(FAULT.mutant):
        assert "fallback_steps" not in calibrate(prog, "pct-site", 0)
        assert "fallback_steps" not in calibrate(prog, "aimed-site", 0)
    assert calibrate(sessions, "pct-site", 0, strategy_params={"sites": 1}) == {
        "sites": 1}  # a given site count is taken as it is
    assert calibrate(sessions, "aimed-site", 0)["fallback_steps"] == with_one[
        "fallback_steps"]


def test_with_one_site_it_finds_the_sessions_bug_by_its_fallback():
    params = calibrate(sessions, "pct-site", 0)
    found = explore(sessions, strategy="pct-site", executions=40, seed=0,
                    **params).findings
    assert [f.kind for f in found] == ["use-after-free"]
    without = {k: v for k, v in params.items() if k != "fallback_steps"}
    assert not explore(sessions, strategy="pct-site", executions=40, seed=0,
                       **without).findings


def test_the_fallback_is_bounded_and_only_below_two_sites():
    with pytest.raises(StrategyParamError, match="fallback_steps=500 exceeds"):
        check_bounds("pct-site", {"sites": 1, "fallback_steps": 500}, 400)
    with pytest.raises(StrategyParamError, match="only with fewer than 2 sites"):
        check_bounds("aimed-site", {"sites": 3, "fallback_steps": 40}, 400)
    with pytest.raises(ValueError, match="applies only with sites below 2"):
        PctSiteStrategy(0, sites=2, fallback_steps=40)
    with pytest.raises(ValueError, match="fallback_steps must be >= 0"):
        PctSiteStrategy(0, fallback_steps=-1)


def test_fallback_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    params = calibrate(sessions, "pct-site", 1)

    def run(index):
        strategy = make_strategy("pct-site", 1, **params)
        strategy.new_execution(index)
        return run_execution(sessions, strategy, index, record=2)

    assert_runs_are_byte_identical_and_replay(sessions, run, (0, 3, 4))


def test_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    prog = program(REUSE)

    def run(index):
        strategy = make_strategy("pct-site", 7, sites=9)
        strategy.new_execution(index)
        with applied(REUSE.mutant):
            return run_execution(prog, strategy, index, record=2)

    with applied(REUSE.mutant):
        assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))


def test_a_block_split_anywhere_gives_the_same_executions_and_seeds_replay():
    plan = resolve(SPEC)
    assert plan.strategy_params["sites"] > 1
    assert plan == resolve(SPEC)
    assert_blocks_split_exactly(plan, ((0, 5), (5, 6), (6, 12)))


def test_an_interrupted_run_resumes_to_the_same_executions(tmp_path):
    assert_resume_matches_whole(tmp_path, SPEC, 40, finds=True)


def test_it_stops_a_fault_inside_vma_start_read_while_the_vma_is_reused():
    """vma-reuse-skips-mm-check: a fault stopped in its first
    vma_start_read() while the owner unmaps and another mm reuses the VMA;
    pct-sync finds it in 1.2% of its executions, pct-site in 3.8%
    (reports/BENCHMARKS.md, *pct-site*); seed 0 in its fifth."""
    from rcu_harness import explore

    with applied(REUSE.mutant):
        result = explore(program(REUSE), strategy="pct-site", executions=5, seed=0)
    assert result.findings
    assert result.findings[0].kind == "vma-lock"


@pytest.mark.parametrize("prog", sorted(PROGRAMS))
def test_decisions_kept_after_the_stall_without_a_call_are_the_strategys(prog):
    assert_watching_keeper_is_asked("pct-site", {"sites": 2}, prog)


def test_after_the_stall_a_fault_makes_its_decisions_with_few_calls():
    """...and they are the decisions of the strategy asked at each one."""
    prog = program(REUSE)
    fast = make_strategy("pct-site", 0, sites=9)
    calls = [0]
    inner = fast.next_thread

    def counting(*args):
        calls[0] += 1
        return inner(*args)

    fast.next_thread = counting
    stalled = []
    with applied(REUSE.mutant):
        for i in range(8):
            calls[0] = 0
            fast.new_execution(i)
            ex = run_execution(prog, fast, i, record=0)
            if not fast._left:
                stalled.append((calls[0], sum(1 for d in ex.decisions if d >= 0)))
    assert len(stalled) >= 6  # the stall comes in most executions,
    assert all(made * 2 < decisions for made, decisions in stalled)  # early
    asked = WatchingAsking(make_strategy("pct-site", 0, sites=9))
    again = make_strategy("pct-site", 0, sites=9)
    with applied(REUSE.mutant):
        for i in range(4):
            assert _outcome(prog, again, i, 100_000) == _outcome(prog, asked, i,
                                                                  100_000)


DESTROY = configure(MUTANTS["destroy-frees-at-once"].scenario,
                    mutant="destroy-frees-at-once")


def _schedules(prog, name, seed, params, executions, cfg=None):
    """The schedules of executions 0..@executions-1 of @name made with @params."""
    out = []
    with applied(cfg.mutant if cfg else None):
        for index in range(executions):
            strategy = make_strategy(name, seed, **params)
            strategy.new_execution(index)
            out.append(run_execution(prog, strategy, index, record=0).schedule())
    return out


@pytest.mark.parametrize("name", ["pct-site", "pct-relay"])
def test_with_the_fallback_pct_below_two_sites_its_executions_are_pcts(name):
    params = calibrate(sessions, name, 3, strategy_params={"fallback": "pct"})
    steps = calibrate(sessions, "pct", 3)["steps"]
    assert params == {"fallback": "pct", "sites": 1, "fallback_steps": steps}
    pct = _schedules(sessions, "pct", 3, {"steps": steps}, 12)
    assert _schedules(sessions, name, 3, params, 12) == pct
    stall = _schedules(sessions, name, 3, calibrate(sessions, name, 3), 12)
    assert stall != pct  # the default fallback: a stall at a sync decision


def test_with_the_fallback_pct_reads_are_pcts_uniform_ones_whatever_reads_says():
    cfg = configure("tree_destroy", {"memory_model": "lkmm"})
    prog = program(cfg)
    params = calibrate(prog, "pct-site", 1, strategy_params={"fallback": "pct",
                                                             "reads": "oldest"})
    assert params["sites"] < 2
    pct = _schedules(prog, "pct", 1, {"steps": params["fallback_steps"]}, 6)
    assert _schedules(prog, "pct-site", 1, params, 6) == pct
    # the same PCT reading the oldest store: other schedules here
    oldest = []
    for index in range(6):
        strategy = make_strategy("pct", 1, steps=params["fallback_steps"])
        strategy.next_read = oldest_reads(strategy.next_read)
        strategy.new_execution(index)
        oldest.append(run_execution(prog, strategy, index, record=0).schedule())
    assert oldest != pct


def test_the_fallback_pct_changes_nothing_from_two_sites():
    prog = program(FAULT)
    with applied(FAULT.mutant):
        params = calibrate(prog, "pct-site", 5, strategy_params={"fallback": "pct"})
    assert params["sites"] >= 2
    assert "fallback_steps" not in params
    sync = {k: v for k, v in params.items() if k != "fallback"}
    assert (_schedules(prog, "pct-site", 5, params, 6, FAULT)
            == _schedules(prog, "pct-site", 5, sync, 6, FAULT))


def test_the_fallback_pct_finds_the_destroy_that_the_sync_stall_cannot():
    """destroy-frees-at-once needs a reader stopped inside its walk of the
    tree (at a maple word, never a sync decision) while mtree_destroy()
    frees the nodes: PCT finds it in about 17% of executions, the stall at a
    sync decision in none (reports/BENCHMARKS.md, *aimed-pct*)."""
    prog = program(DESTROY)
    with applied(DESTROY.mutant):
        pct = explore(prog, strategy="pct-site", executions=30, seed=0,
                      stop_on_first=False, fallback="pct")
        sync = explore(prog, strategy="pct-site", executions=30, seed=0,
                       stop_on_first=False)
    assert [f.kind for f in pct.findings] == ["use-after-free"] * len(pct.findings)
    assert sum(pct.counts.values()) >= 2
    assert not sync.findings


def test_a_fallback_other_than_sync_or_pct_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^pct-site fallback must be one of sync, "
                       r"pct \(got 'stall'\)$"):
        PctSiteStrategy(0, fallback="stall")
    with pytest.raises(PlanError, match="pct-relay fallback must be one of sync, pct"):
        check_strategy("pct-relay", {"fallback": "random"})
    assert check_strategy("pct-site", {"fallback": "pct"}) == {"fallback": "pct"}


@pytest.mark.parametrize("name", ["pct-site", "pct-relay"])
def test_with_stall_in_rcu_only_a_thread_inside_rcu_makes_a_site(name):
    strategy = make_strategy(name, 3, sites=2, stall_in="rcu")
    strategy.new_execution(0)
    strategy._left = 1
    threads = [SimpleNamespace(pending=SEQ, rcu_nesting=0),
               SimpleNamespace(pending=SEQ, rcu_nesting=1)]
    strategy.watch(threads)
    # the writer's first visit of vm_lock_seq, outside RCU, is no site
    assert strategy.next_thread([0], None) == 0
    assert (strategy._left, strategy._lowered) == (1, [])
    # the reader's, inside rcu_read_lock(), is: the drawn one, the stall
    assert strategy.next_thread([1], 0) == 1  # the only one runnable
    assert (strategy._left, strategy._lowered) == (0, [1])
    assert strategy.next_thread([0, 1], 1) == 0  # below the writer from now on


def test_with_stall_in_rcu_calibration_counts_the_sites_rcu_readers_reach():
    prog = program(FAULT)
    walk = SiteCounter(0, "field", "field")
    walk.new_execution(0)
    with applied(FAULT.mutant):
        run_execution(prog, walk, 0, record=0)
        any_site = calibrate(prog, "pct-site", 0)
        rcu = calibrate(prog, "pct-site", 0, strategy_params={"stall_in": "rcu"})
    assert any_site["sites"] == len(walk.sites)
    assert rcu["sites"] == len(walk.rcu_sites)
    assert 2 <= rcu["sites"] < any_site["sites"]
    assert walk.rcu_sites < walk.sites


def test_a_stall_in_other_than_any_rcu_or_rcu_or_any_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^pct-site stall_in must be one of any, "
                       r"rcu, rcu-or-any \(got 'readers'\)$"):
        PctSiteStrategy(0, stall_in="readers")
    with pytest.raises(PlanError, match="pct-relay stall_in must be one of any, rcu, "
                       "rcu-or-any"):
        check_strategy("pct-relay", {"stall_in": "all"})


def test_rcu_or_any_resolves_to_rcu_from_two_readers_sites_and_to_any_below():
    assert [resolve_stall_in("rcu-or-any", n) for n in (0, 1, 2, 7)] == [
        "any", "any", "rcu", "rcu"]
    assert [resolve_stall_in(form, 1) for form in ("any", "rcu")] == ["any", "rcu"]


@pytest.mark.parametrize(("mutant", "form"), [
    ("vma-reuse-skips-mm-check", "rcu"), ("vma-used-after-rcu-unlock", "any")])
def test_calibration_passes_rcu_or_any_on_resolved_with_that_forms_sites(mutant,
                                                                         form):
    """vma-reuse-skips-mm-check's walk reaches 4 readers' sites of 11 (seed
    0); vma-used-after-rcu-unlock's 1 of 2, so every thread's are drawn."""
    cfg = configure(MUTANTS[mutant].scenario, mutant=mutant)
    prog = program(cfg)
    with applied(mutant):
        either = calibrate(prog, "pct-site", 0,
                           strategy_params={"stall_in": "rcu-or-any"})
        alone = calibrate(prog, "pct-site", 0, strategy_params={"stall_in": form})
    assert either == {**alone, "stall_in": form}
    assert either["sites"] >= 2


@pytest.mark.parametrize("name", ["pct-site", "pct-relay"])
def test_unresolved_rcu_or_any_counts_readers_sites_as_rcu(name):
    prog = program(REUSE)

    def schedule(stall_in):
        strategy = make_strategy(name, 1, sites=4, stall_in=stall_in)
        strategy.new_execution(3)
        return run_execution(prog, strategy, 3, record=0).schedule()

    with applied(REUSE.mutant):
        assert schedule("rcu-or-any") == schedule("rcu") != schedule("any")


def test_with_stall_in_rcu_pct_site_finds_the_vma_reuse_window_more_often():
    """vma-reuse-skips-mm-check: a fault stopped inside vma_start_read()
    while the VMA is freed and reused; pct-site stalls the owner (holding
    the mmap_lock) in many executions, which never opens it (seed 0, 60
    executions: 3 finding executions with every thread's sites, 9 with the
    RCU readers' alone; 3.8% against 11.4% in 500)."""
    prog = program(REUSE)
    with applied(REUSE.mutant):
        found = {stall_in: explore(prog, strategy="pct-site", executions=60, seed=0,
                                   stop_on_first=False, stall_in=stall_in)
                 for stall_in in ("any", "rcu")}
    assert sum(found["rcu"].counts.values()) > sum(found["any"].counts.values())


MAPS = configure(MUTANTS["maps-skips-gap-check"].scenario,
                 mutant="maps-skips-gap-check")


def _readers(*pending):
    """Threads inside an RCU read-side section with @pending accesses."""
    return [SimpleNamespace(pending=p, rcu_nesting=1) for p in pending]


def test_with_aim_conflict_the_stall_is_a_readers_act_and_every_later_one_stalls():
    strategy = PctSiteStrategy(3, sites=4, stall_in="rcu", aim="conflict",
                               acts="vm_refcnt")
    strategy.new_execution(0)
    assert strategy._left == 1  # one act: drawn among one
    writer = SimpleNamespace(pending=REF, rcu_nesting=0)
    threads = [writer, *_readers(SEQ, Access(0x100, "vm_refcnt", -1, False),
                                 REF, REF)]
    strategy.watch(threads)
    assert strategy.next_thread([0], None) == 0  # outside RCU: no act
    assert strategy.next_thread([1], 0) == 1  # a load of another field
    assert strategy.next_thread([2], 1) == 2  # a load of the act's field
    assert (strategy._left, strategy._lowered) == (1, [])
    assert strategy.next_thread([3], 2) == 3  # a reader's store: the stall
    assert strategy._lowered == [3]
    assert strategy.keep == 0  # asked on: the next reader there stalls too
    assert strategy.next_thread([0, 3], 3) == 0  # below the writer now
    assert strategy.next_thread([4], 0) == 4
    assert strategy._lowered == [4, 3]  # below the first, which resumes first
    assert strategy.next_thread([3, 4], None) == 3
    assert strategy.next_thread([3, 4], 3) == 3  # each stalls once
    assert strategy._lowered == [4, 3]


def test_with_aim_conflict_and_no_acts_the_drawn_sites_later_visitors_stall_too():
    strategy = _strategy(4, 1, stall_in="rcu", aim="conflict")
    strategy.watch(_readers(SEQ, SEQ, REF))
    assert strategy.next_thread([0], None) == 0  # the drawn site: the stall
    assert (strategy._site, strategy._lowered) == ("vm_lock_seq", [0])
    assert strategy.next_thread([1], 0) == 1  # the same field: stalled too
    assert strategy._lowered == [1, 0]
    assert strategy.next_thread([2], 1) == 2  # another field: not
    assert strategy._lowered == [1, 0]
    assert strategy.next_thread([0, 1], None) == 0


def test_the_default_aim_site_neither_takes_acts_nor_stalls_twice():
    strategy = _strategy(4, 1, stall_in="rcu")
    assert strategy.aim == "site"
    strategy.watch(_readers(SEQ, SEQ))
    assert strategy.next_thread([0], None) == 0
    assert strategy.next_thread([1], 0) == 1
    assert strategy._lowered == [0]
    assert strategy.keep  # its answer is kept after the one stall


@pytest.mark.parametrize(("params", "message"), [
    ({"aim": "race"}, r"^pct-site aim must be one of site, conflict \(got 'race'\)$"),
    ({"acts": "vm_refcnt"},
     r"^pct-site acts applies only with aim=conflict \(got aim=site\)$"),
])
def test_aim_and_acts_are_refused_in_one_line(params, message):
    with pytest.raises(ValueError, match=message):
        PctSiteStrategy(0, **params)


def test_calibration_gives_aim_conflict_the_acts_of_the_walks_readers():
    """maps-skips-gap-check: the one field a reader stores to inside
    rcu_read_lock() is vm_refcnt (vma_start_read()'s reference); with
    aim=site calibration is what it was."""
    prog = program(MAPS)
    with applied(MAPS.mutant):
        site = calibrate(prog, "pct-site", 0, strategy_params={"stall_in": "rcu"})
        conflict = calibrate(prog, "pct-site", 0,
                             strategy_params={"stall_in": "rcu", "aim": "conflict"})
        portfolio = calibrate(prog, "portfolio", 0, strategy_params={
            "members": "pct-site,pct-relay", "stall_in": "rcu", "aim": "conflict"})
    assert "acts" not in site
    assert "conflicts" not in site
    assert conflict == {**site, "aim": "conflict", "acts": "vm_refcnt"}
    assert portfolio["acts"] == "vm_refcnt"
    assert "sequence" in portfolio["conflicts"].split(",")


def test_calibration_gives_no_acts_where_the_form_is_every_threads_sites():
    cfg = configure(MUTANTS["vma-used-after-rcu-unlock"].scenario,
                    mutant="vma-used-after-rcu-unlock")
    with applied(cfg.mutant):
        params = calibrate(program(cfg), "pct-site", 0, strategy_params={
            "stall_in": "rcu-or-any", "aim": "conflict"})
    assert params["stall_in"] == "any"
    assert "acts" not in params


def test_aim_conflict_traces_are_byte_identical_for_a_seed_and_replay_exactly():
    prog = program(MAPS)

    def run(index):
        strategy = make_strategy("pct-site", 7, sites=8, stall_in="rcu",
                                 aim="conflict", acts="vm_refcnt")
        strategy.new_execution(index)
        with applied(MAPS.mutant):
            return run_execution(prog, strategy, index, record=2)

    with applied(MAPS.mutant):
        assert_runs_are_byte_identical_and_replay(prog, run, (0, 3, 4))


def test_with_aim_conflict_pct_site_finds_the_maps_gap_more_often():
    """maps-skips-gap-check: the /proc/PID/maps reader stopped before its
    vm_refcnt increment while the owner unmaps the VMA and a new mapping
    reuses it; the drawn site is rarely that one, and its first visitor
    often a fault (seed 0, 40 executions: 3 finding executions with
    readers' sites, 9 with aim=conflict; reports/BENCHMARKS.md, *pct-site's
    conflict aim*)."""
    prog = program(MAPS)
    with applied(MAPS.mutant):
        found = {aim: explore(prog, strategy="pct-site", executions=40, seed=0,
                              stop_on_first=False, stall_in="rcu", aim=aim)
                 for aim in ("site", "conflict")}
    assert sum(found["conflict"].counts.values()) > sum(
        found["site"].counts.values())


DEFAULT_AIM = {
    ("maps-skips-gap-check", "pct-site"): "6e6081a99c1931cfdcf77c1d995c3936",
    ("maps-skips-gap-check", "pct-relay"): "6fc7ad1eca0298c48165e202292083d1",
    ("maps-skips-gap-check", "aimed-rcu"): "7c9c4b80468bab8a60235f4c554f4142",
    ("vma-start-read-skips-seq-recheck", "pct-site"):
        "2aaca376ccbf8713ae894ae8d705299d",
    ("vma-start-read-skips-seq-recheck", "pct-relay"):
        "813a6058e8995e0917e02f32af87c1e0",
    ("vma-start-read-skips-seq-recheck", "aimed-rcu"):
        "e45ea3fcaba2d3a14a5d1f525d15ac4f",
}
"""Digests of the schedules of executions 0..5 (seed 0, calibrated;
pct-site and pct-relay with ``stall_in=rcu``), recorded on main at
8193e15, before ``aim``."""


@pytest.mark.parametrize(("mutant", "name"), sorted(DEFAULT_AIM))
def test_the_default_aim_keeps_the_executions_made_before_aim_existed(mutant, name):
    import hashlib

    cfg = configure(MUTANTS[mutant].scenario, mutant=mutant)
    prog = program(cfg)
    given = {} if name == "aimed-rcu" else {"stall_in": "rcu"}
    digest = hashlib.blake2b(digest_size=16)
    with applied(cfg.mutant):
        params = calibrate(prog, name, 0, strategy_params=given)
        strategy = make_strategy(name, 0, **params)
        for index in range(6):
            strategy.new_execution(index)
            digest.update(run_execution(prog, strategy, index,
                                        record=0).schedule().encode().encode())
    assert "aim" not in params
    assert digest.hexdigest() == DEFAULT_AIM[(mutant, name)]
