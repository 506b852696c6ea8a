"""Decisions the execution makes without calling the strategy (pct's keeper
leasing the current thread, random's uniform draw made in the hot path) are
the decisions the strategy's call makes: the same schedules, steps,
counters and findings as the same strategy asked at every decision, through
the step bound's fair continuation, livelocks, blocking and waking."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from rcu_harness.kernel import SimStruct, SpinLock, schedule, spin_lock, spin_unlock
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy


class Flag(SimStruct):
    fields = ("value",)


class Asking:
    """@inner asked at every decision: no keeper, no uniform draw."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    @property
    def execution_seed(self) -> int:
        return int(self.inner.execution_seed)

    def new_execution(self, index: int) -> bool:
        return bool(self.inner.new_execution(index))

    def next_thread(self, runnable: Any, current: Any, yielding: bool = False) -> int:
        self.calls += 1
        return int(self.inner.next_thread(runnable, current, yielding))

    def next_u64(self) -> int:
        return int(self.inner.next_u64())

    def next_read(self, options: int, thread: int) -> int:
        return int(self.inner.next_read(options, thread))


def busy_wait(h: Any, *, yields: bool) -> None:
    """A waiter polls a flag a writer sets after some work (pct starves the
    writer in some executions without the yield: the fair continuation)."""
    flag = h.static(Flag, value=0)
    work = h.static(Flag, value=0)

    def waiter() -> None:
        while not flag.value:
            if yields:
                schedule()

    def writer() -> None:
        for i in range(20):
            work.value = i
        flag.value = 1

    h.spawn("waiter", waiter)
    h.spawn("writer", writer)


def polite(h: Any) -> None:
    """Two threads that never stop giving way: a livelock."""
    mine, theirs = h.static(Flag, value=1), h.static(Flag, value=1)

    def spin(me: Any, other: Any) -> None:
        while other.value:
            me.value = 0
            me.value = 1

    h.spawn("a", spin, mine, theirs)
    h.spawn("b", spin, theirs, mine)


def locking(h: Any) -> None:
    """Threads that block on a lock, wake, spawn a thread and exit."""
    lock = SpinLock("L")
    cell = h.static(Flag, value=0)

    def worker(n: int) -> None:
        for i in range(n):
            spin_lock(lock)
            cell.value = i
            cell.value = cell.value + 1
            spin_unlock(lock)
            cell.value = i

    def spawner() -> None:
        worker(3)
        h.spawn("late", worker, 4)
        worker(3)

    h.spawn("a", worker, 5)
    h.spawn("b", worker, 6)
    h.spawn("c", spawner)


def failing(h: Any) -> None:
    """A thread fails while others are inside ``try``/``finally`` blocks that
    load shared words: those loads run while the execution is torn down."""
    cell = h.static(Flag, value=0)

    def reader() -> None:
        try:
            for _ in range(30):
                cell.value  # noqa: B018 - a load
        finally:
            for _ in range(5):
                cell.value  # noqa: B018

    def writer() -> None:
        for i in range(25):
            cell.value = i
        raise ValueError("the writer fails")

    h.spawn("r1", reader)
    h.spawn("w", writer)
    h.spawn("r2", reader)


def _outcome(prog: Any, strategy: Any, i: int, max_steps: int) -> tuple[Any, ...]:
    strategy.new_execution(i)
    ex = run_execution(prog, strategy, i, max_steps=max_steps, record=0)
    message = ex.violation.message if ex.violation is not None else None
    return (ex.schedule().encode(), ex.step, sorted(ex.counters.items()), message)


PROGRAMS = {
    "busy-wait": (partial(busy_wait, yields=False), 300),
    "busy-wait-yielding": (partial(busy_wait, yields=True), 300),
    "livelock": (polite, 400),
    "locking": (locking, 10_000),
    "failing": (failing, 10_000),
}


class WatchingAsking(Asking):
    """@inner asked at every decision, its pending accesses watched."""

    def watch(self, threads: Any) -> bool:
        return bool(self.inner.watch(threads))


def assert_watching_keeper_is_asked(name: str, params: dict[str, Any],
                                    prog: str) -> None:
    """Executions 0-11 of strategy @name (seed 5, @params) on PROGRAMS[@prog]
    are the same whether its keeper makes decisions without a call or it is
    asked at every one (a strategy that watches pending accesses)."""
    program_fn, max_steps = PROGRAMS[prog]
    fast = make_strategy(name, 5, **params)
    asked = WatchingAsking(make_strategy(name, 5, **params))
    for i in range(12):
        assert _outcome(program_fn, fast, i, max_steps) == \
            _outcome(program_fn, asked, i, max_steps), (prog, i)


@pytest.mark.parametrize("name", ["pct", "random", "mix"])
@pytest.mark.parametrize("prog", sorted(PROGRAMS))
def test_decisions_made_without_a_call_are_the_strategys(name: str, prog: str) -> None:
    program_fn, max_steps = PROGRAMS[prog]
    fast = make_strategy(name, 5)  # pct with no steps: it counts them itself
    asked = Asking(make_strategy(name, 5))
    for i in range(12):
        assert _outcome(program_fn, fast, i, max_steps) == \
            _outcome(program_fn, asked, i, max_steps), (name, prog, i)
    if name != "random":  # pct counted the decisions it did not make
        fast.new_execution(12)
        asked.new_execution(12)
        pct_fast = getattr(fast, "pct", fast)
        pct_asked = getattr(asked.inner, "pct", asked.inner)
        assert pct_fast.estimated_steps == pct_asked.estimated_steps


@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
def test_default_scenarios_make_the_asked_decisions_with_few_calls(
        scenario: str) -> None:
    setup = program(configure(scenario))
    params = calibrate(setup, "mix", 0)
    fast = make_strategy("mix", 0, **params)
    asked = Asking(make_strategy("mix", 0, **params))
    decisions = 0
    for i in range(4):
        got = _outcome(setup, fast, i, 100_000)
        calls = asked.calls
        want = _outcome(setup, asked, i, 100_000)
        assert got == want, (scenario, i)
        if i % 2 == 0:  # pct's executions
            decisions += asked.calls - calls
    pct_calls = [0]
    inner = fast.pct.next_thread

    def counting(*args: Any) -> int:
        pct_calls[0] += 1
        return int(inner(*args))

    fast.pct.next_thread = counting  # type: ignore[method-assign]
    for i in (0, 2):
        fast.new_execution(i)
        fast.next_thread = counting  # type: ignore[method-assign]
        run_execution(setup, fast, i, record=0)
    # pct is asked at change points and when the runnable set changed
    assert pct_calls[0] * 5 < decisions


def test_only_strategies_that_decide_as_pct_or_random_offer_a_shortcut() -> None:
    portfolio = make_strategy("portfolio", 3, members="pct,random,pct-sync,random-sync",
                              steps=100, sync_steps=10)
    offered = []
    for i in range(4):
        portfolio.new_execution(i)
        keeper = portfolio.keeper
        offered.append((keeper is not None, portfolio.uniform is not None,
                        keeper is not None and keeper.keeps_maple))
    # pct-sync and random-sync decide from pending accesses: only their
    # answer at a maple word is kept
    assert offered == [(True, False, False), (False, True, False),
                       (True, False, True), (True, False, True)]
    fallback = make_strategy("pct-site", 3, fallback_steps=50, fallback="pct")
    assert not fallback.keeper.keeps_maple  # PCT's change points fall anywhere
    stall = make_strategy("pct-site", 3, fallback_steps=50)
    assert stall.keeps_maple
    assert not stall.keeps_none  # its sync decisions count those
    conflict = make_strategy("pct-site", 3, points="sync", aim="conflict")
    assert conflict.keeps_none  # the conflict aim stalls at fields alone
    for name in ("pos", "surw", "rff", "dfs"):
        strategy = make_strategy(name, 3)
        strategy.new_execution(0)
        assert getattr(strategy, "keeper", None) is None, name
        assert getattr(strategy, "uniform", None) is None, name


class MapleDrawing:
    """The random walk claiming ``keeps_maple`` although it draws at every
    decision, maple words included: a false claim."""

    keep = 0
    keeps_maple = True

    def __init__(self, seed: int) -> None:
        self.inner = make_strategy("random", seed)
        self.execution_seed = self.inner.execution_seed
        self.keeper = self

    def new_execution(self, index: int) -> bool:
        ok = bool(self.inner.new_execution(index))
        self.execution_seed = self.inner.execution_seed
        return ok

    def watch(self, threads: Any) -> bool:
        return True

    def skip(self, n: int) -> None:
        pass

    def next_thread(self, runnable: Any, current: Any, yielding: bool = False) -> int:
        return int(self.inner.next_thread(runnable, current, yielding))

    def next_u64(self) -> int:
        return int(self.inner.next_u64())

    def next_read(self, options: int, thread: int) -> int:
        return int(self.inner.next_read(options, thread))


MAPLE_KEEPERS = [
    ("pct-site", {}), ("pct-site", {"aim": "conflict"}),
    ("pct-site", {"points": "sync"}), ("pct-relay", {}),
    ("pct-relay", {"aim": "conflict"}), ("pct-sync", {}),
    ("pct-sync", {"points": "access"}), ("random-sync", {}),
    ("random-sync", {"points": "sync"}),
]


@pytest.mark.parametrize(("name", "params"), MAPLE_KEEPERS)
@pytest.mark.parametrize("scenario", ["rcu_transitions", "mmput_race"])
def test_maple_words_are_kept_without_a_call_as_the_strategy_answers(
        name: str, params: dict[str, Any], scenario: str) -> None:
    """A watching strategy that decides only at other points makes its
    decisions at maple words (and, where its ``points`` do not count them,
    at points without an access) without a call: the same executions as
    asked at every decision, with far fewer calls."""
    setup = program(configure(scenario))
    params = {**calibrate(setup, name, 0), **params}
    fast = make_strategy(name, 0, **params)
    asked = WatchingAsking(make_strategy(name, 0, **params))
    calls = [0]
    inner = fast.next_thread

    def counting(*args: Any) -> int:
        calls[0] += 1
        return int(inner(*args))

    fast.next_thread = counting  # type: ignore[method-assign]
    for i in range(3):
        want = _outcome(setup, asked, i, 100_000)
        assert _outcome(setup, fast, i, 100_000) == want, (name, scenario, i)
    assert calls[0] * 4 < asked.calls  # most decisions are at maple words


def test_a_false_keeps_maple_claim_changes_the_executions() -> None:
    """The comparison above has teeth: a strategy that draws at maple words
    but claims to keep them makes other schedules than asked."""
    setup = program(configure("rcu_transitions"))
    differ = [_outcome(setup, MapleDrawing(0), i, 100_000)
              != _outcome(setup, WatchingAsking(MapleDrawing(0)), i, 100_000)
              for i in range(3)]
    assert all(differ)


def test_a_false_keeps_none_claim_changes_the_executions() -> None:
    """...and so does pct-sync counting points without an access
    (``points=sync``) while it claims to keep them."""
    setup = program(configure("rcu_transitions"))
    params = calibrate(setup, "pct-sync", 0)
    false = make_strategy("pct-sync", 0, **params)
    assert not false.keeps_none
    false.keeps_none = True
    asked = WatchingAsking(make_strategy("pct-sync", 0, **params))
    differ = [_outcome(setup, false, i, 100_000) != _outcome(setup, asked, i, 100_000)
              for i in range(4)]
    assert any(differ)
