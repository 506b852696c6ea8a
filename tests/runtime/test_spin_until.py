"""A thread waiting in spin_until() is not run just to yield again: the
execution makes its loop's yield points itself, and every execution is the
one the plain loop ``while not ready(): schedule()`` gives (the same
decisions, steps, counters and findings), for every kind of strategy,
through the step bound's fair continuation and with events recorded."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

from rcu_harness.kernel import SimStruct, schedule
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.current import current
from rcu_harness.scenarios import dup_mmap
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sync import sleep

if TYPE_CHECKING:
    from collections.abc import Callable

STRATEGIES = ("random", "pct", "mix", "surw", "pos", "random-sync", "pct-sync",
              "pct-site", "aimed-data")


def plain_spin_until(ready: Callable[[], bool],
                     calls: dict[str, int] | None = None) -> None:
    """spin_until() without parking: the thread runs every iteration
    (counted in @calls["plain"] if given)."""
    ex = current()
    while not ex.read_quietly(ready):
        if calls is not None:
            calls["plain"] += 1
        schedule()


class Work(SimStruct):
    fields = ("value",)


def waiting(h: Any, *, spin: Callable[[Callable[[], bool]], None]) -> None:
    """Two waiters spin on flags a worker sets, one half way through its
    work, one at its end."""
    work = h.static(Work, value=0)
    state = {"half": False, "done": False}

    def worker() -> None:
        for i in range(12):
            work.value = i
            if i == 5:
                state["half"] = True
        state["done"] = True

    def waiter(key: str) -> None:
        spin(lambda: state[key])
        h.count(f"released_{key}")

    h.spawn("worker", worker)
    h.spawn("w-half", waiter, "half")
    h.spawn("w-done", waiter, "done")


def outcomes(setup: Callable[[Any], None], name: str, n: int, *,
             max_steps: int = 100_000, record: int = 0) -> list[Any]:
    strategy = make_strategy(name, 0, **calibrate(setup, name, 0))
    out = []
    for i in range(n):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, max_steps=max_steps, record=record)
        v = ex.violation
        out.append((ex.decisions, ex.values, ex.step, sorted(ex.counters.items()),
                    None if v is None else (str(v.kind), _threads(v.key))))
    return out


def _threads(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A livelock's key names each thread's function: the plain loop's is
    this module's, spin_until's the thread's own (a harness frame)."""
    return tuple(k.split(":")[0] if isinstance(k, str) else k for k in key)


def parked(h: Any) -> None:
    waiting(h, spin=sleep.spin_until)


def plain(h: Any) -> None:
    waiting(h, spin=plain_spin_until)


@pytest.mark.parametrize("name", ["random", "pct", "surw", "pos", "random-sync",
                                  "mix"])
def test_waiters_make_the_plain_loops_executions(name: str) -> None:
    assert outcomes(parked, name, 12) == outcomes(plain, name, 12)


@pytest.mark.parametrize("name", ["random", "pct"])
def test_the_fair_continuation_after_the_step_bound_is_the_same(name: str) -> None:
    got = outcomes(parked, name, 8, max_steps=8)
    assert got == outcomes(plain, name, 8, max_steps=8)
    assert any(steps > 8 for _d, _v, steps, _c, _f in got)


def test_recorded_executions_run_the_waiter_and_decide_the_same() -> None:
    recorded = outcomes(parked, "random", 6, record=1)
    assert recorded == outcomes(parked, "random", 6)
    assert recorded == outcomes(plain, "random", 6, record=1)


def test_the_waiter_runs_only_when_its_condition_holds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"parked": 0, "plain": 0}

    def counted() -> None:
        calls["parked"] += 1
        schedule()

    monkeypatch.setattr(sleep, "schedule", counted)
    outcomes(parked, "random", 10)
    outcomes(partial(waiting, spin=partial(plain_spin_until, calls=calls)),
             "random", 10)
    assert calls["plain"] > 3 * calls["parked"] > 0


@pytest.mark.parametrize("name", STRATEGIES)
def test_dup_mmap_child_readers_wait_as_the_plain_loop_does(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = program(configure("dup_mmap"))
    got = outcomes(setup, name, 4)
    monkeypatch.setattr(dup_mmap, "spin_until", plain_spin_until)
    assert got == outcomes(program(configure("dup_mmap")), name, 4)
