"""The self-contained HTML report: tables, plots, swimlanes, one file.

Everything is inline: the CSS in a ``<style>`` element, every plot a
base64 PNG in a ``data:`` URL (:mod:`rcu_harness.report.plots`), and the
favicon an empty ``data:`` URL so that a browser requests nothing.  There
is no JavaScript, so the page can raise no script error; it is checked in
headless Chromium by ``stress/html_screenshot.py``.  The page opens with
what a developer came for, the findings: per finding its report (KASAN or
lockdep layout with call traces) and the swimlane of its faulting access
(:mod:`rcu_harness.report.swimlane`).  The campaign's figures follow, as in
the terminal summary (the same :class:`~rcu_harness.report.tables.Table`
objects), with the plots next to their tables.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from rcu_harness.report import plots, tables
from rcu_harness.report.swimlane import swimlane_html

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rcu_harness.report.model import RunReport
    from rcu_harness.report.plots import Plot
    from rcu_harness.report.tables import Table

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #1b1f24; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eaeef2; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; }
p.note { white-space: pre-wrap; color: #57606a; font-size: .92em; max-width: 1100px; }
p.rule { white-space: pre-wrap; background: #fff8c5; padding: .4em .6em;
         border-left: 4px solid #d4a72c; max-width: 1100px; }
img.plot { max-width: 100%; border: 1px solid #eaeef2; margin: .5em 0; }
.bad { color: #cf222e; font-weight: bold; }
.lanes { overflow-x: auto; border: 1px solid #d0d7de; }
.lanes.scroll { max-height: 36em; overflow: auto; }
table.swimlane { font: 12px/1.3 ui-monospace, monospace; }
table.swimlane th { position: sticky; top: 0; }
table.swimlane td { white-space: nowrap; border-left: 1px solid #eaeef2;
                    max-width: 24em; overflow: hidden; text-overflow: ellipsis; }
tr.gap td { text-align: center; color: #57606a; background: #f6f8fa; }
details { margin: .5em 0 1em; }
summary { cursor: pointer; color: #0969da; }
td.step { color: #57606a; text-align: right; }
.alloc { background: #dafbe1; }
.retire { background: #fff1c2; }
.free { background: #ffd8b5; }
.access { background: #ddf4ff; }
.fault { background: #ff8182; font-weight: bold; }
ul.life li { padding: 0 .4em; margin: 2px 0; width: fit-content; }
.legend span { padding: 0 .5em; margin-right: .4em; }
code { font-size: .92em; }
pre.report { font: 12px/1.35 ui-monospace, monospace; background: #f6f8fa;
             border: 1px solid #d0d7de; padding: .6em .8em; overflow-x: auto;
             max-height: 40em; }
"""


def table_html(t: Table) -> str:
    """@t as an HTML table with its title and note."""
    numeric = [i > 0 and all(tables.num_like(r[i]) for r in t.rows)
               for i in range(len(t.columns))]

    def cell(tag: str, text: str, i: int) -> str:
        cls = " class='num'" if numeric[i] else ""
        return f"<{tag}{cls}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", c, i) for i, c in enumerate(t.columns))
    body = "".join("<tr>" + "".join(cell("td", c, i) for i, c in enumerate(row))
                   + "</tr>" for row in t.rows)
    note = f"<p class='note'>{html.escape(t.note)}</p>" if t.note else ""
    return (f"<h2>{html.escape(t.title)}</h2><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{note}")


def plot_html(p: Plot | None) -> str:
    """@p as an inline image ("" for no plot)."""
    if p is None:
        return ""
    return (f"<img class='plot' alt='{html.escape(p.title)}' "
            f"src='data:image/png;base64,{p.png}'>")


def page(title: str, parts: Iterable[str]) -> str:
    """A complete self-contained HTML document."""
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<link rel='icon' href='data:,'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


def _pipeline_html(r: RunReport) -> str:
    t = tables.pipeline_table(r)
    verdicts = "".join(
        f"<p class='{'bad' if p.illegal else 'note'}'>{html.escape(p.name)}: "
        f"{html.escape(p.verdict)}</p>" for p in (r.pipe, r.batch))
    rules = (f"<p class='rule'>{html.escape(r.pipe.rule)}</p>"
             f"<p class='rule'>{html.escape(r.batch.rule)}</p>")
    bare = tables.Table(t.title, t.columns, t.rows)
    return table_html(bare) + rules + verdicts + plot_html(plots.pipeline_plot(r))


def report_body(report: str) -> str:
    """A finding's report without what the page shows better: the text
    interleaving (the swimlane follows) and the replay line (shown above)."""
    return report.split("\nInterleaving", 1)[0].rstrip()


def _findings_html(r: RunReport) -> list[str]:
    t = tables.findings_table(r)
    if t is None:
        return ["<h2 id='findings'>Findings</h2><p>None.</p>"]
    table = table_html(tables.Table(t.title, t.columns, t.rows))
    out = [table.replace("<h2>", "<h2 id='findings'>", 1)]
    out.append("<p class='legend'>Swimlane highlights: "
               "<span class='alloc'>allocation</span>"
               "<span class='retire'>retirement (death, call_rcu)</span>"
               "<span class='free'>RCU callback and free</span>"
               "<span class='access'>other access to the object</span>"
               "<span class='fault'>faulting access</span></p>")
    for f in r.findings:
        out.append(f"<h3 id='finding-{html.escape(f.signature)}'>"
                   f"{html.escape(f.kind)} {html.escape(f.signature)}: "
                   f"{html.escape(f.message)}</h3>"
                   f"<p>Seen in {f.count} executions, first in execution "
                   f"{f.first_execution}. Replay: <code>{html.escape(f.replay)}"
                   f"</code></p>{_report_pre(f.report)}{swimlane_html(f)}")
    return out


def _report_pre(report: str) -> str:
    if not report:
        return ""
    return f"<pre class='report'>{html.escape(report_body(report))}</pre>"


def report_html(r: RunReport) -> str:
    """The whole report page of @r: the findings first (each with its report
    and the swimlane of its faulting access), then the campaign's figures,
    latencies and plots."""
    c = r.campaign
    parts = [f"<h1>rcu-harness report</h1><p class='note'>{html.escape(c.run_dir)}"
             "</p>", *_findings_html(r), table_html(tables.campaign_table(r))]
    for group, title in (("reader", "Reader latency"), ("writer", "Writer latency"),
                         ("other", "Other spans")):
        parts += [table_html(t) for t in tables.latency_tables(r, group, title)]
        if group == "reader" and (rt := tables.restart_table(r)) is not None:
            parts.append(table_html(rt))
        if group == "reader" and r.faults is not None:
            parts += [table_html(t) for t in tables.fault_tables(r.faults)]
            parts.append(plot_html(plots.fault_plot(r)))
        parts.append(plot_html(plots.latency_plot(r, group, title)))
    parts += [table_html(t) for t in tables.extra_tables(r)]
    parts += [table_html(tables.rcu_table(r)), plot_html(plots.rcu_plot(r)),
              plot_html(plots.waiting_plot(r)), _pipeline_html(r),
              table_html(tables.benign_table(r)), table_html(tables.coverage_table(r))]
    if (rf := tables.reads_from_table(r)) is not None:
        parts += [table_html(rf), plot_html(plots.saturation_plot(r))]
    return page(f"rcu-harness report: {c.run_dir}", parts)
