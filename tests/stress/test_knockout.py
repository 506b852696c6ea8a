"""stress/knockout.py: a part knocked out is a no-op that decides nothing."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from stress.knockout import KNOCKS, PARTS, ROOT_DIR


def test_every_knocked_out_part_names_what_the_harness_has() -> None:
    """A renamed function fails here instead of being measured as nothing."""
    assert set(PARTS) == {"none", "checker", "fast-pass", "coverage",
                          "coverage-walks", "results", "gc", "collect"}
    for part, patches in KNOCKS.items():
        for module, cls, attr, _value in patches:
            owner = importlib.import_module(module)
            if cls:
                owner = getattr(owner, cls)
            assert callable(getattr(owner, attr)), (part, module, attr)


def _probe(part: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(ROOT_DIR / "stress" / "knockout.py"), "--probe", part,
         str(ROOT_DIR), "rcu_transitions", "2"],
        capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(300)
def test_knocking_out_the_coverage_leaves_the_schedules_as_they_were() -> None:
    none, knocked = _probe("none"), _probe("coverage")
    assert none["steps"] == knocked["steps"] > 0
    assert none["schedules"] == knocked["schedules"]


def test_an_unknown_part_is_refused_in_one_line() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT_DIR / "stress" / "knockout.py"), "--probe", "bogus",
         str(ROOT_DIR), "rcu_transitions", "1"],
        capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [
        f"unknown part 'bogus' (known: {', '.join(PARTS)})"]
