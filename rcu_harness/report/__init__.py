"""Reports on stored runs: numpy statistics, text, JSON and HTML with plots.

A report reads a run directory (:mod:`rcu_harness.store.runstore`) and its
findings' trace files, and never reruns anything.  Modules, one concept
each: :mod:`~rcu_harness.report.stats` (percentiles, histograms, CDFs),
:mod:`~rcu_harness.report.model` (loading a run into figures; every figure
is defined there), :mod:`~rcu_harness.report.tables` (figures as tables),
:mod:`~rcu_harness.report.text` (terminal and plain text),
:mod:`~rcu_harness.report.json_out`, :mod:`~rcu_harness.report.plots`
(matplotlib), :mod:`~rcu_harness.report.swimlane` (a finding's
interleaving), :mod:`~rcu_harness.report.html` (the self-contained page)
and :mod:`~rcu_harness.report.compare` (two runs side by side).

The CLI calls the two entry points here: :func:`write_report` (``stress``
at the end of every run) and :func:`report_command` (``rcu-harness
report``).  They import the renderers when called: the plots pull in
matplotlib, a noticeable fraction of a second, which loading a run
(:func:`load_run`) does not need.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rcu_harness.report.model import ReportError, RunReport, load_run, one_line

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ReportError", "RunReport", "load_run", "report_command", "write_report"]

REPORT_FILES = ("report.json", "report.txt", "report.html")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _heading(r: RunReport) -> str:
    return f"rcu-harness report: {r.campaign.run_dir}"


def write_report(run_dir: Path) -> None:
    """Write ``report.json``, ``report.txt`` and ``report.html`` into @run_dir.

    Raises :class:`ReportError` (one-line message) for a missing or non-run
    directory, an empty run or a corrupt sample file, and ``OSError`` if a
    file cannot be written.
    """
    from rcu_harness.report.html import report_html
    from rcu_harness.report.json_out import report_dict, to_json
    from rcu_harness.report.tables import report_tables
    from rcu_harness.report.text import render_plain

    r = load_run(run_dir)
    _write(run_dir / "report.json", to_json(report_dict(r)))
    _write(run_dir / "report.txt", render_plain(report_tables(r), _heading(r)))
    _write(run_dir / "report.html", report_html(r))


def _one(r: RunReport, base: RunReport | None, *, as_json: bool,
         html: bool) -> tuple[object, Path | None]:
    """Print @r's summary (or return its JSON data); write its HTML."""
    from rcu_harness.report import compare as cmp
    from rcu_harness.report.html import report_html
    from rcu_harness.report.json_out import report_dict
    from rcu_harness.report.tables import report_tables
    from rcu_harness.report.text import print_tables

    run_dir = _path(r)
    data: object = None
    if as_json:
        data = report_dict(r) if base is None else cmp.compare_dict(r, base)
    elif base is None:
        print_tables(report_tables(r), sys.stdout, heading=_heading(r))
    else:
        print_tables(cmp.compare_tables(r, base), sys.stdout,
                     heading=f"rcu-harness comparison: {r.campaign.run_dir}\n"
                     f"  this:     {cmp.plan_line(r)}\n"
                     f"  baseline: {cmp.plan_line(base)}")
    if base is not None:
        for warning in cmp.plan_warnings(r, base):
            print(f"rcu-harness report: warning: {warning}", file=sys.stderr)
    if not html:
        return data, None
    if base is None:
        path = run_dir / "report.html"
        _write(path, report_html(r))
    else:
        path = run_dir / f"compare-{_path(base).name}.html"
        _write(path, cmp.compare_html(r, base))
    return data, path


def _path(r: RunReport) -> Path:
    from pathlib import Path

    return Path(r.campaign.run_dir)


def report_command(run_dirs: list[Path], *, as_json: bool, html: bool,
                   compare: Path | None) -> int:
    """``rcu-harness report``: print each run's summary (or its JSON).

    With @html, writes ``report.html`` (or, with @compare,
    ``compare-<baseline>.html``) into each run directory and prints its
    path (to stderr under @as_json, so that stdout stays one JSON
    document: an object for one run, a list for several).  With @compare,
    each run is shown against that baseline run.  Returns 0, or 2 after a
    one-line error on stderr for a missing or non-run directory, an empty
    run, a corrupt sample file, or a report that cannot be written.
    """
    from rcu_harness.report.json_out import to_json

    if not run_dirs:
        print("rcu-harness report: error: no run directory given", file=sys.stderr)
        return 2
    try:
        base = load_run(compare) if compare is not None else None
        reports = [load_run(d) for d in run_dirs]
        outputs = [_one(r, base, as_json=as_json, html=html) for r in reports]
    except (ReportError, OSError) as e:
        print(f"rcu-harness report: error: {one_line(e)}", file=sys.stderr)
        return 2
    if as_json:
        docs = [data for data, _ in outputs]
        sys.stdout.write(to_json(docs[0] if len(docs) == 1 else docs))
    for _, path in outputs:
        if path is not None:
            print(path, file=sys.stderr if as_json else sys.stdout)
    return 0
