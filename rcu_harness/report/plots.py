"""Matplotlib figures of a report, as base64 PNGs for a self-contained page.

Every figure is drawn with the non-interactive Agg backend into memory and
returned as a :class:`Plot` whose ``png`` is base64 text, ready for an
``<img src="data:image/png;base64,...">``: the HTML page needs no other
file.  Figures: latency histograms and CDFs per span group (steps and
wall-clock microseconds), grace-period and call_rcu -> free distributions,
objects waiting for a grace period over time (the first executions' change
point series) with the distribution of per-execution peaks, the Reader
Pipe / Reader Batch histograms (legal buckets green, the rest red), and,
for page faults under per-VMA locks, steps per fault and retries per fault.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rcu_harness.report.stats import cdf, per_owner
from rcu_harness.runtime.metrics import LEGAL_AGES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rcu_harness.report.model import Pipeline, RunReport

SERIES = 4
"""Executions whose waiting series are drawn."""


@dataclass(frozen=True, slots=True)
class Plot:
    """One figure: a title and the PNG as base64 text."""

    title: str
    png: str


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _hist_cdf(ax_h: Axes, ax_c: Axes, series: Mapping[str, np.ndarray],
              unit: str) -> None:
    for name, x in series.items():
        if not len(x):
            continue
        ax_h.hist(x, bins=min(40, max(1, len(np.unique(x)))), histtype="step",
                  label=name, linewidth=1.4)
        xs, ys = cdf(x)
        ax_c.step(xs, ys, where="post", label=name)
    ax_h.set_xlabel(unit)
    ax_h.set_ylabel("count")
    ax_c.set_xlabel(unit)
    ax_c.set_ylabel("fraction at or below")
    ax_c.set_ylim(0, 1.02)
    for ax in (ax_h, ax_c):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)


def latency_plot(r: RunReport, group: str, title: str) -> Plot | None:
    """Histograms and CDFs of the spans of @group, in steps and microseconds."""
    spans = r.group(group)
    if not spans:
        return None
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    s = r.samples
    _hist_cdf(axes[0][0], axes[0][1],
              {x.name: s[f"span.{x.name}.steps"] for x in spans}, "steps")
    _hist_cdf(axes[1][0], axes[1][1],
              {x.name: s.get(f"span.{x.name}.ns", np.zeros(0)) / 1000.0
               for x in spans}, "microseconds")
    fig.suptitle(title)
    return Plot(title, _png(fig))


def rcu_plot(r: RunReport) -> Plot:
    """Grace-period duration and call_rcu -> free: histograms and CDFs."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    s = r.samples
    _hist_cdf(axes[0], axes[1], {
        "grace period start -> end": s.get("value.rcu.gp_steps", np.zeros(0)),
        "call_rcu -> free": s.get("rcu.free_delay_steps", np.zeros(0))}, "steps")
    fig.suptitle("Grace periods")
    return Plot("Grace periods", _png(fig))


def waiting_plot(r: RunReport) -> Plot:
    """Objects waiting for a grace period over time, and per-execution peaks."""
    fig, (ax_t, ax_p) = plt.subplots(1, 2, figsize=(11, 3.8),
                                     gridspec_kw={"width_ratios": [2, 1]})
    s = r.samples
    series = s.get("rcu.waiting", np.zeros((0, 2))).reshape(-1, 2)
    by_exec = per_owner(series, s.get("rcu.waiting@exec", np.zeros(0)))
    for idx in sorted(by_exec)[:SERIES]:
        rows = by_exec[idx]
        ax_t.step(np.concatenate(([0], rows[:, 0])), np.concatenate(([0], rows[:, 1])),
                  where="post", linewidth=1.2, alpha=0.85, label=f"execution {idx}")
    ax_t.set_xlabel("step")
    ax_t.set_ylabel("objects waiting for a GP")
    ax_t.set_title(f"first {min(SERIES, len(by_exec))} executions", fontsize=9)
    ax_t.grid(alpha=0.3)
    if by_exec:
        ax_t.legend(fontsize=6, ncol=2)
    peaks = s.get("rcu.waiting_peak", np.zeros(0))
    if len(peaks):
        ax_p.hist(peaks, bins=np.arange(peaks.min(), peaks.max() + 2) - 0.5)
    ax_p.set_xlabel("peak per execution")
    ax_p.set_ylabel("executions")
    ax_p.grid(alpha=0.3)
    fig.suptitle("Memory held by RCU")
    return Plot("Memory held by RCU", _png(fig))


def _bars(ax: Axes, p: Pipeline | tuple[str, Sequence[int]],
          legal: int = LEGAL_AGES) -> None:
    name, counts = (p.name, p.counts) if not isinstance(p, tuple) else p
    colors = ["tab:green" if i < legal else "tab:red" for i in range(len(counts))]
    ax.bar(range(len(counts)), [max(c, 0) for c in counts], color=colors)
    for i, c in enumerate(counts):
        if c:
            ax.annotate(str(c), (i, c), ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, max([*counts, 1]) * 6)
    ax.set_xticks(range(len(counts)))
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("bucket")
    ax.set_yscale("symlog")
    ax.grid(alpha=0.3, axis="y")


def fault_plot(r: RunReport) -> Plot | None:
    """Steps per fault (histogram and CDF) and the retry histogram."""
    f = r.faults
    steps = r.samples.get("span.fault.steps")
    if f is None or steps is None:
        return None
    fig, (ax_h, ax_c, ax_r) = plt.subplots(1, 3, figsize=(13, 3.2))
    _hist_cdf(ax_h, ax_c, {"fault": steps.astype(np.float64)}, "steps")
    _bars(ax_r, ("Fault retries", f.retry_hist), legal=len(f.retry_hist))
    ax_h.set_title("Steps per fault")
    ax_c.set_title("Steps per fault, CDF")
    ax_r.set_title("Retries per fault")
    return Plot("Page faults under per-VMA locks", _png(fig))


def pipeline_plot(r: RunReport) -> Plot:
    """Reader Pipe, Reader Batch and retired-load ages as bar charts."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    _bars(axes[0], r.pipe)
    _bars(axes[1], r.batch)
    _bars(axes[2], ("retired-object loads by age", r.retired_ages))
    axes[0].set_ylabel("count")
    fig.suptitle("rcutorture-style reader histograms (green: legal buckets)", y=1.04)
    return Plot("Reader Pipe and Reader Batch", _png(fig))


def compare_plot(a: RunReport, b: RunReport, keys: Sequence[tuple[str, str]],
                 title: str) -> Plot:
    """CDFs of the same samples in two runs (solid: @a, dashed: @b)."""
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6),
                             squeeze=False)
    for ax, (key, label) in zip(axes[0], keys, strict=True):
        for run, style in ((a, "-"), (b, "--")):
            x = run.samples.get(key)
            if x is None or not len(x):
                continue
            xs, ys = cdf(x)
            ax.step(xs, ys, style, where="post", label=run.campaign.run_dir[-40:])
        ax.set_title(label, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.suptitle(title)
    return Plot(title, _png(fig))


def saturation_plot(r: RunReport) -> Plot | None:
    """Distinct reads-from pairs against executions (None: not measured)."""
    if not r.reads_from:
        return None
    firsts = np.sort(np.array([first for _, first, _ in r.reads_from]))
    n = r.campaign.executions
    xs = np.arange(1, n + 1)
    ys = np.searchsorted(firsts, xs, side="left")
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(xs, ys, drawstyle="steps-post")
    ax.set_xscale("log" if n > 20 else "linear")
    ax.set_xlabel("executions")
    ax.set_ylabel("distinct reads-from pairs")
    ax.set_title("Reads-from coverage: saturation curve")
    ax.grid(alpha=0.3)
    return Plot("Reads-from saturation curve", _png(fig))
