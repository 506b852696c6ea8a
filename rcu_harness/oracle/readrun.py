"""Reader-API differential runs: many seeded sequences, batched per driver run.

:func:`run_sequences` compares the sequences of the seeds it is given
(:func:`rcu_harness.oracle.readgen.reader_sequence`, the flags cycling
through 0-3: both flags, RCU mode on and off) on the kernel driver and the
model, a batch of sequences per driver process.  A sequence that ends in a
catalogued kernel bug on both sides is counted as known and the batch goes
on with the next sequence; a divergence stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.oracle.agree import Comparison, compare, driver_for
from rcu_harness.oracle.readgen import batch, count_calls, reader_sequence

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rcu_harness.oracle.ops import Op


@dataclass(frozen=True, slots=True)
class ReaderRun:
    """Totals of :func:`run_sequences`."""

    sequences: int
    calls: int
    """Reader-API calls compared (identical on both sides)."""
    ops: int
    """Every op compared (calls, writes, locks, lookups)."""
    known: dict[str, int]
    """Sequences ended by a catalogued kernel bug, by catalogue id."""
    divergence: str | None
    """The first divergence, described with its seed, or None."""


def flags_of(seed: int) -> int:
    """The tree flags of sequence @seed: 0, ALLOC_RANGE, USE_RCU, both."""
    return seed % 4


def _where(starts: list[int], index: int) -> int:
    """The sequence of a batch that op @index belongs to."""
    return max(i for i, start in enumerate(starts) if start <= index)


def run_sequences(seeds: Iterable[int], *, calls: int = 50, per_batch: int = 50,
                  fixes: tuple[str, ...] = (), every: int = 8) -> ReaderRun:
    """Compare the sequences of @seeds; see the module docstring.

    Every line's return part (the reader state after each call) is compared;
    the trees every @every lines (and, on a difference, every line).

    Raises:
        OracleUnavailable: the kernel driver cannot be built here.
    """
    binary = driver_for(fixes)
    pending = [(seed, reader_sequence(seed, calls, flags=flags_of(seed)))
               for seed in seeds]
    done = n_calls = n_ops = 0
    known: dict[str, int] = {}
    while pending:
        chunk = pending[:per_batch]
        ops, starts = batch([seq for _, seq in chunk])
        result = compare(ops, binary=binary, fixes=fixes, wrap=False,
                         every=every)
        end = _batch_end(result, starts, len(chunk))
        n_ops += result.compared
        n_calls += count_calls(ops[: result.compared])
        if result.divergence is not None and not result.divergence.both_crashed:
            seed = chunk[_where(starts, result.divergence.index)][0]
            text = (f"seed {seed} (flags {flags_of(seed)}): "
                    f"{result.divergence.describe()}")
            return ReaderRun(done + end, n_calls, n_ops, known, text)
        for k in result.known:
            known[k.entry.id] = known.get(k.entry.id, 0) + 1
        if result.divergence is not None:  # an uncatalogued double crash
            seed = chunk[_where(starts, result.divergence.index)][0]
            return ReaderRun(done + end, n_calls, n_ops, known,
                             f"seed {seed}: both crash, not catalogued: "
                             f"{result.divergence.kernel}")
        done += end
        pending = pending[end:]
    return ReaderRun(done, n_calls, n_ops, known, None)


def _batch_end(result: Comparison, starts: list[int], size: int) -> int:
    """How many sequences of the batch are finished (the one a known bug
    ended included)."""
    if result.ended_at is None:
        return size
    return _where(starts, result.ended_at) + 1


def reader_ops(seed: int, calls: int = 50) -> list[Op]:
    """The sequence of @seed as :func:`run_sequences` runs it."""
    return reader_sequence(seed, calls, flags=flags_of(seed))
