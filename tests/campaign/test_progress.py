"""Progress: a bar on a terminal, plain periodic lines otherwise."""

import io

from rcu_harness.campaign.plan import Budget
from rcu_harness.campaign.progress import (
    BarProgress,
    LineProgress,
    NoProgress,
    Snapshot,
    describe,
    make_progress,
)


class Tty(io.StringIO):
    def isatty(self):
        return True


HUNDRED = Budget(100)


def _snap(executions=50, elapsed=10.0, budget=HUNDRED, left=None):
    return Snapshot("mmput_race/pct", executions, executions, 2, elapsed, budget,
                    left)


def test_a_terminal_gets_a_bar_anything_else_plain_lines():
    bar = make_progress(Tty())
    assert isinstance(bar, BarProgress)
    bar.close()
    assert isinstance(make_progress(io.StringIO()), LineProgress)
    assert isinstance(make_progress(Tty(), quiet=True), NoProgress)


def test_a_line_says_executions_rate_findings_and_time_left():
    assert describe(_snap()) == ("mmput_race/pct: 50 executions (0 units, "
                                 "5.0/s), 2 findings, 0:10 left")


def test_time_left_is_the_nearer_budget():
    assert _snap(budget=Budget(100), left=3.0).left == 3.0
    assert _snap(budget=Budget(10**9), left=None).left > 10**6
    assert _snap(elapsed=0.0).left is None


def test_a_run_past_its_time_budget_says_it_finishes_running_units():
    late = _snap(budget=Budget(10**9, seconds=60), left=-116.0)
    assert late.left == 0.0
    assert late.fraction == 1.0
    assert describe(late).endswith(", time up, finishing running units")
    assert "-" not in describe(late)


def test_plain_lines_come_at_most_every_interval():
    stream = io.StringIO()
    lines = LineProgress(stream, every=3600)
    lines.update(_snap())
    assert stream.getvalue() == ""
    lines.every = 0
    lines.update(_snap())
    lines.note("note: hello")
    assert stream.getvalue().splitlines() == [describe(_snap()), "note: hello"]


def test_the_bar_draws_on_its_stream():
    stream = Tty()
    bar = BarProgress(stream)
    bar.update(_snap())
    bar.close()
    assert "mmput_race/pct" in stream.getvalue()
