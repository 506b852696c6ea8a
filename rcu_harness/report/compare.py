"""Two runs side by side: the change against its baseline, with deltas.

``rcu-harness report RUN_DIR --compare OTHER_RUN_DIR`` treats RUN_DIR as
*this* run (the change) and OTHER_RUN_DIR as the *baseline*; every delta is
this minus baseline, and the relative delta is over the baseline.  The
figures compared (:func:`figures`) are the campaign's rates, each span's
p50, p99 and mean in steps and its p50 in microseconds, grace periods,
call_rcu -> free and the memory RCU holds, the illegal sections of the
Reader Pipe and Reader Batch, benign counters, coverage (pairs and
interleaved loads), and the findings present in only one of the runs.

Both runs' plans head the comparison (:func:`plan_line`).  Runs of
different scenarios, mutants or scenario parameters run different
programs, so their differences are not the effect of a change:
:func:`plan_warnings` says so, and the command prints it on stderr.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from rcu_harness.report import plots
from rcu_harness.report.html import page, plot_html, table_html
from rcu_harness.report.tables import Table, num

if TYPE_CHECKING:
    from rcu_harness.report.model import Distribution, RunReport
    from rcu_harness.report.stats import Summary

Figures = dict[str, float | None]


def _stats(out: Figures, name: str, d: Distribution, picks: tuple[str, ...],
           scale: float = 1.0) -> None:
    s: Summary | None = d.summary
    for pick in picks:
        value = getattr(s, pick) / scale if s is not None else None
        out[f"{name} {pick.replace('p999', 'p99.9')}"] = value


def figures(r: RunReport) -> Figures:
    """The comparable scalar figures of @r, in reading order."""
    c = r.campaign
    out: Figures = {
        "executions": c.executions, "executions/s": c.executions_per_s,
        "scheduling points/s": c.points_per_s,
        "executions with a finding": c.violations,
        "distinct findings": c.distinct_findings,
    }
    _stats(out, "points per execution", c.steps_per_execution, ("p50", "mean"))
    for s in r.spans:
        _stats(out, f"{s.name} steps", s.steps, ("p50", "p99", "mean"))
        _stats(out, f"{s.name} us", s.ns, ("p50",), scale=1000.0)
        if (d := s.extra("restarts")) is not None:
            _stats(out, f"{s.name} restarts", d, ("mean",))
    _stats(out, "grace period steps", r.rcu.gp_steps, ("p50", "p99", "mean"))
    _stats(out, "call_rcu -> free steps", r.rcu.free_delay, ("p50", "p99", "mean"))
    _stats(out, "waiting for a GP: peak", r.rcu.waiting_peak, ("mean", "max"))
    _stats(out, "waiting for a GP: mean", r.rcu.waiting_mean, ("mean",))
    out["Reader Pipe illegal sections"] = r.pipe.illegal
    out["Reader Batch illegal sections"] = r.batch.illegal
    for b in r.benign:
        out[f"{b.name} (total)"] = b.total
    out["coverage pairs"] = len(r.coverage)
    out["interleaved reader loads"] = sum(p.loads for p in r.coverage)
    return out


def _plan(r: RunReport) -> dict[str, Any]:
    plan = r.campaign.meta.get("plan")
    return plan if isinstance(plan, dict) else {}


def _pairs(table: object) -> str:
    if not isinstance(table, dict) or not table:
        return "-"
    return " ".join(f"{k}={v}" for k, v in sorted(table.items()))


def plan_line(r: RunReport) -> str:
    """@r's plan in one line: scenario[+mutant]/strategy, seed, parameters."""
    p = _plan(r)
    if not p:
        return "(no plan stored)"
    bug = f"+{p.get('mutant')}" if p.get("mutant") else ""
    return (f"{p.get('scenario')}{bug}/{p.get('strategy')} seed {p.get('seed')}; "
            f"params {_pairs(p.get('params'))}; strategy params "
            f"{_pairs(p.get('strategy_params'))}; max_steps {p.get('max_steps')}")


def plan_warnings(this: RunReport, base: RunReport) -> list[str]:
    """One warning if the two runs run different programs (another
    scenario, mutant or scenario parameters), else none."""
    a, b = _plan(this), _plan(base)
    keys = [k for k in ("scenario", "mutant") if a.get(k) != b.get(k)]
    if not keys and a.get("params") != b.get("params"):
        keys = ["params"]
    if not keys:
        return []
    diffs = "; ".join(f"{k} {_value(a.get(k))} against baseline {_value(b.get(k))}"
                      for k in keys)
    return [f"comparing runs of different programs ({diffs}): the deltas are not "
            "the effect of a change"]


def _value(v: object) -> str:
    if isinstance(v, dict):
        return _pairs(v)
    return "none" if v is None else str(v)


def _delta(base: float | None, this: float | None) -> tuple[float | None,
                                                             float | None]:
    if base is None or this is None:
        return None, None
    d = float(this) - float(base)
    return d, (100.0 * d / float(base) if base else None)


def compare_dict(this: RunReport, base: RunReport) -> dict[str, Any]:
    """Both runs' figures and the deltas, as JSON data."""
    a, b = figures(this), figures(base)
    names = list(dict.fromkeys([*a, *b]))
    rows = {}
    for name in names:
        d, pct = _delta(b.get(name), a.get(name))
        rows[name] = {"baseline": b.get(name), "this": a.get(name), "delta": d,
                      "delta_pct": pct}
    mine = {f.signature for f in this.findings}
    theirs = {f.signature for f in base.findings}
    return {"this": this.campaign.run_dir, "baseline": base.campaign.run_dir,
            "plans": {"this": _plan(this), "baseline": _plan(base)},
            "warnings": plan_warnings(this, base),
            "figures": rows,
            "findings": {"only_this": sorted(mine - theirs),
                         "only_baseline": sorted(theirs - mine),
                         "both": sorted(mine & theirs)}}


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{p:+.1f}%"


def compare_tables(this: RunReport, base: RunReport) -> list[Table]:
    """The side-by-side table and the findings that differ."""
    data = compare_dict(this, base)
    rows = tuple((name, num(v["baseline"]), num(v["this"]),
                  "-" if v["delta"] is None else
                  ("+" if v["delta"] > 0 else "") + num(v["delta"]),
                  _pct(v["delta_pct"])) for name, v in data["figures"].items())
    side = Table("Comparison (delta = this - baseline)",
                 ("figure", "baseline", "this", "delta", "delta %"), rows,
                 note=f"this: {data['this']}\n  {plan_line(this)}\n"
                 f"baseline: {data['baseline']}\n  {plan_line(base)}")
    f = data["findings"]
    finds = Table("Findings in only one run", ("run", "signatures"), (
        ("only this", ", ".join(f["only_this"]) or "-"),
        ("only baseline", ", ".join(f["only_baseline"]) or "-"),
        ("both", ", ".join(f["both"]) or "-")))
    return [side, finds]


def compare_html(this: RunReport, base: RunReport) -> str:
    """A self-contained page with both runs side by side."""
    keys = [(f"span.{s.name}.steps", f"{s.name} (steps)")
            for s in this.group("reader")][:3]
    keys += [("value.rcu.gp_steps", "grace period (steps)"),
             ("rcu.free_delay_steps", "call_rcu -> free (steps)")]
    parts = [f"<h1>rcu-harness comparison</h1><p class='note'>this: "
             f"{html.escape(this.campaign.run_dir)} "
             f"({html.escape(plan_line(this))})<br>baseline: "
             f"{html.escape(base.campaign.run_dir)} "
             f"({html.escape(plan_line(base))})</p>"]
    parts += [f"<p class='note'><b>Warning:</b> {html.escape(w)}</p>"
              for w in plan_warnings(this, base)]
    parts += [table_html(t) for t in compare_tables(this, base)]
    parts.append(plot_html(plots.compare_plot(
        this, base, keys, "CDFs: this (solid) against baseline (dashed)")))
    return page("rcu-harness comparison", parts)
