"""Latency samples of one execution, for the campaign store and the reports.

Scenario code brackets what it wants timed with ``h.span(name)`` (a reader's
walk, a dup_mmap(), one store); the span records the scheduling steps it
covered (deterministic) and the wall-clock nanoseconds it took (reporting
only: nothing decides behaviour on it), plus any per-span values the code
adds (``span.add("restarts", 1)``).  :func:`collect` turns an execution's
samples into flat numpy arrays keyed by name, which is what the campaign
store saves and the reports read.

Array names: ``span.<name>.steps`` and ``span.<name>.ns`` (one value per
span), ``span.<name>.<key>`` (one value per span, 0 where not added), and
``value.<name>`` for free-standing samples added with ``h.sample()``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rcu_harness.runtime.execution import Execution


@dataclass(slots=True)
class Span:
    """One timed stretch of a thread's work."""

    name: str
    thread: str
    begin_step: int
    begin_ns: int
    end_step: int = -1
    end_ns: int = -1
    extra: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, value: float = 1) -> None:
        """Add @value to this span's counter @key."""
        self.extra[key] = self.extra.get(key, 0) + value


class Metrics:
    """The spans and samples one execution recorded."""

    __slots__ = ("spans", "values")

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.values: dict[str, list[float]] = {}

    def open(self, name: str, thread: str, step: int) -> Span:
        """Start a span now."""
        span = Span(name, thread, step, time.perf_counter_ns())
        self.spans.append(span)
        return span

    @staticmethod
    def close(span: Span, step: int) -> None:
        """End @span now."""
        span.end_step = step
        span.end_ns = time.perf_counter_ns()

    def sample(self, name: str, value: float) -> None:
        """Record one free-standing sample."""
        self.values.setdefault(name, []).append(value)


def collect(ex: Execution) -> dict[str, np.ndarray]:
    """Every sample of @ex as named numpy arrays (completed spans only)."""
    out: dict[str, np.ndarray] = {}
    metrics: Metrics = ex.metrics
    by_name: dict[str, list[Span]] = {}
    for span in metrics.spans:
        if span.end_step >= 0:
            by_name.setdefault(span.name, []).append(span)
    for name in sorted(by_name):
        spans = by_name[name]
        out[f"span.{name}.steps"] = np.array(
            [s.end_step - s.begin_step for s in spans], dtype=np.int64)
        out[f"span.{name}.ns"] = np.array(
            [s.end_ns - s.begin_ns for s in spans], dtype=np.int64)
        keys = sorted({k for s in spans for k in s.extra})
        for key in keys:
            out[f"span.{name}.{key}"] = np.array(
                [s.extra.get(key, 0) for s in spans], dtype=np.float64)
    for name in sorted(metrics.values):
        out[f"value.{name}"] = np.array(metrics.values[name], dtype=np.float64)
    return out
