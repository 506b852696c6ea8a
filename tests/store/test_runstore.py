"""The run store: atomic batches, de-duplicated findings, 64-bit seeds, errors."""

import json
import sqlite3

import numpy as np
import pytest

from rcu_harness.store import (
    Batch,
    ExecutionRow,
    FindingRow,
    RunStore,
    SampleChunk,
    StoreError,
    chunk_arrays,
)
from rcu_harness.store.samples import to_array


def _row(i, finding=None, seed=7, counters=None):
    return ExecutionRow(i, seed, 10 * i, 1000, finding, counters or {"restart": 1})


def _finding(sig, first=0, count=1):
    return FindingRow(sig, "use-after-free", "KASAN: ...", first, count,
                      f"findings/{sig}.json", f"replay {sig}")


@pytest.fixture
def store(tmp_path):
    s = RunStore.create(tmp_path / "run", {"plan": {"scenario": "x"}})
    yield s
    s.close()


def test_commit_stores_rows_findings_samples_and_meta_together(store):
    chunk = chunk_arrays([(0, {"span.x.steps": np.array([3, 4])}),
                          (1, {"span.x.steps": np.array([5])})])
    new = store.commit(Batch(
        (_row(0, "aa"), _row(1)), ((_finding("aa"), '{"trace": 1}'),),
        SampleChunk("e0-1", 0, 1, 2, chunk), {"wall_seconds": 1.5}))
    assert new == ["aa"]
    assert [r.idx for r in store.executions()] == [0, 1]
    assert store.findings()[0].count == 1
    assert (store.run_dir / "findings" / "aa.json").read_text() == '{"trace": 1}'
    assert store.samples()["span.x.steps@exec"].tolist() == [0, 0, 1]
    assert store.meta()["wall_seconds"] == 1.5


def test_a_known_finding_only_has_its_count_raised(store):
    store.commit(Batch((_row(0, "aa"),), ((_finding("aa"), "first"),)))
    new = store.commit(Batch((_row(5, "aa"), _row(6, "aa")),
                             ((_finding("aa", first=5, count=2), "second"),)))
    assert new == []
    (row,) = store.findings()
    assert (row.first_execution, row.count) == (0, 3)
    assert (store.run_dir / "findings" / "aa.json").read_text() == "first"


def test_a_failing_commit_leaves_nothing_of_its_batch(store):
    bad = ExecutionRow(1, 1, 1, 1, "aa", {"not-json": object()})
    with pytest.raises(TypeError):
        store.commit(Batch((_row(0, "aa"), bad), ((_finding("aa"), "t"),)))
    assert store.executions() == []
    assert store.findings() == []
    assert store.integrity() == "ok"


def test_sixty_four_bit_seeds_round_trip(store):
    big = (1 << 64) - 5
    store.commit(Batch((_row(0, seed=big), _row(1, seed=1 << 63), _row(2, seed=3)),))
    assert [r.seed for r in store.executions()] == [big, 1 << 63, 3]


def test_totals_sum_steps_counters_and_violations(store):
    store.commit(Batch((_row(1, "aa", counters={"a": 2}),
                        _row(2, counters={"a": 1, "b": 4})),
                       ((_finding("aa", 1), "t"),)))
    t = store.totals()
    assert (t.executions, t.steps, t.findings, t.violations) == (2, 30, 1, 1)
    assert dict(t.counters) == {"a": 3, "b": 4}


def test_executions_already_stored_are_kept_not_duplicated(store):
    store.commit(Batch((_row(0),)))
    store.commit(Batch((_row(0, seed=99), _row(1)),))
    assert [(r.idx, r.seed) for r in store.executions()] == [(0, 7), (1, 7)]


def test_open_reads_back_what_create_wrote(store):
    store.commit(Batch((_row(0),), meta={"status": "complete"}))
    again = RunStore.open(store.run_dir)
    assert again.meta()["status"] == "complete"
    assert again.meta()["plan"] == {"scenario": "x"}
    assert again.done() == {0}
    again.close()


def test_open_rejects_what_is_not_a_run(tmp_path):
    with pytest.raises(StoreError, match="not a directory"):
        RunStore.open(tmp_path / "missing")
    with pytest.raises(StoreError, match="not a run directory"):
        RunStore.open(tmp_path)
    (tmp_path / "run.sqlite").write_bytes(b"garbage" * 100)
    with pytest.raises(StoreError, match="not a readable run store"):
        RunStore.open(tmp_path)


def test_open_rejects_another_store_format(tmp_path):
    s = RunStore.create(tmp_path / "run", {})
    s.set_meta("format", 99)
    s.close()
    with pytest.raises(StoreError, match="store format 99"):
        RunStore.open(tmp_path / "run")


def test_create_never_reuses_a_directory(store):
    with pytest.raises(FileExistsError):
        RunStore.create(store.run_dir, {})


def test_counters_are_stored_as_json(store):
    store.commit(Batch((_row(0, counters={"z": 1, "a": 2}),)))
    con = sqlite3.connect(store.run_dir / "run.sqlite")
    (text,) = con.execute("SELECT counters FROM executions").fetchone()
    assert json.loads(text) == {"a": 2, "z": 1}


def test_a_truncated_sample_chunk_is_a_store_error_naming_the_file(tmp_path):
    import numpy as np

    from rcu_harness.store import RunStore, StoreError, chunk_arrays

    store = RunStore.create(tmp_path / "run", {"scenario": "x"})
    store.add_samples("c0", 0, 0, 1, chunk_arrays([(0, {"a": np.arange(1000)})]))
    path = tmp_path / "run" / "samples" / "c0.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoreError, match=r"c0\.npz is missing or corrupt"):
        store.samples()


def test_a_chunk_of_no_executions_has_no_samples():
    assert chunk_arrays([]) == {}


def test_a_name_some_executions_lack_holds_only_the_others_values():
    chunk = chunk_arrays([(4, {"span.walk.steps": [3, 4], "rcu.pipe": [0]}),
                          (5, {"rcu.pipe": [1, 1]}),
                          (6, {"span.walk.steps": [7], "rcu.pipe": []})])
    assert list(chunk) == ["rcu.pipe", "rcu.pipe@exec",
                           "span.walk.steps", "span.walk.steps@exec"]
    assert chunk["span.walk.steps"].tolist() == [3, 4, 7]
    assert chunk["span.walk.steps@exec"].tolist() == [4, 4, 6]
    assert chunk["rcu.pipe"].tolist() == [0, 1, 1]
    assert chunk["rcu.pipe@exec"].tolist() == [4, 5, 5]


def test_chunk_arrays_are_of_each_names_kind_whatever_the_python_numbers():
    chunk = chunk_arrays([(0, {"span.walk.restarts": [1, 0], "value.retval": [0],
                               "span.walk.steps": [2, 3]})])
    assert chunk["span.walk.restarts"].dtype == np.float64
    assert chunk["value.retval"].dtype == np.float64
    assert chunk["span.walk.steps"].dtype == np.int64
    assert chunk["span.walk.steps@exec"].dtype == np.int64


def test_waiting_rows_stay_rows_and_are_owned_row_by_row():
    chunk = chunk_arrays([(0, {"rcu.waiting": []}),
                          (1, {"rcu.waiting": [[3, 1], [5, 0]]}),
                          (2, {"rcu.waiting": []})])
    assert chunk["rcu.waiting"].tolist() == [[3, 1], [5, 0]]
    assert chunk["rcu.waiting@exec"].tolist() == [1, 1]
    none = chunk_arrays([(0, {"rcu.waiting": []}), (1, {"rcu.waiting": []})])
    assert none["rcu.waiting"].shape == (0, 2)
    assert none["rcu.waiting"].dtype == np.int64
    assert none["rcu.waiting@exec"].shape == (0,)


def test_executions_given_as_arrays_make_the_chunk_their_lists_make():
    lists = [(0, {"rcu.waiting": [[3, 1]], "span.w.restarts": [2]}),
             (1, {"rcu.waiting": [], "span.w.restarts": [0, 1]})]
    arrays = [(i, {k: to_array(k, (v,)) for k, v in s.items()}) for i, s in lists]
    mixed = [lists[0], arrays[1]]
    want = chunk_arrays(lists)
    for other in (chunk_arrays(arrays), chunk_arrays(mixed)):
        assert list(other) == list(want)
        for key, arr in want.items():
            assert (other[key].dtype, other[key].shape) == (arr.dtype, arr.shape)
            assert other[key].tolist() == arr.tolist()


def test_arrays_missing_from_some_executions_keep_the_others_dtype():
    chunk = chunk_arrays([(0, {"a": np.array([1, 2], dtype=np.int32)}),
                          (1, {"b": np.array([0.5])})])
    assert chunk["a"].dtype == np.int32
    assert chunk["a@exec"].tolist() == [0, 0]
    assert chunk["b@exec"].tolist() == [1]


def test_samples_in_any_mapping_make_the_chunk_a_dict_of_them_makes():
    from types import MappingProxyType

    samples = {"rcu.pipe": [1, 0], "span.w.steps": [4]}
    got = chunk_arrays([(3, MappingProxyType(samples))])
    want = chunk_arrays([(3, samples)])
    assert list(got) == list(want)
    assert all(got[k].tolist() == want[k].tolist() for k in want)
