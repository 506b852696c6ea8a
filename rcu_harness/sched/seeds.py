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
    """The generator behind ``next_u64()``: seeded by the execution seed."""

    __slots__ = ("_rng",)

    def __init__(self, execution_seed: int) -> None:
        self._rng = random.Random(derive(execution_seed, 0, "data"))

    def next_u64(self) -> int:
        """The next 64-bit value."""
        return self._rng.getrandbits(64)
