"""Per-execution seeds and the program's data source."""

from __future__ import annotations

import random

from rcu_harness.sched.seeds import DataSource, derive


def test_data_source_draws_from_the_generator_of_its_derived_seed() -> None:
    source = DataSource(1234)
    rng = random.Random(derive(1234, 0, "data"))
    assert [source.next_u64() for _ in range(5)] == \
        [rng.getrandbits(64) for _ in range(5)]


def test_data_sources_of_different_executions_draw_different_values() -> None:
    a, b = DataSource(derive(0, 1)), DataSource(derive(0, 2))
    assert [a.next_u64() for _ in range(3)] != [b.next_u64() for _ in range(3)]
