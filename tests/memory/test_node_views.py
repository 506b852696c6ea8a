"""Node views: the classes of a node follow its state, and no check is lost.

A node's loads are plain list operations (in C) only where the instrumented
classes would do nothing else: private and live (private view), or not
freed while the execution is quiet (quiet view: setup, mt_validate()).
"""

import pytest

maple = pytest.importorskip("maple")

from maple import (  # noqa: E402
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    MapleTree,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from maple.defs import maple_leaf_64  # noqa: E402
from maple.node import MapleEnode, mt_mk_node  # noqa: E402
from rcu_harness import explore  # noqa: E402
from rcu_harness.checks.defaults import default_checkers  # noqa: E402
from rcu_harness.checks.validate import MtValidateCheck  # noqa: E402
from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock  # noqa: E402
from rcu_harness.memory.heap import FREED  # noqa: E402
from rcu_harness.memory.maple_node import (  # noqa: E402
    QuietWords,
    RawSimMapleNode,
    RawWords,
    SimMapleNode,
    Words,
)

ARRAYS = ("pivot", "slot", "gap")


def view(node):
    """'private', 'quiet' or 'observed' (AssertionError if mixed)."""
    words = {type(getattr(node, a)) for a in ARRAYS}
    assert len(words) == 1, words
    kind = words.pop()
    if type(node) is SimMapleNode:
        assert kind is Words
        return "observed"
    assert type(node) is RawSimMapleNode
    return {RawWords: "private", QuietWords: "quiet"}[kind]


def consistent(node, quiet):
    v = view(node)
    if v == "private":
        return node._w == 0
    if v == "quiet":
        return quiet and not node._w & FREED
    return True


def test_views_follow_publication_free_and_the_end_of_setup():
    seen = {}

    def program(h):
        mt = MapleTree(MT_FLAGS_ALLOC_RANGE, port=h.port)
        for i in range(40):  # splits: nodes replaced and freed during setup
            mtree_store_range(mt, i * 16 + 1, i * 16 + 9, i + 1)
        seen["setup"] = {view(n) for n in h.port.nodes if not n._w & FREED}
        seen["freed_in_setup"] = {view(n) for n in h.port.nodes if n._w & FREED}
        private = h.port.node_alloc(0)
        seen["fresh"] = view(private)

        def writer():
            seen["run"] = {view(n) for n in h.port.nodes if n._w}
            seen["ok_run"] = all(consistent(n, False) for n in h.port.nodes)
            for i in range(5):
                with h.writing(mt, i * 16 + 2, i * 16 + 3, 100 + i):
                    mtree_store_range(mt, i * 16 + 2, i * 16 + 3, 100 + i)
            seen["ok_after"] = all(consistent(n, False) for n in h.port.nodes)
            h.port.node_free(private)
            seen["freed_private"] = view(private)

        h.spawn("writer", writer)
        h.at_exit(lambda: mtree_destroy(mt))

    # mix: under a strategy that watches pending accesses (the random-sync,
    # pct-site, pct-relay and surw executions of aimed-data, the default)
    # every node is a HookedSimMapleNode, with no private or quiet view to follow
    result = explore(program, executions=3, seed=1, strategy="mix")
    assert result.ok, result.findings[0].report
    assert seen["setup"] == {"quiet"}  # published during setup
    assert seen["freed_in_setup"] == {"observed"}
    assert seen["fresh"] == "private"
    assert seen["run"] == {"observed"}  # the end of setup observed them
    assert seen["ok_run"]
    assert seen["ok_after"]
    assert seen["freed_private"] == "observed"


def test_mt_validate_runs_on_the_quiet_view_and_restores_the_observed_one():
    seen = {"during": set(), "ok": []}

    def validate(mt):
        port = mt.port
        seen["during"] |= {view(n) for n in port.nodes if n._w and not n._w & FREED}
        seen["ok"].append(all(consistent(n, True) for n in port.nodes))
        maple.mt_validate(mt)

    def program(h):
        mt = MapleTree(MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU, port=h.port)
        for i in range(30):
            mtree_store_range(mt, i * 16 + 1, i * 16 + 9, i + 1)

        def writer():
            for i in range(4):
                with h.writing(mt, i * 16 + 2, i * 16 + 3, 100 + i):
                    mtree_store_range(mt, i * 16 + 2, i * 16 + 3, 100 + i)
            seen["after"] = {view(n) for n in h.port.nodes if n._w}

        def reader():
            rcu_read_lock()
            mtree_load(mt, 17)
            rcu_read_unlock()

        h.spawn("writer", writer)
        h.spawn("reader", reader)
        h.at_exit(lambda: mtree_destroy(mt))

    checkers = [*default_checkers()[:2], lambda: MtValidateCheck(validate)]
    result = explore(program, executions=4, seed=2, checkers=checkers)
    assert result.ok, result.findings[0].report
    assert seen["during"] == {"quiet"}
    assert seen["ok"]
    assert all(seen["ok"])
    assert seen["after"] == {"observed"}


def test_a_use_after_free_during_setup_is_still_caught():
    def program(h):
        mt = MapleTree(MT_FLAGS_ALLOC_RANGE, port=h.port)
        node = h.port.node_alloc(0)
        node.type = maple_leaf_64
        h.port.root_store(mt, mt_mk_node(node, maple_leaf_64))  # published
        assert type(mt.ma_root) is MapleEnode
        h.port.node_free(node)
        node.slot[0]  # a load of a freed node, in setup
        h.spawn("t", lambda: None)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "use-after-free"
