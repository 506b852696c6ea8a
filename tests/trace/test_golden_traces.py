"""The scenarios' traces are byte-identical to those of the code before the
speed work (digests in tests/data/golden_traces.json, see golden.py): same
seed, same executions, same events with the same model functions, same
findings with the same reports."""

import json

import pytest

from tests.trace import golden

GOLDEN = json.loads(golden.DATA.read_text())


@pytest.mark.parametrize("key", sorted(GOLDEN["scenarios"]))
def test_scenario_traces_are_unchanged(key):
    scenario, design = key.split("/")
    assert golden.scenario_traces(scenario, design) == GOLDEN["scenarios"][key]


@pytest.mark.parametrize("mutant", golden.MUTANTS)
def test_first_findings_are_unchanged(mutant):
    assert golden.mutant_finding(mutant) == GOLDEN["mutants"][mutant]


@pytest.mark.parametrize("key", sorted(GOLDEN["watchers"]))
def test_watching_strategies_traces_are_unchanged(key):
    scenario, strategy = key.split("/")
    assert golden.watcher_traces(scenario, strategy) == GOLDEN["watchers"][key]
