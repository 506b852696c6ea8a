"""stress/clean_runs.py: a campaign resumes from its state file unless
--fresh starts it over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stress import clean_runs

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _main_seeing_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           *extra: str) -> list[bool]:
    """Run the command with a state file of an earlier run; whether the
    state file was there when the chunks ran."""
    state = tmp_path / "clean-random-seed0.json"
    state.write_text('{"dup_mmap/2021/0-10": {}}')
    monkeypatch.setattr(clean_runs, "state_path", lambda *_args: state)
    seen: list[bool] = []

    def run(_args: object, _configs: object) -> float:
        seen.append(state.exists())
        return 0.0

    monkeypatch.setattr(clean_runs, "run", run)
    monkeypatch.setattr(clean_runs, "report", lambda *_args: "")
    clean_runs._main(["--scenarios", "dup_mmap", "--designs", "2021", *extra])
    return seen


def test_fresh_removes_the_campaigns_state_before_any_chunk_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _main_seeing_the_state(tmp_path, monkeypatch, "--fresh") == [False]


def test_without_fresh_a_campaign_resumes_from_its_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _main_seeing_the_state(tmp_path, monkeypatch) == [True]
