"""stress/knockout.py: a part knocked out is a no-op that decides nothing."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from stress.knockout import (
    COMPOSITE,
    EXECUTIONS,
    KNOCKS,
    OLDER,
    PARTS,
    ROOT_DIR,
    probe_argv,
)


def test_every_knocked_out_part_names_what_the_harness_has() -> None:
    """A renamed function fails here instead of being measured as nothing."""
    assert set(PARTS) == {"none", "checker", "fast-pass", "coverage",
                          "coverage-walks", "results", "gc", "collect", "checks"}
    for part, patches in KNOCKS.items():
        for module, cls, attr, _value in patches:
            owner = importlib.import_module(module)
            if cls:
                owner = getattr(owner, cls)
            assert callable(getattr(owner, attr)), (part, module, attr)


def test_the_checks_part_knocks_out_the_four_checking_parts_together() -> None:
    """``checks`` knocks out what checker, coverage, results and collect do
    (each with its older names where a tree lacks the newer), and not the
    collector (``gc``, a part of its own)."""
    assert COMPOSITE["checks"] == ("checker", "coverage", "results", "collect")
    script = ("import gc, sys; from stress.knockout import knock; "
              "sys.path.insert(0, sys.argv[1]); knock('checks'); "
              "import rcu_harness.checks.validate as v; "
              "import rcu_harness.checks.results as r; "
              "import rcu_harness.memory.maple_node as n; "
              "print(v.MtValidateCheck.write_op_done.__name__, "
              "r.ResultCheck.read_end.__name__, n.reader_load.__name__, "
              "gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT_DIR)],
                         capture_output=True, text=True, check=True, cwd=ROOT_DIR)
    assert out.stdout.split() == ["_noop", "_noop", "_noop", "True"]


def test_the_young_threshold_reaches_the_probe() -> None:
    argv = probe_argv("checks", "/tree", "mmput_race", 10_000)
    assert argv[1:] == ["--probe", "checks", "/tree", "mmput_race",
                        str(EXECUTIONS["mmput_race"]), "--count", "--young", "10000"]
    assert "--young" not in probe_argv("none", "/tree", "dup_mmap", None)


def _probe(part: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(ROOT_DIR / "stress" / "knockout.py"), "--probe", part,
         str(ROOT_DIR), "rcu_transitions", "2"],
        capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(300)
@pytest.mark.parametrize("part", ["coverage", "coverage-walks"])
def test_knocking_out_the_coverage_leaves_the_schedules_as_they_were(part) -> None:
    none, knocked = _probe("none"), _probe(part)
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


def test_a_part_of_an_older_tree_is_knocked_out_by_its_older_names(tmp_path) -> None:
    """coverage-walks in a tree before the ninth round (no ``_locate``)
    replaces its two walks; a tree with neither is refused in one line."""
    older = tmp_path / "older"
    (older / "rcu_harness" / "memory").mkdir(parents=True)
    (older / "rcu_harness" / "__init__.py").write_text("")
    (older / "rcu_harness" / "memory" / "__init__.py").write_text("")
    module = older / "rcu_harness" / "memory" / "coverage.py"
    module.write_text("def _walk(frame):\n    return 'walked'\n"
                      "def _past_harness(frame):\n    return frame\n")
    script = ("import sys; from stress.knockout import knock; "
              "sys.path.insert(0, sys.argv[1]); knock('coverage-walks'); "
              "import rcu_harness.memory.coverage as c; "
              "print(c._walk(1), c._past_harness(1))")
    run = [sys.executable, "-c", script, str(older)]
    out = subprocess.run(run, capture_output=True, text=True, check=True,
                         cwd=ROOT_DIR)
    assert out.stdout.split() == ["other", "None"]
    assert [attr for _, _, attr, _ in OLDER["coverage-walks"]] == \
        ["_walk", "_past_harness"]
    module.write_text("def _walk(frame):\n    return 'walked'\n")
    out = subprocess.run(run, capture_output=True, text=True, check=False,
                         cwd=ROOT_DIR)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [
        "part 'coverage-walks': this tree lacks the functions it replaces"]


def test_the_result_checker_of_a_tree_without_setup_contents_at_once_is_knocked_out(
        tmp_path) -> None:
    """``results`` in a tree before the thirteenth round (setup's contents
    through ``write_begin``, no ``initial_contents``) replaces the two hooks
    it has."""
    older = tmp_path / "older"
    (older / "rcu_harness" / "checks").mkdir(parents=True)
    (older / "rcu_harness" / "__init__.py").write_text("")
    (older / "rcu_harness" / "checks" / "__init__.py").write_text("")
    (older / "rcu_harness" / "checks" / "results.py").write_text(
        "class ResultCheck:\n"
        "    def write_begin(self, *a):\n        return 'stored'\n"
        "    def read_end(self, *a):\n        return 'checked'\n")
    script = ("import sys; from stress.knockout import knock; "
              "sys.path.insert(0, sys.argv[1]); knock('results'); "
              "from rcu_harness.checks.results import ResultCheck as R; "
              "print(R().write_begin(), R().read_end())")
    out = subprocess.run([sys.executable, "-c", script, str(older)],
                         capture_output=True, text=True, check=True, cwd=ROOT_DIR)
    assert out.stdout.split() == ["None", "None"]


def test_collect_in_a_tree_before_sample_lists_is_knocked_out_by_its_name(
        tmp_path) -> None:
    """A tree before the thirteenth round takes its samples with
    ``collect``: that is what the part replaces there."""
    older = tmp_path / "older"
    (older / "rcu_harness" / "runtime").mkdir(parents=True)
    (older / "rcu_harness" / "__init__.py").write_text("")
    (older / "rcu_harness" / "runtime" / "__init__.py").write_text("")
    (older / "rcu_harness" / "runtime" / "metrics.py").write_text(
        "def collect(ex):\n    return 'collected'\n")
    script = ("import sys; from stress.knockout import knock; "
              "sys.path.insert(0, sys.argv[1]); knock('collect'); "
              "import rcu_harness.runtime.metrics as m; print(m.collect(1))")
    out = subprocess.run([sys.executable, "-c", script, str(older)],
                         capture_output=True, text=True, check=True, cwd=ROOT_DIR)
    assert out.stdout.split() == ["None"]
    assert [attr for _, _, attr, _ in KNOCKS["collect"]] == ["sample_lists"]
