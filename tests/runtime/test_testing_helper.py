"""The pytest helper: explores, fails with report and replay command, replays."""

import pytest

from rcu_harness.kernel import SimStruct
from rcu_harness.testing import ENV, check


class Cell(SimStruct):
    fields = ("value",)


def racy(h):
    cell = h.static(Cell, value=0)

    def inc():
        cell.value = cell.value + 1

    h.spawn("a", inc)
    h.spawn("b", inc)

    def final():
        assert cell.value == 2, "lost update"

    h.at_exit(final)


def test_check_fails_with_report_and_replay_command(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=100, seed=1)(racy)()
    text = str(info.value)
    assert "lost update" in text
    assert f"{ENV}=" in text
    assert " pytest '" in text


def test_check_replays_the_schedule_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=100, seed=1)(racy)()
    schedule = str(info.value).split(f"{ENV}=")[1].split()[0]
    monkeypatch.setenv(ENV, schedule)
    with pytest.raises(pytest.fail.Exception, match="lost update"):
        check(executions=1, seed=999)(racy)()


def test_check_expect_passes_only_when_that_kind_is_found(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    check(executions=100, seed=1, expect="exception")(racy)()
    with pytest.raises(pytest.fail.Exception, match="expected a deadlock"):
        check(executions=20, seed=1, expect="deadlock")(racy)()


@check(executions=50, strategy="pct", seed=2)
def test_decorated_clean_program_passes(h):
    cell = h.static(Cell, value=0)
    h.spawn("reader", lambda: cell.value)
