"""The reader API against the real lib/maple_tree.c: hand-written, seeded and
Hypothesis-generated call sequences, compared after every call."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcu_harness.oracle.agree import compare, driver_for
from rcu_harness.oracle.build import OracleUnavailable
from rcu_harness.oracle.diff import run_kernel
from rcu_harness.oracle.ops import (
    Erase,
    FindAfter,
    Init,
    MFind,
    MFindRev,
    MForEach,
    MNext,
    MNextRange,
    MPause,
    MPrev,
    MPrevRange,
    MReset,
    MSet,
    MWalk,
    Null,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    parse_trace,
)
from rcu_harness.oracle.readgen import legalize
from rcu_harness.oracle.readrun import run_sequences

pytestmark = [pytest.mark.oracle, pytest.mark.timeout(900)]

MAX = (1 << 64) - 1
FIXES = ("overflow-state-no-node", "rewalk-no-node")


@pytest.fixture(scope="module")
def driver():
    try:
        return driver_for(())
    except OracleUnavailable as err:
        pytest.skip(err.reason)


@pytest.fixture(scope="module")
def fixed_driver():
    try:
        return driver_for(FIXES)
    except OracleUnavailable as err:
        pytest.skip(err.reason)


THREE = "init 3\nstore 16 31 1\nstore 32 47 2\nstore 64 79 3\n"


def test_the_driver_prints_the_state_after_each_call(driver):
    ops = parse_trace(THREE + "mset 0\nmfind 100\nmnext 100\nmprev 0\n"
                      "mforeach 100 5\nmpause\nmfindrev 0\nmreset\nfindafter 0 9\n")
    rets = [line.split(" ")[0] for line in run_kernel(ops, binary=driver)]
    assert rets[4:] == ["@0-0/start", "v1@10-1f/active", "v2@20-2f/active",
                        "v1@10-1f/active", "v2=20-2f,v3=40-4f@50-ffffffffffffffff"
                        "/active", "@50-ffffffffffffffff/pause", "v3@40-4f/active",
                        "@40-4f/start", "-"]


def test_empty_single_entry_and_emptied_trees_agree(driver):
    for text in ("init 0\nmset 5\nmfind 100\nmprev 0\nmwalk\nmnext 9\n",
                 "init 2\nstore 0 0 7\nmset 0\nmwalk\nmnext 9\nmprev 0\n"
                 "mfindrev 0\nmset 3\nmfind 100\n",
                 THREE + "rlock\nmset 0\nmfind 100\nerase 16\nmfind 100\n"
                 "runlock\nmpause\nmfind 100\n"):
        result = compare(parse_trace(text), binary=driver)
        assert result.divergence is None, result.divergence.side_by_side


def test_the_rewalk_bug_is_a_known_crash_and_the_fix_removes_it(driver,
                                                                 fixed_driver):
    ops = parse_trace(THREE.replace("init 3", "init 2") + "rlock\nmset 0\n"
                      "mfind 100\nerase 16\nerase 32\nerase 64\nmfind 100\n"
                      "mfind 100\nrunlock\n")
    result = compare(ops, binary=driver)
    [known] = result.known
    assert known.entry.id == "maple-rewalk-null-node"
    assert known.op == MFind(100)
    assert "mas_next_slot" in known.kernel
    fixed = compare(ops, binary=fixed_driver, fixes=FIXES)
    assert fixed.known == ()
    assert fixed.divergence is None
    assert fixed.compared == len(ops)


def test_seeded_sequences_agree_fast_subset(fixed_driver):
    """The CI subset of stress/oracle_reader.py (10,000 x 50 there)."""
    run = run_sequences(range(120), fixes=FIXES)
    assert run.divergence is None
    assert run.sequences == 120
    assert run.calls >= 120 * 50


def test_seeded_sequences_on_the_faithful_kernel(driver):
    run = run_sequences(range(1000, 1030))
    assert run.divergence is None
    assert run.sequences == 30
    assert set(run.known) <= {"maple-rewalk-null-node",
                              "maple-overflow-state-null-node",
                              "maple-rcu-destroy-dead-leaves"}


INDEX = st.one_of(st.integers(0, 64), st.sampled_from([MAX - 1, MAX]))
CALL = st.one_of(
    st.builds(MSet, INDEX), st.just(MReset()), st.just(MPause()), st.just(MWalk()),
    st.builds(MFind, INDEX), st.builds(MFindRev, INDEX), st.builds(MNext, INDEX),
    st.builds(MPrev, INDEX), st.builds(MNextRange, INDEX),
    st.builds(MPrevRange, INDEX),
    st.builds(MForEach, INDEX, st.integers(0, 4)),
    st.builds(FindAfter, INDEX, st.just(MAX)))
WRITE = st.one_of(
    st.builds(lambda a, n, v: Store(a, min(a + n, MAX), v), INDEX,
              st.integers(0, 9), st.integers(1, 99)),
    st.builds(lambda a, n: Null(a, min(a + n, MAX)), INDEX, st.integers(0, 9)),
    st.builds(Erase, INDEX), st.just(RLock()), st.just(RUnlock()),
    st.just(RcuOn()), st.just(RcuOff()))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.integers(0, 3),
       ops=st.lists(st.one_of(CALL, CALL, WRITE), min_size=1, max_size=40))
def test_hypothesis_sequences_agree(fixed_driver, flags, ops):
    trace = legalize([Init(flags), *ops])
    result = compare(trace, binary=fixed_driver, fixes=FIXES, wrap=False)
    assert result.divergence is None or result.divergence.both_crashed, \
        result.divergence.side_by_side
