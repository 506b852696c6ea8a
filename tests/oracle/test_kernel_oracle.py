"""The kernel oracle: the driver against hand-computed trees, and the model."""

from __future__ import annotations

import pytest

from rcu_harness.oracle.agree import compare
from rcu_harness.oracle.build import OracleUnavailable, ensure_oracle
from rcu_harness.oracle.diff import first_divergence, parse_line, run_kernel
from rcu_harness.oracle.erase2 import load_erase2_sets
from rcu_harness.oracle.model import ModelUnavailable, load_model
from rcu_harness.oracle.ops import (
    BDestroy,
    Bulk,
    Destroy,
    Init,
    RcuOff,
    RcuOn,
    Store,
    Validate,
    parse_trace,
)
from rcu_harness.oracle.tracegen import random_trace

pytestmark = pytest.mark.oracle

ROOT = "0-ffffffffffffffff"
EIGHT_STORES = "".join(f"store {i * 16} {i * 16 + 9} {i}\n" for i in range(1, 9))


@pytest.fixture(scope="module")
def driver():
    """The compiled driver, or a skip with the reason it cannot be built."""
    try:
        return ensure_oracle()
    except OracleUnavailable as err:
        pytest.skip(err.reason)


@pytest.fixture(scope="module")
def model():
    """The Python model, or a skip while it lacks the differential's API."""
    try:
        return load_model()
    except ModelUnavailable as err:
        pytest.skip(str(err))


def run(driver, text, every=1):
    """Run trace text through the driver; its output lines."""
    return run_kernel(parse_trace(text), binary=driver, every=every)


def children_fit(line):
    """Check that each child's [min, max] is the slice of its parent's range."""
    tree = parse_line(line).tree
    nodes = [(n[0], *(int(x, 16) for x in n[1:].split("|")[0].split("-")),
              n.split("|")[1]) for n in tree]
    stack = []
    for kind, lo, hi, pivots in nodes:
        if stack:
            plo, phi, cuts, index = stack[-1]
            want_lo = cuts[index - 1] + 1 if index else plo
            want_hi = cuts[index] if index < len(cuts) else phi
            assert (lo, hi) == (want_lo, want_hi)
            stack[-1][3] += 1
            if stack[-1][3] > len(cuts):
                stack.pop()
        else:
            assert (lo, hi) == (0, (1 << 64) - 1)
        if kind != "L":
            stack.append([lo, hi, [int(p, 16) for p in pivots.split(",") if p], 0])
    assert not stack


@pytest.mark.parametrize("flags", [0, 1])
def test_empty_tree(driver, flags):
    assert run(driver, f"init {flags}\nvalidate\n") == ["0 h0 n0 empty"] * 2


def test_single_entry_at_zero_lives_in_the_root(driver):
    lines = run(driver, "init 0\nstore 0 0 5\nload 0\nload 1\nerase 0\n")
    assert lines == ["0 h0 n0 empty", "0 h0 n0 ptr:v5", "v5 h0 n0 ptr:v5",
                     "- h0 n0 ptr:v5", "v5 h0 n0 empty"]


@pytest.mark.parametrize("flags", [0, 1])
def test_one_store_makes_one_leaf(driver, flags):
    lines = run(driver, f"init {flags}\nstore 10 10 16\n")
    assert lines[1] == f"0 h1 n1 L{ROOT}|9,a|-,v10,-"


def test_seventeen_ranges_split_into_height_two(driver):
    lines = run(driver, "init 0\n" + EIGHT_STORES)
    assert lines[7] == (f"0 h1 n1 L{ROOT}|f,19,1f,29,2f,39,3f,49,4f,59,5f,69,6f,79|"
                        "-,v1,-,v2,-,v3,-,v4,-,v5,-,v6,-,v7,-")
    assert lines[8] == (f"0 h2 n3 R{ROOT}|59|- "
                        "L0-59|f,19,1f,29,2f,39,3f,49,4f|-,v1,-,v2,-,v3,-,v4,-,v5 "
                        "L5a-ffffffffffffffff|5f,69,6f,79,7f,89|-,v6,-,v7,-,v8,-")
    children_fit(lines[8])


def test_alloc_tree_root_tracks_gaps(driver):
    lines = run(driver, "init 1\n" + EIGHT_STORES)
    # Largest gaps: [0, 0xf] in the left leaf, [0x8a, ULONG_MAX] in the right.
    assert lines[8].startswith(f"0 h2 n3 A{ROOT}|59|10,ffffffffffffff76/1 L0-59|")
    children_fit(lines[8])


def test_lookups_inserts_and_errors(driver):
    lines = run(driver, "init 0\n" + EIGHT_STORES +
                "load 20\nload 26\nfind 26 1000\nfind 200 1000\n"
                "insert 20 21 3\ninsert 26 27 3\n")
    rets = [line.split()[0] for line in lines[9:]]
    assert rets == ["v1", "-", "v2@2a", "-", "-17", "0"]
    proc_lines = run_kernel([], binary=driver)
    assert proc_lines == []


def test_bad_lines_and_ops_before_init(driver, tmp_path):
    import subprocess
    out = subprocess.run([str(driver)], input="load 1\nbogus 1\nstore 1\ninit 0\n",
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "error load: tree not initialised (init F first)",
        "error bogus: unknown operation",
        "error store: tree not initialised (init F first)",
        "0 h0 n0 empty",
    ]


def test_every_elides_dumps_but_not_validate(driver):
    lines = run(driver, "init 0\n" + EIGHT_STORES + "validate\n", every=4)
    assert [line.endswith(" .") for line in lines] == [
        False, True, True, True, False, True, True, True, False, False]


def test_bulk_load_like_dup_mmap(driver):
    lines = run(driver, "init 1\nbulk 3\nbstore 4096 8191 1\nbstore 8192 12287 2\n"
                "bstore 20480 24575 3\nbdestroy\n")
    assert lines[1].startswith("0 h0 n")
    assert int(lines[1].split()[2][1:]) > 1  # the preallocation
    assert lines[5] == f"0 h1 n1 L{ROOT}|fff,1fff,2fff,4fff,5fff|-,v1,v2,-,v3,-"


def check_lines(ops, lines):
    """Every line parses; outside bulk loads n is the dump's node count."""
    assert len(lines) == len(ops), lines[-1]
    in_bulk = False
    for op, line in zip(ops, lines, strict=True):
        parsed = parse_line(line)
        assert parsed is not None, line
        in_bulk = (in_bulk or isinstance(op, Bulk)) and not isinstance(
            op, BDestroy | Init)
        if parsed.tree is not None and not in_bulk:
            assert parsed.nr == parsed.node_count, line[:200]


def test_erase2_sets_through_the_kernel(driver):
    sets = load_erase2_sets()
    for trace in sets:
        check_lines(trace.ops, run_kernel(trace.ops, binary=driver, every=16))
    assert sum(len(t.ops) for t in sets) == 32656 + 2 * 43


@pytest.mark.parametrize("flags", [0, 1])
def test_random_traces_through_the_kernel(driver, flags):
    for seed in range(3):
        ops = random_trace(seed, 2000, flags=flags)
        check_lines(ops, run_kernel(ops, binary=driver, every=8))


def rcu_destroy_bug_ops():
    """A non-alloc tree whose root is a full range64 node of 16 leaves,
    destroyed in RCU mode."""
    ops = [Init(0)] + [Store(i * 16, i * 16 + 9, i) for i in range(1, 121)]
    return [*ops, RcuOn(), Destroy()]


def test_known_kernel_bug_rcu_destroy_of_full_range64_root(driver):
    """6.12: mtree_destroy() in RCU mode of a full range64 root corrupts slot 15.

    mt_destroy_walk() marks the leaves dead with mte_dead_leaves(), which
    stores bare node pointers (no type bits) in the root's slots; its final
    mt_clear_meta() then no longer sees slot 15 as a node and zeroes the
    metadata bytes that overlap it, and mt_free_walk() frees the corrupted
    pointer.  Catalogued as maple-rcu-destroy-dead-leaves.
    """
    ops = rcu_destroy_bug_ops()
    lines = run_kernel(ops, binary=driver)
    assert parse_line(lines[-3]).tree[0].startswith(f"R{ROOT}|")
    assert lines[-1].startswith("crash ")
    assert "AddressSanitizer" in lines[-1]


def test_model_reproduces_the_rcu_destroy_bug(driver, model):
    ops = rcu_destroy_bug_ops()
    found = first_divergence(ops, binary=driver)
    assert found is not None
    assert found.index == len(ops) - 1
    assert found.both_crashed, found.side_by_side


@pytest.mark.slow
def test_model_matches_kernel_on_erase2_sets(driver, model):
    for trace in load_erase2_sets():
        found = first_divergence(trace.ops, every=16, binary=driver)
        assert found is None, f"{trace.name} {found.describe()}\n{found.side_by_side}"


@pytest.mark.parametrize("flags", [0, 1])
def test_model_matches_kernel_on_random_traces(driver, model, flags):
    for seed in range(3):
        ops = random_trace(seed, 2000, flags=flags)
        result = compare(ops, every=8, binary=driver)
        found = result.divergence
        assert found is None, (f"seed {seed} {found.describe()}\n"
                               f"{found.side_by_side}")


def test_known_rcu_destroy_bug_is_agreement_and_the_trace_goes_on(driver, model):
    """Both sides fail at the destroy; it is rerun outside RCU mode and the
    ops after it are still compared."""
    ops = [*rcu_destroy_bug_ops(), Init(0), Store(5, 9, 1), Validate()]
    result = compare(ops, binary=driver)
    assert result.divergence is None
    [known] = result.known
    assert known.entry.id == "maple-rcu-destroy-dead-leaves"
    assert known.wrapped
    assert isinstance(known.op, Destroy)
    assert "mt_free_walk" in known.kernel
    assert result.ops[known.index:known.index + 3] == [RcuOff(), Destroy(), RcuOn()]
    assert result.compared == len(ops) + 2


@pytest.mark.parametrize("flags", [0, 1])
def test_reference_dump_matches_the_model_dump(model, flags):
    """rcu_harness.oracle.pydump prints what maple.dump.mt_dump_canonical does."""
    from rcu_harness.oracle import pydump
    from rcu_harness.oracle.model import ModelRunner, model_dumper

    runner = ModelRunner(model, model_dumper())
    for op in random_trace(11, 2000, flags=flags):
        runner.line(op, full=False)
        assert pydump.mt_dump_canonical(runner.mt) == runner.dump(runner.mt)


def test_the_destroy_at_the_end_of_the_input_is_compared_too(driver, model):
    """driver.c destroys the tree when its input ends; so does the model, and
    the RCU destroy bug there is agreement: the trace gains a final rcu_off."""
    ops = rcu_destroy_bug_ops()[:-1]
    assert run_kernel(ops, binary=driver)[-1].startswith("crash ")
    result = compare(ops, binary=driver)
    assert result.divergence is None
    [known] = result.known
    assert known.index == len(ops)
    assert known.entry.id == "maple-rcu-destroy-dead-leaves"
    assert result.ops == [*ops, RcuOff()]
