"""The decisions of the strategies that read pending accesses or weigh
threads (surw, pos, pct-sync, portfolio), and of those whose decisions the
execution makes without a call (pct, random, mix; random-sync beside them),
are pinned: a change of their hot path must keep every decision.

The digests are of the schedules of executions 0..3 (seed 0, calibrated as
a run calibrates) on each default scenario, recorded on main at d71ff59,
before surw kept its total weight between decisions (pct, random, mix and
random-sync: on main at f1693fb, before pct's keeper and random's draw in
the hot path).  page_fault's, except surw's, were recorded again when its
fork's dup_mmap() stopped taking a scheduling point per VMA of bookkeeping
(the __mt_dup() copy recorded as one write).  The golden traces
(tests/trace) pin mix's events too.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.surw import SurwStrategy

GOLDEN = {
    "dup_mmap": {
        "surw": "26540a5053376bc4dd17c3131d1d3481",
        "surw:accesses": "2e344d47f2efba2863609a2d798a79d3",
        "portfolio": "6e9596306475b996706366fb95d9566b",
        "pos": "d2ad501d070c7c0fb84de61ba6bb78c4",
        "pct-sync": "488803cab15e700528516f8a7352fef7",
        "pct": "6c0d47aefc1165aba1e36ec9b087f13f",
        "random": "2df47f4785d476b23e23a2c3c347c96e",
        "mix": "6bdd49c61de12e1b43d8f0082361e4fa",
        "random-sync": "dfa4381ee198d954232250a4e02d9892",
    },
    "rcu_transitions": {
        "surw": "0e989b162f2150ce58b300eb14b2e448",
        "surw:accesses": "d6286233004029eaf57c5d5ce7c53394",
        "portfolio": "1f630b69f63aac3efaa6ccd19bfa819c",
        "pos": "cf78a0284ece09259772bb769beaa53e",
        "pct-sync": "185777cd0495daeaa7ffab61a7dd99ac",
        "pct": "d281f5cbd216a91c5c8e88b5e95d1b45",
        "random": "3a4daf48ba1228797a09eb7f67980e85",
        "mix": "eadaaddcee404519341edf041731282a",
        "random-sync": "85fa59a02e8c0d916780e9e6f173ba5a",
    },
    "mmput_race": {
        "surw": "bb8dca6efca65b86cdb811c9af5dbaa5",
        "surw:accesses": "e32b1cf66416fb0b4d0ff375d24539c7",
        "portfolio": "6e585ce5efccc1da54e9fbae95f773f0",
        "pos": "1f2b17f755be9e74261ad217b952a033",
        "pct-sync": "56574e8b5433823e09d984f13980d0ce",
        "pct": "04945fed4d9047f10ef537fa9631ebc4",
        "random": "26f7d761e4d8e6a9a70ad33fa6571ea4",
        "mix": "b62b38c90ff5d87295ebe2229936f400",
        "random-sync": "cb00654ca025f025843c9082b6aa501b",
    },
    "page_fault": {
        "surw": "56f64549fcc4a886020dc14da83e9a7c",
        "surw:accesses": "f98927c2d6b4253ba9c3491f7021d007",
        "portfolio": "1c0286661671d5a38c9bc2df7747a630",
        "pos": "10905854474ddffeb93fa13d0e2d5dcf",
        "pct-sync": "902fe919ee8eb225498c840148ad88c8",
        "pct": "83e08e049ae902e39aab2e8f2f163d4f",
        "random": "0a0efed2455e9a5951dad57c6f40d8e0",
        "mix": "8897464a577466e1dbb4e5add51e7c19",
        "random-sync": "86bc0b18c7686cdbc3ee200a9c6bb4b3",
    },
}


@pytest.mark.parametrize("scenario", sorted(GOLDEN))
def test_schedules_are_the_recorded_ones(scenario: str) -> None:
    setup = program(configure(scenario))
    got = {}
    for key in GOLDEN[scenario]:
        name, _, interesting = key.partition(":")
        params = {"interesting": interesting} if interesting else {}
        params = calibrate(setup, name, 0, strategy_params=params)
        strategy = make_strategy(name, 0, **params)
        digest = hashlib.blake2b(digest_size=16)
        for i in range(4):
            strategy.new_execution(i)
            ex = run_execution(setup, strategy, i, record=0)
            digest.update(ex.schedule().encode().encode())
        got[key] = digest.hexdigest()
    assert got == GOLDEN[scenario]


def _reference_surw(weight: list[int], last: int | None, draw: float,
                    runnable: list[int], current: int | None,
                    yielding: bool) -> int:
    """surw's decision as first written: weights summed at every decision."""
    if last is not None and last < len(weight) and weight[last] > 1:
        weight[last] -= 1
    if yielding:
        runnable = [t for t in runnable if t != current]
    if runnable[-1] >= len(weight):
        weight.extend([1] * (runnable[-1] + 1 - len(weight)))
    x = draw * sum(map(weight.__getitem__, runnable))
    choice = runnable[-1]
    for tid in runnable:
        x -= weight[tid]
        if x < 0:
            choice = tid
            break
    return choice


@pytest.mark.parametrize("seed", range(20))
def test_surw_keeps_the_choices_of_the_summing_decision(seed: int) -> None:
    """Runnable sets that change (threads block, wake, appear, yield)
    between decisions: the kept total gives every choice of the original."""
    rng = random.Random(seed)
    surw = SurwStrategy(seed, profile="1:9,2:4,3:30,5:2")
    surw.new_execution(seed)
    draws = random.Random(surw.execution_seed).random
    weight = [max(1, {1: 9, 2: 4, 3: 30, 5: 2}.get(t, 1)) for t in range(6)]
    last: int | None = None
    current: int | None = None
    runnable: list[int] = [1, 2]
    for _ in range(300):
        if rng.random() < 0.3:  # a thread blocked, woke, appeared...
            runnable = sorted(rng.sample(range(8), rng.randint(2, 4)))
        yielding = current in runnable and rng.random() < 0.1
        want = _reference_surw(weight, last, draws(), runnable, current, yielding)
        got = surw.next_thread(list(runnable), current, yielding)
        assert got == want
        last = current = got
