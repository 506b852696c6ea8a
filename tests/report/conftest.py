"""Stored runs shared by the report tests (built once per session)."""

import pytest

from rcu_harness.scenarios import configure, program
from tests.report.programs import controlled
from tests.report.runs import record_run

LEGAL, BROKEN = 3, 2


@pytest.fixture(scope="session")
def controlled_run(tmp_path_factory):
    """3 executions with legal grace periods, then 2 whose grace periods
    ignore readers (Reader Pipe [0,3,0,2,0...], Reader Batch [3,0,2,0...])."""
    plan = [(controlled(False), None)] * LEGAL + \
        [(controlled(True), "gp-ignores-readers")] * BROKEN
    return record_run(tmp_path_factory.mktemp("report") / "controlled", plan, seed=7)


@pytest.fixture(scope="session")
def scenario_run(tmp_path_factory):
    """dup_mmap with 4 VMAs, 5 executions, no finding."""
    prog = program(configure("dup_mmap", {"vmas": 4}))
    return record_run(tmp_path_factory.mktemp("report") / "dup_mmap",
                      [(prog, None)] * 5, seed=1,
                      meta={"scenario": "dup_mmap", "parameters": {"vmas": 4}})


@pytest.fixture(scope="session")
def bug_run(tmp_path_factory):
    """dup_mmap with the resume-without-pause mutant: four executions that
    fail the same way (one finding, with its trace)."""
    cfg = configure("dup_mmap", {"vmas": 8}, "resume-without-pause")
    return record_run(tmp_path_factory.mktemp("report") / "bug",
                      [(program(cfg), cfg.mutant)] * 4, seed=5,
                      meta={"scenario": "dup_mmap", "mutant": cfg.mutant,
                            "elapsed_s": 2.0})
