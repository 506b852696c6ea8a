"""The latency samples a run stores, by name: each name's dtype and shape.

The one definition that both :func:`rcu_harness.runtime.metrics.collect`
(an execution's samples as arrays) and
:func:`rcu_harness.store.runstore.chunk_arrays` (a chunk of executions'
samples, made once per name) make arrays by.  The names themselves are
described in :mod:`rcu_harness.runtime.metrics`, which makes them; the
store reads them only through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


@dataclass(frozen=True, slots=True)
class SampleKind:
    """What a sample name holds: the dtype of its array and its shape."""

    dtype: type[np.int64] | type[np.float64]
    width: int
    """Values per entry: 1 for a flat array, 2 for ``rcu.waiting``'s
    ``(n, 2)`` rows (an entry is then one ``[step, count]`` row)."""


INT = SampleKind(np.int64, 1)
FLOAT = SampleKind(np.float64, 1)
ROWS = SampleKind(np.int64, 2)
SAMPLE_KINDS: tuple[tuple[str, SampleKind], ...] = (
    ("span.<name>.steps", INT),
    ("span.<name>.ns", INT),
    ("span.<name>.<key>", FLOAT),
    ("value.<name>", FLOAT),
    ("rcu.free_delay_steps", INT),
    ("rcu.waiting", ROWS),
    ("rcu.waiting_peak", INT),
    ("rcu.pipe", INT),
    ("rcu.batch", INT),
    ("rcu.retired_age", INT),
    ("cover.<level>.<span>.<store>", INT),
)
"""Every sample name (:mod:`rcu_harness.runtime.metrics` describes them)
with its kind, as :func:`sample_kind` finds it."""

Samples = dict[str, list[Any]]
"""One execution's samples as plain lists
(:func:`~rcu_harness.runtime.metrics.sample_lists`): what a block's
:class:`~rcu_harness.runner.block.ExecutionResult` carries, small to
pickle; numpy arrays are made once per name per chunk."""


def sample_kind(key: str) -> SampleKind:
    """The kind of sample name @key (:data:`SAMPLE_KINDS`)."""
    if key.startswith("span."):
        return INT if key.endswith((".steps", ".ns")) else FLOAT
    if key.startswith("value."):
        return FLOAT
    return ROWS if key == "rcu.waiting" else INT


def to_array(key: str, parts: Sequence[Sequence[Any]]) -> np.ndarray:
    """The array of sample name @key holding the entries of @parts (one
    list of entries per execution, concatenated; an entry is a number, or a
    ``[step, count]`` row for ``rcu.waiting``): one array made once, of
    @key's kind (:func:`sample_kind`)."""
    kind = sample_kind(key)
    n = sum(map(len, parts))
    entries: Iterable[Any] = parts[0] if len(parts) == 1 else chain.from_iterable(parts)
    if kind.width == 1:
        return np.fromiter(entries, kind.dtype, count=n)
    return np.fromiter(chain.from_iterable(entries), kind.dtype,
                       count=n * kind.width).reshape(n, kind.width)
