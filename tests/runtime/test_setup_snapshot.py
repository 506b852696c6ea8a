"""Setup snapshots: a replayed populate() builds the world the model builds.

Every execution of each scenario and design is run twice, once with
snapshots (the first execution records, the others replay) and once
without, and compared: the whole world reachable from the execution right
after setup (every object's class and state, identities by discovery
order, call chains by their frames), the schedule, counters, metrics and
any finding.
"""

from __future__ import annotations

import hashlib
import types
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest

from rcu_harness.memory.heap import FREED
from rcu_harness.patches import Patch, patched
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime import snapshot
from rcu_harness.runtime.callchain import CallChain
from rcu_harness.runtime.execution import PendingOnly
from rcu_harness.runtime.snapshot import Recorder, Uncacheable, shallow, walk
from rcu_harness.scenarios import mm as mm_mod
from rcu_harness.scenarios import populate_cache
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.scenarios.design import Design
from rcu_harness.scenarios.mm import mm_alloc, populate, vma_layout
from rcu_harness.sched.registry import make_strategy


def _atom(v: Any) -> Any:
    if isinstance(v, CallChain):
        return tuple((c.co_name, c.co_filename, line) for c, line in v.frames)
    if isinstance(v, (types.FunctionType, types.MethodType,
                      types.BuiltinFunctionType, types.MethodWrapperType)):
        return ("fn", v.__qualname__)
    if isinstance(v, (types.CodeType, type)):
        return ("code", v.__qualname__)
    if isinstance(v, Enum):
        return ("enum", type(v).__name__, v.name)
    return v


def world_digest(roots: list[Any]) -> str:
    """Every object reachable from @roots, identities as discovery order
    (wall-clock times of latency spans left out)."""
    objs = walk(roots)
    order = {i: n for n, i in enumerate(objs)}

    def canon(x: Any) -> Any:
        if isinstance(x, tuple) and len(x) == 2 and x[0] == "@":
            return ("@", order.get(x[1], "outside"))
        if isinstance(x, tuple) and len(x) == 2 and str(x[0]).endswith("_ns"):
            return (x[0], "wall-clock")
        if isinstance(x, tuple):
            return tuple(canon(y) for y in x)
        if isinstance(x, frozenset):
            return tuple(sorted(repr(canon(y)) for y in x))
        return _atom(x)

    h = hashlib.blake2b(digest_size=16)
    for obj in objs.values():
        h.update(repr((type(obj).__qualname__, canon(shallow(obj)))).encode())
    return h.hexdigest()


def _run(scenario: str, n: int, on: bool, monkeypatch: pytest.MonkeyPatch,
         strategy_name: str = "mix",
         **params: Any) -> tuple[list[Any], dict[Any, Any]]:
    monkeypatch.setattr(snapshot, "ENABLED", on)
    cfg = configure(scenario, params)
    inner = program(cfg)
    out: list[Any] = []
    cache: dict[Any, Any] = {}

    def setup(h: Any) -> None:
        inner(h)
        if h.setup_cache is not None:
            cache.update(h.setup_cache)
        out.append(world_digest([h._ex, h._port]))

    strategy = make_strategy(strategy_name, 0)
    for i in range(n):
        strategy.new_execution(i)
        ex = run_execution(setup, strategy, i, record=0)
        v = ex.violation
        out.append((ex.schedule().encode(), sorted(ex.counters.items()), ex.step,
                    v and (v.message, v.body, v.key), ex.heap.total_allocated,
                    ex.heap.total_freed, world_digest([ex])))
    return out, cache


CASES = [(s, d) for s in ("dup_mmap", "rcu_transitions", "mmput_race")
         for d in ("2021", "2023", "modern", "vma_refcnt")] + [
    ("page_fault", "modern"), ("stack_expand", "2023"), ("tree_destroy", ""),
    ("rcu_transitions", "2021-la57")]


@pytest.mark.parametrize(("scenario", "design"), CASES)
def test_replayed_world_is_the_built_world(scenario: str, design: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    params: dict[str, Any] = {"design": design.split("-")[0]} if design else {}
    if design.endswith("la57"):
        params["layout"] = "la57"
    on, cache = _run(scenario, 4, True, monkeypatch, **params)
    off, _ = _run(scenario, 4, False, monkeypatch, **params)
    assert on == off
    assert cache
    assert all(callable(r) for r in cache.values()), cache


def test_default_scenarios_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    for scenario in ("dup_mmap", "rcu_transitions", "mmput_race"):
        _, cache = _run(scenario, 2, True, monkeypatch)
        assert [callable(r) for r in cache.values()] == [True], scenario


@pytest.mark.parametrize("strategy_name", ["pct-site", "random-sync"])
def test_a_watching_strategy_replays_setup_from_its_own_snapshot(
        strategy_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A strategy that reads pending accesses installs a passive hook: its
    setup is replayed too, from a snapshot of its own (the hook's class is
    in the key), to the world the model builds."""
    on, cache = _run("mmput_race", 4, True, monkeypatch, strategy_name)
    off, _ = _run("mmput_race", 4, False, monkeypatch, strategy_name)
    assert on == off
    assert [callable(r) for r in cache.values()] == [True]
    assert [key[-1] for key in cache] == [PendingOnly]


def test_no_replay_under_patches_events_or_lkmm(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = populate_cache.replay_or_build

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(populate_cache, "replay_or_build", spy)
    setup = program(configure("mmput_race"))
    strategy = make_strategy("random", 0)
    noop = Patch(mm_mod.vma_layout, mm_mod.vma_layout)
    with patched([noop]):
        run_execution(setup, strategy, 0, record=0)
    run_execution(setup, strategy, 0, record=1)
    run_execution(program(configure("mmput_race", {"memory_model": "lkmm"})),
                  strategy, 0, record=0)
    assert calls == []
    run_execution(setup, strategy, 0, record=0)
    assert calls == [1]


def test_a_program_keeps_a_bounded_number_of_snapshots(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond SNAPSHOTS_PER_PROGRAM states, populate() builds through the
    model without recording (a worker keeps its program for a whole run)."""
    monkeypatch.setattr(populate_cache, "SNAPSHOTS_PER_PROGRAM", 2)
    cache: dict[Any, Any] = {}

    def setup(h: Any) -> None:
        h.setup_cache = cache
        for n in range(4):
            populate(h, mm_alloc(h, f"mm{n}", Design.D2021), vma_layout(3, seed=n))

    def digest() -> list[tuple[str, int, int]]:
        out = []
        for i in range(2):
            ex = run_execution(setup, make_strategy("random", 0), i, record=0)
            out.append((ex.schedule().encode(), ex.heap.total_allocated,
                        len(ex.heap.records)))
        return out

    capped = digest()
    assert len(cache) == 2
    monkeypatch.setattr(snapshot, "ENABLED", False)
    assert capped == digest()


def _uaf_program(h: Any) -> None:
    mm = mm_alloc(h, "mm", Design.D2021)
    populate(h, mm, vma_layout(12, seed=3))
    freed = [r.obj for r in h._ex.heap.records.values()
             if r.type_name == "maple_node" and r.obj._w & FREED]

    def reader() -> None:
        freed[0].slot[0]

    h.spawn("reader", reader)


def test_use_after_free_of_a_setup_node_reported_the_same() -> None:
    """A node freed in a replayed setup is caught at the access, and the
    report (allocation, death and free sites, address) is the built one's."""
    cache: dict[Any, Any] = {}

    def setup(h: Any) -> None:
        h.setup_cache = cache
        _uaf_program(h)

    reports = []
    for i in range(3):
        ex = run_execution(setup, make_strategy("random", 0), i, record=0)
        assert ex.violation is not None
        reports.append((ex.violation.message, ex.violation.body, ex.violation.key))
    assert callable(next(iter(cache.values())))
    assert reports[0] == reports[1] == reports[2]
    assert "use-after-free" in reports[0][0]


class _Box:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.n = 0


def test_recorder_replays_roles_and_new_objects() -> None:
    role, other = _Box(), _Box()
    rec = Recorder({"role": role, "items": role.items}, [other])
    made = _Box()
    made.items = [role, (made, 1)]
    role.items.append(made)
    role.n = 5
    replay = rec.finish(made)
    fresh = _Box()
    out = replay({"role": fresh, "items": fresh.items})
    assert fresh.n == 5
    assert fresh.items == [out]
    assert out.items[0] is fresh
    assert out.items[1][0] is out
    assert out is not made


def test_recorder_refuses_what_it_cannot_replay() -> None:
    role, other = _Box(), _Box()
    rec = Recorder({"role": role}, [other])
    other.n = 1  # an older object that is no role changed
    with pytest.raises(Uncacheable):
        rec.finish(None)
    rec = Recorder({"role": role, "items": role.items}, [other])
    role.items.append(lambda: None)  # a function made by the step, no closure
    with pytest.raises(Uncacheable):
        rec.finish(None)
    rec = Recorder({"role": role, "items": role.items}, [other])
    role.items.append(other)  # refers to an older object that is no role
    with pytest.raises(Uncacheable):
        rec.finish(None)


def _call(box: _Box) -> int:
    return box.n


def test_recorder_remakes_closures_over_roles() -> None:
    """An RCU callback made in setup (a closure over the port) is remade
    over the new execution's object."""
    role = _Box()
    rec = Recorder({"role": role, "items": role.items})

    def callback() -> int:
        return _call(role)

    role.items.append(callback)
    replay = rec.finish(None)
    fresh = _Box()
    fresh.n = 7
    replay({"role": fresh, "items": fresh.items})
    assert fresh.items[0] is not callback
    assert fresh.items[0]() == 7


@dataclass(frozen=True, slots=True)
class _Frozen:
    box: _Box
    n: int


def test_recorder_remakes_frozen_instances() -> None:
    role = _Box()
    rec = Recorder({"role": role, "items": role.items})
    role.items.append(_Frozen(role, 3))
    replay = rec.finish(None)
    fresh = _Box()
    replay({"role": fresh, "items": fresh.items})
    assert fresh.items == [_Frozen(fresh, 3)]
    assert fresh.items[0].box is fresh


class _Guarded(_Box):
    """A class whose __setattr__ refuses changes after setup."""

    sealed = False

    def __setattr__(self, name: str, value: Any) -> None:
        if self.sealed:
            raise AttributeError(f"{name} is sealed")
        super().__setattr__(name, value)


def test_a_roles_changed_attribute_is_stored_plainly() -> None:
    """A plain store (not through ``__dict__``, which would give the object
    a dictionary of its own in CPython 3.11 and slow every later access)."""
    role = _Box()
    rec = Recorder({"role": role, "items": role.items})
    role.n = 4
    replay = rec.finish(None)
    assert "__dict__" not in replay.__code__.co_names
    fresh = _Box()
    replay({"role": fresh, "items": fresh.items})
    assert fresh.n == 4


def test_a_custom_setattr_is_still_bypassed() -> None:
    role = _Guarded()
    rec = Recorder({"role": role, "items": role.items})
    role.n = 4
    replay = rec.finish(None)
    assert "__dict__" in replay.__code__.co_names
    fresh = _Guarded()
    _Guarded.sealed = True
    try:
        replay({"role": fresh, "items": fresh.items})
    finally:
        _Guarded.sealed = False
    assert fresh.n == 4
