"""Per-execution seeds: a function of the base seed and the index alone.

Execution ``i`` of a campaign uses ``derive(seed, i)``, so splitting a
campaign across processes or machines finds exactly what one process would.
"""

from __future__ import annotations

import hashlib
import random


def derive(seed: int, index: int, purpose: str = "sched") -> int:
    """A 64-bit seed for execution @index of a campaign with base @seed."""
    data = f"rcu-harness:{purpose}:{seed}:{index}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class DataSource:
    """The generator behind ``next_u64()``: seeded by the execution seed.

    Seeded at the first draw, not at construction: every strategy makes one
    per execution and most executions draw nothing (a Mersenne Twister
    seeding is about 20,000 instructions); the values are the same."""

    __slots__ = ("_rng", "_seed")

    def __init__(self, execution_seed: int) -> None:
        self._seed = execution_seed
        self._rng: random.Random | None = None

    def next_u64(self) -> int:
        """The next 64-bit value."""
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random(derive(self._seed, 0, "data"))
        return rng.getrandbits(64)
