"""Statistics of samples, with numpy: summaries, histograms, CDFs, buckets.

A :class:`Summary` is what every latency table prints: the count, mean and
standard deviation (numpy's default, the population one: ``ddof=0``), min,
the percentiles p50, p90, p99 and p99.9 (numpy's default method, linear
interpolation between the closest ranks: ``np.percentile(x, q)``) and max.
An empty sample has no summary (``None``): reports print ``-``.

A :class:`Histogram` has integer-aligned unit bins when the values are
integers spanning at most :data:`MAX_BINS` values (scheduling steps usually
do), and :data:`MAX_BINS` equal bins otherwise (``np.histogram``).
:func:`buckets` counts small non-negative integers into ``0..length`` with
the last bucket collecting everything larger, as rcutorture's pipeline
histograms do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
MAX_BINS = 40


@dataclass(frozen=True, slots=True)
class Summary:
    """Order statistics and moments of one sample."""

    count: int
    mean: float
    std: float
    min: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float

    def as_dict(self) -> dict[str, float | int]:
        """The summary as plain JSON numbers."""
        return {"count": self.count, "mean": self.mean, "std": self.std,
                "min": self.min, "p50": self.p50, "p90": self.p90,
                "p99": self.p99, "p99.9": self.p999, "max": self.max}


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts per bin; bin i is ``[edges[i], edges[i+1])`` (last one closed)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def as_dict(self) -> dict[str, list[float] | list[int]]:
        """The histogram as plain JSON lists."""
        return {"edges": list(self.edges), "counts": list(self.counts)}


def _as_1d(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def summarize(values: np.ndarray) -> Summary | None:
    """The :class:`Summary` of @values, or None when there are none."""
    x = _as_1d(values)
    if not x.size:
        return None
    p50, p90, p99, p999 = (float(v) for v in np.percentile(x, PERCENTILES))
    return Summary(count=int(x.size), mean=float(np.mean(x)), std=float(np.std(x)),
                   min=float(np.min(x)), p50=p50, p90=p90, p99=p99, p999=p999,
                   max=float(np.max(x)))


def _is_integral(x: np.ndarray) -> bool:
    return bool(np.all(np.floor(x) == x))


def histogram(values: np.ndarray, *, max_bins: int = MAX_BINS) -> Histogram:
    """A histogram of @values (unit bins for a small integer range)."""
    x = _as_1d(values)
    if not x.size:
        return Histogram((), ())
    low, high = float(np.min(x)), float(np.max(x))
    if _is_integral(x) and high - low + 1 <= max_bins:
        edges = np.arange(low, high + 2)
    else:
        edges = np.histogram_bin_edges(x, bins=max_bins)
    counts, edges = np.histogram(x, bins=edges)
    return Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


def cdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF: sorted @values and the fraction at or below each."""
    x = np.sort(_as_1d(values))
    return x, np.arange(1, x.size + 1) / max(1, x.size)


def buckets(values: np.ndarray, length: int) -> tuple[int, ...]:
    """Counts of @values in buckets 0..@length (the last one: @length or more)."""
    x = np.asarray(values, dtype=np.int64).reshape(-1)
    if x.size and int(np.min(x)) < 0:
        raise ValueError("bucket values must be non-negative")
    counts = np.bincount(np.minimum(x, length), minlength=length + 1)
    return tuple(int(c) for c in counts)


def time_weighted_mean(series: np.ndarray, end: int) -> float:
    """Mean over steps 0..@end of a ``[step, count]`` change-point series
    (the count is 0 before the first point and holds until the next)."""
    rows = np.asarray(series, dtype=np.int64).reshape(-1, 2)
    if not rows.size or end <= 0:
        return 0.0
    steps = np.minimum(np.append(rows[:, 0], end), end)
    widths = np.diff(steps)
    return float(np.sum(widths * rows[:, 1]) / end)


def per_owner(values: np.ndarray, owners: np.ndarray
              ) -> dict[int, np.ndarray]:
    """Split @values by the execution index in @owners (``X@exec``)."""
    out: dict[int, np.ndarray] = {}
    if not len(owners):
        return out
    order = np.argsort(owners, kind="stable")
    keys, starts = np.unique(owners[order], return_index=True)
    for key, part in zip(keys, np.split(values[order], starts[1:]), strict=True):
        out[int(key)] = part
    return out
