"""The pytest helper: explores, fails with report and replay command, replays."""

import os
import shlex
import subprocess
import sys

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


def _printed(monkeypatch):
    """The RCU_HARNESS_REPLAY value a failing check prints, and its command."""
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=100, seed=1)(racy)()
    line = next(ln for ln in str(info.value).splitlines() if f"{ENV}=" in ln)
    words = shlex.split(line.strip())
    return words[0].split("=", 1)[1], words


def test_check_replays_the_schedule_from_the_environment(monkeypatch):
    value, words = _printed(monkeypatch)
    test_id = os.environ["PYTEST_CURRENT_TEST"].rsplit(" ", 1)[0]
    assert value.startswith(f"{test_id}=")
    assert words[1:] == [*words[1:-1], test_id], "the command runs this test"
    monkeypatch.setenv(ENV, value)
    with pytest.raises(pytest.fail.Exception, match="lost update"):
        check(executions=1, seed=999)(racy)()


def test_the_variable_is_keyed_to_its_test(monkeypatch):
    value, _ = _printed(monkeypatch)
    schedule = value.rsplit("=", 1)[1]
    monkeypatch.setenv(ENV, f"tests/other.py::test_elsewhere={schedule}")
    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=100, seed=1)(racy)()
    assert "lost update" in str(info.value), "explored, not replayed"
    # its tail names it too (pytest run from another directory)
    tail = value.split("/", 1)[1]
    monkeypatch.setenv(ENV, f"x.py::unrelated=AAAA\n{tail}")
    with pytest.raises(pytest.fail.Exception, match="lost update"):
        check(executions=1, seed=999)(racy)()


@pytest.mark.parametrize(("value", "says"), [
    ("garbage", "each entry must be TEST_ID=SCHEDULE, as a failing test prints it "
                "(got 'garbage')"),
    ("{test}=%%%", "the schedule for {test} is not usable (not an rcu-harness "
                   "schedule"),
    ("{test}=AAAAAAAA", "the schedule for {test} is not usable"),
])
def test_a_bad_value_is_one_line(monkeypatch, value, says):
    test_id = os.environ["PYTEST_CURRENT_TEST"].rsplit(" ", 1)[0]
    monkeypatch.setenv(ENV, value.format(test=test_id))
    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=1)(racy)()
    text = str(info.value)
    assert text.startswith(f"{ENV}: " + says.format(test=test_id)), text
    assert "\n" not in text
    assert not info.value.pytrace


SUITE = """
from rcu_harness.kernel import SimStruct
from rcu_harness.testing import check


class Cell(SimStruct):
    fields = ("value",)


@check(executions=100, seed=1)
def test_racy(h):
    cell = h.static(Cell, value=0)

    def inc():
        cell.value = cell.value + 1

    h.spawn("a", inc)
    h.spawn("b", inc)

    def final():
        assert cell.value == 2, "lost update"

    h.at_exit(final)


@check(executions=20, seed=2)
def test_clean(h):
    cell = h.static(Cell, value=0)
    h.spawn("reader", lambda: cell.value)
"""


def test_a_pytest_run_replays_only_the_test_the_variable_names(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items()
           if k not in (ENV, "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")}

    def pytest_run(*argv, extra=None):
        return subprocess.run([sys.executable, "-m", "pytest", "-q",
                               "-p", "no:cacheprovider", *argv],
                              capture_output=True, text=True, cwd=tmp_path,
                              env={**env, **(extra or {})}, timeout=300,
                              check=False)

    first = pytest_run()
    assert "1 failed, 1 passed" in first.stdout, first.stdout
    line = next(ln for ln in first.stdout.splitlines() if f"{ENV}=" in ln)
    words = shlex.split(line.strip())
    value = words[0].split("=", 1)[1]
    assert value.startswith("test_suite.py::test_racy=")
    again = pytest_run(extra={ENV: value})
    assert "1 failed, 1 passed" in again.stdout, again.stdout
    assert "lost update" in again.stdout
    assert "ReplayDivergence" not in again.stdout
    printed = pytest_run(*words[words.index("pytest") + 1:], extra={ENV: value})
    assert "1 failed" in printed.stdout
    assert "passed" not in printed.stdout


def test_a_schedule_that_no_longer_fits_is_one_line(monkeypatch):
    value, _ = _printed(monkeypatch)
    monkeypatch.setenv(ENV, value)

    def other(h):
        h.spawn("only", lambda: None)

    with pytest.raises(pytest.fail.Exception) as info:
        check(executions=1)(other)()
    assert str(info.value).startswith(f"{ENV}: the schedule no longer fits this "
                                      "test (replay diverged")
    assert "\n" not in str(info.value)


def test_check_expect_passes_only_when_that_kind_is_found(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    check(executions=100, seed=1, expect="exception")(racy)()
    with pytest.raises(pytest.fail.Exception, match="expected a deadlock"):
        check(executions=20, seed=1, expect="deadlock")(racy)()


@check(executions=50, strategy="pct", seed=2)
def test_decorated_clean_program_passes(h):
    cell = h.static(Cell, value=0)
    h.spawn("reader", lambda: cell.value)
