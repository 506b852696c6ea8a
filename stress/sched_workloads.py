"""The workloads of bench_sched.py, shared by its two modes.

A *case* is a workload (a program) and a strategy, prepared as a run
prepares it (:func:`prepare`): calibrated by
:func:`~rcu_harness.runner.block.calibrate` (pct's ``steps``, pct-sync's
``sync_steps``, surw's ``profile``; the calibration executions are not
measured), and a guided strategy (rff) mutating a corpus entry made by one
execution of the workload (not measured).  A *round* (:func:`run_round`)
is one execution per member of the strategy: mix's executions 0 (pct) and
1 (random), a portfolio's 0..n-1 (one per member), one execution
otherwise; its cost per point is then the members' points weighted by how
many points each makes.  The wall-clock mode times rounds, the callgrind
mode (stress/sched_probe.py) counts their instructions.

Workloads:

* ``simstruct``: 4 threads, each doing N loads/stores of published SimStruct
  fields (every access a scheduling point);
* ``maple``: 2 readers iterating a maple tree under rcu_read_lock() while a
  writer stores in RCU mode (model work included, so it is slower per point);
* ``maple-noprivate``: the same with the private-node optimisation off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import greenlet

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.reads_from import ReadsFromCoverage
from rcu_harness.kernel import SimStruct
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.protocol import Guided
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.rff import CorpusEntry

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_STEPS = 10**8


class Cell(SimStruct):
    fields = ("value", "other")


def bare_roundtrips(n: int) -> None:
    """@n switch round trips between two greenlets."""

    def pong() -> None:
        while True:
            ping.switch()

    def run() -> None:
        for _ in range(n):
            g_pong.switch()

    ping = greenlet.greenlet(run)
    g_pong = greenlet.greenlet(pong)
    ping.switch()


class _Prop:
    @property
    def x(self) -> int:
        return 0

    @x.setter
    def x(self, target: Any) -> None:
        target.switch()


def property_roundtrips(n: int) -> None:
    """@n round trips, each switch made inside a property setter.

    Every SimStruct field access is a property, so this is the floor of a
    switching scheduling point: the switch then saves a deeper C stack.
    """
    obj = _Prop()

    def pong() -> None:
        while True:
            obj.x = ping

    def run() -> None:
        for _ in range(n):
            obj.x = g_pong

    ping = greenlet.greenlet(run)
    g_pong = greenlet.greenlet(pong)
    ping.switch()


BARE_NAME = "bare greenlet switch round trip"
BASELINES: dict[str, Callable[[int], None]] = {
    BARE_NAME: bare_roundtrips,
    "round trip switching inside a property setter": property_roundtrips,
}
"""The cases that are not a strategy on a workload: @n round trips."""
ROUNDTRIPS = 20_000
"""Round trips per round of a baseline counted by callgrind."""


def simstruct_program(n: int) -> Callable[[Any], None]:
    def program(h: Any) -> None:
        cells = [h.static(Cell, value=0, other=0) for _ in range(4)]

        def worker(k: int) -> None:
            mine = cells[k]
            theirs = cells[(k + 1) % 4]
            for i in range(n):
                mine.value = theirs.other + i
                mine.other = i

        for k in range(4):
            h.spawn(f"w{k}", worker, k)

    return program


def maple_program(writes: int, private: bool = True) -> Callable[[Any], None]:
    import maple
    from maple import MT_FLAGS_USE_RCU, MapleTree, MaState, mas_find, mtree_destroy
    from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock
    from rcu_harness.memory.maple_port import InstrumentedPort

    def program(h: Any) -> None:
        port = InstrumentedPort(h._ex, private_nodes=private)
        mt = MapleTree(MT_FLAGS_USE_RCU, port=port)
        for i in range(40):
            maple.mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)

        def reader() -> None:
            for _ in range(3):
                rcu_read_lock()
                mas = MaState(mt, 0, 0)
                while mas_find(mas, maple.ULONG_MAX) is not None:
                    pass
                rcu_read_unlock()

        def writer() -> None:
            for k in range(writes):
                maple.mtree_store_range(mt, (k * 37) % 400, (k * 37) % 400 + 3, k)

        h.spawn("r1", reader)
        h.spawn("r2", reader)
        h.spawn("w", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    return program


@dataclass(frozen=True, slots=True)
class Case:
    """A strategy on a workload."""

    workload: str
    """``simstruct``, ``maple`` or ``maple-noprivate``."""
    strategy: str
    record: int = 0
    """0: no events (exploration); 2: events and model functions (a replay)."""
    coverage: bool = False
    """Reads-from coverage measured, as every rff run measures it."""
    params: tuple[tuple[str, str], ...] = ()
    """Strategy parameters given (the rest calibrated)."""

    def program(self, points: int) -> Callable[[Any], None]:
        if self.workload == "simstruct":
            return simstruct_program(points)
        return maple_program(60, private=self.workload == "maple")


NEW = ("mix", "pos", "surw", "rff", "pct-sync", "random-sync", "portfolio", "aimed",
       "aimed-surw", "pct-site", "aimed-site", "pct-relay", "aimed-relay",
       "aimed-stale", "aimed-pct", "aimed-rcu", "aimed-class", "aimed-conflict",
       "aimed-data")
"""Strategies measured on both workloads beside random and pct."""


def cases() -> dict[str, Case]:
    """Every case by name (``workload/strategy[+variant]``)."""
    out = {f"{w}/{s}": Case(w, s) for w in ("simstruct", "maple")
           for s in ("random", "pct", *NEW)}
    out["simstruct/random, events+functions"] = Case("simstruct", "random", 2)
    out["maple-noprivate/random"] = Case("maple-noprivate", "random")
    for w, s in (("simstruct", "rff"), ("maple", "random"), ("maple", "rff")):
        out[f"{w}/{s}+coverage"] = Case(w, s, coverage=True)
    for w in ("simstruct", "maple"):
        for s in ("pct-site", "pct-relay"):
            out[f"{w}/{s}+conflict"] = Case(w, s, params=(("aim", "conflict"),))
        out[f"{w}/aimed-rcu+conflict"] = Case(
            w, "portfolio", params=(*AIMED_RCU, ("aim", "conflict")))
    return out


AIMED_RCU = (("members", "pct,random-sync,pct-site,surw,pct-site,pct-relay"),
             ("points", "field"), ("sync_points", "access"), ("reads", "oldest"),
             ("fallback", "pct"), ("stall_in", "rcu-or-any"))
"""aimed-rcu spelled as a portfolio (its executions)."""


def _mutating(program: Callable[[Any], None], strategy: Guided) -> int:
    """Feed guided @strategy a corpus of one execution of @program (its
    execution 0, not measured); the first execution that mutates it."""
    strategy.new_execution(0)
    ex = run_execution(program, strategy, 0, max_steps=MAX_STEPS, record=0)
    strategy.feed([CorpusEntry(0, 1, ex.schedule().encode())])
    index = 1
    while strategy.new_execution(index) and strategy.parent is None:  # type: ignore[attr-defined]
        index += 1
    return index


def prepare(program: Callable[[Any], None], strategy: str, seed: int,
            given: tuple[tuple[str, str], ...] = ()) -> tuple[Any, list[int]]:
    """@strategy made as a run makes it (@given parameters, the rest
    calibrated), and the executions of a round."""
    params = calibrate(program, strategy, seed, max_steps=MAX_STEPS,
                       strategy_params=dict(given))
    rec = make_strategy(strategy, seed, **params)
    if isinstance(rec, Guided):
        return rec, [_mutating(program, rec)]
    members = len(getattr(rec, "members", ())) or (2 if strategy == "mix" else 1)
    return rec, list(range(members))


def checkers_of(case: Case) -> Any:
    return (*default_checkers(), ReadsFromCoverage) if case.coverage else None


def run_round(program: Callable[[Any], None], strategy: Any, indices: list[int],
              record: int = 0, checkers: Any = None) -> tuple[int, str]:
    """Run the executions @indices; their points and a digest of their
    schedules."""
    points = 0
    digest = hashlib.blake2b(digest_size=8)
    for index in indices:
        strategy.new_execution(index)
        ex = run_execution(program, strategy, index, max_steps=MAX_STEPS,
                           record=record, checkers=checkers)
        assert ex.violation is None, ex.violation
        points += ex.step
        digest.update(ex.schedule().encode().encode())
    return points, digest.hexdigest()
