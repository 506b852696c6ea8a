"""Interleaving coverage counted per writer state gives the pairs and counts
of counting every load on its own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from rcu_harness.memory import coverage, maple_node, maple_port, node_words
from rcu_harness.memory.coverage import node_level, reader_load, write_path
from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.metrics import Metrics, collect
from rcu_harness.runtime.thread import SimThread
from rcu_harness.scenarios.catalog import applied, configure, program
from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.sched.registry import make_strategy

_CALLERS = (node_words, maple_node, maple_port)


def _own(table: dict[int, Any], kept: list[Any], metrics: Any) -> Any:
    """@metrics' entry of @table, keyed by id: @kept holds the metrics, so
    that no other metrics takes its id."""
    got = table.get(id(metrics))
    if got is None:
        got = table[id(metrics)] = {}
        kept.append(metrics)
    return got


def _interleaved(metrics: Any, t: Any, node: Any, lock: Any) -> tuple[Any, str]:
    """The writers of the tree @lock guards if @t's load of @node is
    interleaved with their writes (else none), and the load's level."""
    writers = metrics.writers.get(lock) if t.tid > 0 else None
    level = "ma_root" if node is None else node_level(node) if writers else ""
    return writers, level


class PerLoad:
    """The coverage as first defined: at every interleaved load, the
    reader's level, each writer's innermost span and its write path walked
    afresh from its suspended stack, one count per (level, span, path).
    Installed beside the counting under test; every @every-th load it
    also checks the pairs ``metrics.cover`` reads mid-execution."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, every: int = 0) -> None:
        self.pairs: dict[int, dict[tuple[str, str, str], int]] = {}
        self.kept: list[Any] = []
        self.every = every
        self.loads = 0
        self.checked = 0
        for module in _CALLERS:
            monkeypatch.setattr(module, "reader_load", self.load)

    def load(self, metrics: Any, t: Any, node: Any, lock: Any) -> None:
        pairs = _own(self.pairs, self.kept, metrics)
        writers, level = _interleaved(metrics, t, node, lock)
        if writers:
            self.loads += 1
            for w in writers:
                key = (level, w.spans[-1].name if w.spans else "write", write_path(w))
                pairs[key] = pairs.get(key, 0) + 1
        coverage.reader_load(metrics, t, node, lock)
        if self.every and self.loads % self.every == 0:
            self.checked += 1
            assert metrics.cover == pairs

    def of(self, ex: Any) -> dict[tuple[str, str, str], int]:
        """The pairs counted load by load in execution @ex."""
        return self.pairs.get(id(ex.metrics), {})


def _samples(ex: Any) -> dict[str, int]:
    return {k: int(v[0]) for k, v in collect(ex).items() if k.startswith("cover.")}


def _expected(pairs: dict[tuple[str, str, str], int]) -> dict[str, int]:
    return {f"cover.{level}.{span}.{store}": n
            for (level, span, store), n in pairs.items()}


def _run(cfg: Any, strategy: str, executions: int, oracle: PerLoad,
         ) -> list[tuple[dict[str, int], dict[str, int]]]:
    setup = program(cfg)
    with applied(cfg.mutant, cfg.fixes):
        s = make_strategy(strategy, 0, **calibrate(setup, strategy, 0))
        runs = []
        for i in range(executions):
            s.new_execution(i)
            ex = run_execution(setup, s, i, record=0)
            runs.append((_samples(ex), _expected(oracle.of(ex))))
            oracle.pairs.clear()
    return runs


@pytest.mark.parametrize("scenario", ["dup_mmap", "rcu_transitions", "mmput_race"])
@pytest.mark.parametrize("strategy", ["mix", "random"])
def test_each_default_scenario_counts_the_pairs_of_counting_each_load(
        monkeypatch, scenario, strategy):
    oracle = PerLoad(monkeypatch, every=5)
    runs = _run(configure(scenario), strategy, 4, oracle)
    for got, expected in runs:
        assert got == expected
    if scenario != "dup_mmap":  # its 2021 design writes the child's tree only
        assert oracle.loads > 100
        assert oracle.checked > 20
        assert sum(len(got) for got, _ in runs) > 4


@pytest.mark.parametrize("mutant", ["publish-before-fill", "in-place-write-in-rcu",
                                    "gp-ignores-readers"])
def test_a_mutant_s_executions_count_the_same_pairs(monkeypatch, mutant):
    oracle = PerLoad(monkeypatch)
    cfg = configure(MUTANTS[mutant].scenarios[0], mutant=mutant)
    runs = _run(cfg, "random", 6, oracle)
    for got, expected in runs:
        assert got == expected
    assert oracle.loads > 50


def test_pairs_read_after_every_load_are_those_counted_so_far(monkeypatch):
    """Read after each interleaved load, ``metrics.cover`` holds exactly the
    loads so far, over executions whose writers change span and write
    path between a reader's loads."""
    oracle = PerLoad(monkeypatch, every=1)
    runs = _run(configure("rcu_transitions"), "random", 6, oracle)
    spans_paths = set()
    for got, expected in runs:
        assert got == expected
        spans_paths |= {k.split(".", 2)[2] for k in got}
    assert len(spans_paths) > 3


def test_a_writer_without_a_frame_is_counted_under_its_span_of_each_load():
    """A writer with no suspended frame (not started, finished, an OS
    thread) gives no record to keep: each load reads its span afresh."""
    metrics = Metrics()
    lock = object()
    writer, reader = SimThread(1, "writer"), SimThread(2, "reader")
    metrics.writers[lock] = [writer]
    writer.spans.append(SimpleNamespace(name="writer.store"))
    reader_load(metrics, reader, None, lock)
    writer.spans[-1] = SimpleNamespace(name="writer.split")
    reader_load(metrics, reader, None, lock)
    reader_load(metrics, reader, None, lock)
    writer.spans.clear()
    reader_load(metrics, reader, None, lock)
    assert metrics.cover == {("ma_root", "writer.store", "other"): 1,
                             ("ma_root", "writer.split", "other"): 2,
                             ("ma_root", "write", "other"): 1}


def test_a_writer_s_record_is_whole_whenever_another_thread_can_read_it():
    """Under the thread driver another OS thread may read ``w.cover`` at
    any bytecode, so a new record appears with its counts already in it
    (a record published with counts of None made an OS-thread reader's
    load raise TypeError)."""
    seen = []  # the writer's record's counts at each look-up

    class Watched(dict):
        def get(self, key, default=None):
            seen.append("no record" if writer.cover is None else writer.cover[1])
            return super().get(key, default)

        def setdefault(self, key, default=None):
            seen.append("no record" if writer.cover is None else writer.cover[1])
            return super().setdefault(key, default)

    metrics = Metrics()
    metrics.counts = Watched()
    lock = object()
    writer, reader = SimThread(1, "writer"), SimThread(2, "reader")
    metrics.writers[lock] = [writer]
    reader_load(metrics, reader, None, lock)
    writer.spans.append(SimpleNamespace(name="writer.store"))
    reader_load(metrics, reader, None, lock)
    assert seen == ["no record", "no record",  # not out before its counts
                    [1, 0, 0, 0], [1, 0, 0, 0]]  # whole while the next is made
    assert writer.cover[1] == [1, 0, 0, 0]


_CLASSES: dict[Any, tuple[int, str]] = {}


def _class_of(code: Any) -> tuple[int, str]:
    known = _CLASSES.get(code)
    if known is None:
        known = _CLASSES[code] = coverage._classify(code)
    return known


def reference_path(w: Any) -> str:
    """A writer's write path by its definition, from its suspended stack,
    written apart from the coverage's own walks (its classification of a
    code object is the one thing shared): past the harness's frames on
    top, then outward from its innermost model frame, at most
    ``_MAX_FRAMES`` frames: the first store path or mas_wr_store_entry()'s
    store type, else the first phase, else ``other``; a frame of scenario
    code stops the walk."""
    frame = w.glet.gr_frame if w.glet is not None else None
    while frame is not None and _class_of(frame.f_code)[0] == coverage._HARNESS:
        frame = frame.f_back
    phase = ""
    for _ in range(coverage._MAX_FRAMES):
        if frame is None:
            break
        kind, label = _class_of(frame.f_code)
        if kind == coverage._OTHER:
            break
        if kind == coverage._STORE:
            return label
        if kind == coverage._ENTRY:
            return coverage._entry_store_type(frame)
        if kind == coverage._PHASE and not phase:
            phase = label
        frame = frame.f_back
    return phase or "other"


class Reference:
    """Every interleaved load counted on its own with :func:`reference_path`,
    beside the counting under test, as ``metrics.counts`` would hold it:
    (span, write path) -> loads per level."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[int, dict[tuple[str, str], list[int]]] = {}
        self.kept: list[Any] = []  # so that no other metrics takes an id
        self.loads = 0
        for module in _CALLERS:
            monkeypatch.setattr(module, "reader_load", self.load)

    def load(self, metrics: Any, t: Any, node: Any, lock: Any) -> None:
        counts = _own(self.counts, self.kept, metrics)
        writers, level = _interleaved(metrics, t, node, lock)
        if writers:
            self.loads += 1
            for w in writers:
                span = w.spans[-1].name if w.spans else "write"
                per_level = counts.setdefault((span, reference_path(w)), [0, 0, 0, 0])
                per_level[("ma_root", "root", "internal", "leaf").index(level)] += 1
        coverage.reader_load(metrics, t, node, lock)

    def check(self, scenario: str, strategy: str, executions: int,
              mutant: str | None = None) -> list[dict[str, int]]:
        """Run @executions of @scenario; each one's ``metrics.counts`` and
        ``cover.*`` samples must be the reference's.  Returns the samples."""
        cfg = configure(scenario, mutant=mutant)
        setup = program(cfg)
        samples = []
        with applied(cfg.mutant, cfg.fixes):
            s = make_strategy(strategy, 0, **calibrate(setup, strategy, 0))
            for i in range(executions):
                s.new_execution(i)
                ex = run_execution(setup, s, i, record=0)
                expected = self.counts.get(id(ex.metrics), {})
                assert ex.metrics.counts == expected, (scenario, strategy, i)
                got = _samples(ex)
                assert got == {f"cover.{level}.{span}.{path}": n
                               for (span, path), per_level in expected.items()
                               for level, n in zip(
                                   ("ma_root", "root", "internal", "leaf"),
                                   per_level, strict=True) if n}
                samples.append(got)
        return samples


_SCENARIOS = ["dup_mmap", "rcu_transitions", "mmput_race", "page_fault",
              "stack_expand", "tree_destroy"]


@pytest.mark.parametrize("scenario", _SCENARIOS)
@pytest.mark.parametrize("strategy", ["random", "pct", "aimed-data", "mix"])
def test_records_count_what_the_definition_counts_load_by_load(
        monkeypatch, scenario, strategy):
    reference = Reference(monkeypatch)
    reference.check(scenario, strategy, 3)
    if scenario != "dup_mmap":  # its 2021 fork writes the child's tree only
        assert reference.loads > 10


@pytest.mark.parametrize("mutant", ["publish-before-fill", "in-place-write-in-rcu"])
def test_a_mutant_that_replaces_store_paths_counts_what_the_definition_counts(
        monkeypatch, mutant):
    """publish-before-fill replaces mas_wr_node_store() by a variant named
    ``mas_wr_node_store_publish_early`` (mutants.py: ``fn_<suffix>``), whose
    loads count as ``wr_node_store`` (the only mas_wr_node_store() it
    runs); in-place-write-in-rcu rebuilds mas_wr_store_type() and
    mas_wr_slot_store() from their code objects, and makes appends reach
    RCU mode."""
    reference = Reference(monkeypatch)
    samples = reference.check(MUTANTS[mutant].scenarios[0], "random", 6, mutant)
    paths = {key.rsplit(".", 1)[1] for got in samples for key in got}
    assert {"publish-before-fill": "wr_node_store",
            "in-place-write-in-rcu": "wr_append"}[mutant] in paths


def test_a_record_kept_past_its_writer_s_moves_is_caught(monkeypatch):
    """The check fails on a seeded bug: records that, once started, never
    start over (a stale write path and inner frame)."""
    moved = coverage._moved

    def stale(metrics: Any, w: Any, top: Any, i: int) -> None:
        if w.cover is None:
            moved(metrics, w, top, i)
        else:
            w.cover[0] = top
            w.cover[1][i] += 1

    monkeypatch.setattr(coverage, "_moved", stale)
    reference = Reference(monkeypatch)
    with pytest.raises(AssertionError, match="rcu_transitions"):
        reference.check("rcu_transitions", "random", 3)
