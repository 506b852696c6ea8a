"""While a block runs, the cyclic collector's young generation waits for
10,000 allocations (not 700); the caller's thresholds come back after, and
no execution depends on when the collector runs."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from rcu_harness.runner import block as block_module
from rcu_harness.runner.block import run_block
from rcu_harness.runner.collector import YOUNG, young_threshold
from rcu_harness.scenarios.catalog import configure, program
from rcu_harness.sched.registry import make_strategy

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_the_young_threshold_is_raised_inside_and_restored_after(
        thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    with young_threshold():
        assert gc.get_threshold() == (YOUNG, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_is_never_lowered(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(50_000, 5, 5)
    with young_threshold():
        assert gc.get_threshold() == (50_000, 5, 5)
    assert gc.get_threshold() == (50_000, 5, 5)


def test_a_collector_switched_off_by_threshold_zero_stays_off(
        thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(0)
    with young_threshold():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def test_the_thresholds_come_back_when_the_block_raises(
        thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), young_threshold():
        raise RuntimeError("a block that fails")
    assert gc.get_threshold() == (700, 10, 10)


def _summaries(scenario: str, n: int) -> list[Any]:
    setup = program(configure(scenario))
    out = run_block(setup, make_strategy("random", 3), 0, n,
                    command=lambda i, s: "", seen=set(), samples=True)
    return [(r.idx, r.seed, r.steps, r.signature, r.counters,
             {k: v for k, v in r.samples.items() if not k.endswith(".ns")})
            for r in out.executions]  # a span's nanoseconds are wall clock


@pytest.mark.parametrize("scenario", ["mmput_race", "rcu_transitions"])
def test_executions_do_not_depend_on_when_the_collector_runs(
        scenario: str, monkeypatch: pytest.MonkeyPatch,
        thresholds: tuple[int, int, int]) -> None:
    usual = _summaries(scenario, 6)

    @contextmanager
    def often() -> Iterator[None]:
        gc.set_threshold(40, 2, 2)
        yield

    monkeypatch.setattr(block_module, "young_threshold", often)
    assert _summaries(scenario, 6) == usual
