"""Interleaving coverage: reader position x writer operation."""

from types import SimpleNamespace

import greenlet
import pytest

import maple
from maple import MT_FLAGS_USE_RCU, MapleTree, mtree_load, mtree_store_range
from maple.defs import wr_exact_fit
from rcu_harness.kernel import SimStruct
from rcu_harness.memory.coverage import node_level, write_path
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.metrics import collect
from rcu_harness.scenarios import configure, program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.trace.events import EventKind


def _suspended_in(fn):
    """A fake writer thread whose greenlet is suspended inside @fn."""
    main = greenlet.getcurrent()
    g = greenlet.greenlet(lambda: fn(main))
    g.switch()
    return SimpleNamespace(glet=g, spans=[])


def test_the_store_path_on_the_writer_stack_names_the_write():
    def mas_wr_spanning_store(main):
        mas_wr_walk(main)

    def mas_wr_walk(main):
        main.switch()

    def mas_split(main):
        main.switch()

    assert write_path(_suspended_in(mas_wr_spanning_store)) == "wr_spanning_store"
    assert write_path(_suspended_in(mas_split)) == "wr_split_store"


def test_a_writer_inside_mas_wr_store_entry_is_named_by_its_store_type():
    def mas_wr_store_entry(main):
        wr_mas = SimpleNamespace(mas=SimpleNamespace(store_type=wr_exact_fit))
        main.switch()
        return wr_mas

    assert write_path(_suspended_in(mas_wr_store_entry)) == "wr_exact_fit"


def test_a_writer_choosing_its_store_type_is_walking_and_elsewhere_other():
    def mas_wr_walk(main):
        main.switch()

    def idle(main):
        main.switch()

    assert write_path(_suspended_in(mas_wr_walk)) == "walk"
    assert write_path(_suspended_in(idle)) == "other"


class Flags(SimStruct):
    fields = ("writing", "done")


def _tree_program(entries, levels):
    def prog(h):
        flags = h.static(Flags, writing=0, done=0)
        mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port, name="mt")
        with h.unobserved():
            for i in range(entries):
                mtree_store_range(mt, i * 10, i * 10 + 5, i + 1)
        levels.update({addr: node_level(node) for addr, node in h.port.heap.items()
                       if hasattr(node, "slot")})

        def writer():
            with h.span("writer.store"), h.writing(mt, 3, 4, None):
                flags.writing = 1
                while not flags.done:
                    pass

        def reader():
            while not flags.writing:
                pass
            mtree_load(mt, 0)
            flags.done = 1

        h.spawn("writer", writer)
        h.spawn("reader", reader)
        h.at_exit(lambda: maple.mtree_destroy(mt))

    return prog


@pytest.mark.parametrize("entries", [3, 300])
def test_each_reader_load_during_a_write_counts_once_at_its_level(entries):
    strategy = make_strategy("random", 5)
    strategy.new_execution(0)
    levels = {}
    ex = run_execution(_tree_program(entries, levels), strategy, 0, record=1)
    assert ex.violation is None
    reader = next(t.tid for t in ex.threads if t.name == "reader")
    expected = {}
    for _step, tid, kind, addr, word, *_ in ex.events:
        if tid != reader or kind != EventKind.LOAD:
            continue
        if word == "ma_root":
            level = "ma_root"
        elif addr in levels:
            level = levels[addr]
        else:
            continue  # the flags
        key = f"cover.{level}.writer.store.other"
        expected[key] = expected.get(key, 0) + 1
    got = {k: int(v[0]) for k, v in collect(ex).items() if k.startswith("cover.")}
    assert got == expected
    if entries == 300:
        assert {k.split(".")[1] for k in got} == {"ma_root", "root", "internal",
                                                  "leaf"}


def test_a_scenario_records_maple_store_types_in_its_coverage():
    cfg = configure("rcu_transitions", {})
    strategy = make_strategy("random", 3)
    stores = set()
    for i in range(3):
        strategy.new_execution(i)
        ex = run_execution(program(cfg), strategy, i, record=0)
        stores |= {k.rsplit(".", 1)[1] for k in collect(ex) if k.startswith("cover.")}
    assert {s for s in stores if s.startswith("wr_")}
    assert "walk" in stores
